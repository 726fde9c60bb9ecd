package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"
)

func TestChoose(t *testing.T) {
	tests := []struct {
		name string
		flag string
		env  map[string]string
		want string
	}{
		{"nothing set", "", nil, "en"},
		{"LANG Ecuador", "", map[string]string{"LANG": "es_EC.UTF-8"}, "es-EC"},
		{"LANG Spanish alone", "", map[string]string{"LANG": "es"}, "es"},
		{"LANG Mexico", "", map[string]string{"LANG": "es_MX.utf8"}, "es-MX"},
		{"LANG English", "", map[string]string{"LANG": "en_US.UTF-8"}, "en"},
		{"LANG other language", "", map[string]string{"LANG": "pt_BR.UTF-8"}, "en"},
		{"LC_ALL=C over LANG", "", map[string]string{"LC_ALL": "C", "LANG": "es_EC.UTF-8"}, "en"},
		{"LC_MESSAGES over LANG", "", map[string]string{"LC_MESSAGES": "es_CO.UTF-8", "LANG": "en_US.UTF-8"}, "es-CO"},
		{"LC_ALL over LC_MESSAGES", "", map[string]string{"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "es_CO.UTF-8"}, "en"},
		{"PREGON_LANG over the locale", "", map[string]string{"PREGON_LANG": "es", "LC_ALL": "en_US.UTF-8"}, "es"},
		{"PREGON_LANG English over a Spanish locale", "", map[string]string{"PREGON_LANG": "en", "LANG": "es_EC.UTF-8"}, "en"},
		{"flag over PREGON_LANG", "es", map[string]string{"PREGON_LANG": "en"}, "es"},
		{"flag English", "en", map[string]string{"LANG": "es_EC.UTF-8"}, "en"},
		{"flag with region", "es-EC", nil, "es-EC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tag, err := Choose(tt.flag, func(k string) string { return tt.env[k] })
			if err != nil || tag.String() != tt.want {
				t.Errorf("Choose = %v, %v; want %s", tag, err, tt.want)
			}
		})
	}
	if _, err := Choose("fr", func(string) string { return "" }); err == nil {
		t.Error("-lang fr was accepted")
	}
}

func TestFormats(t *testing.T) {
	es, en, mx := For(Spanish), For(English), New(language.MustParse("es-MX"))
	d := time.Date(2026, 11, 21, 1, 5, 0, 0, time.Local)
	for _, c := range []struct{ got, want string }{
		{es.Int(1234), "1.234"}, {en.Int(1234), "1,234"}, {mx.Int(1234), "1,234"},
		{es.Percent(0, 0), "0,0 %"}, {es.Percent(1, 3), "33,3 %"}, {en.Percent(1, 3), "33.3%"},
		{es.Float(24.93), "24,9"}, {en.Float(24.93), "24.9"},
		{es.DateTime(d), "21/11/2026 01:05"}, {en.DateTime(d), "2026-11-21 01:05"},
		{es.Duration(6 * time.Hour), "6 h"}, {es.Duration(6*time.Hour + 5*time.Minute), "6 h 5 min"},
		{es.Duration(90 * time.Second), "1 min 30 s"}, {es.Duration(400 * time.Millisecond), "0,4 s"},
		{en.Duration(400 * time.Millisecond), "0.4 s"}, {es.Duration(42 * time.Second), "42 s"},
		{es.List([]string{"a", "b", "c"}), "a, b y c"}, {en.List([]string{"a", "b"}), "a and b"},
		{mx.T("format.and"), "y"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// verbs are the values a message uses, as "index:verb" (%[2]d is
// "2:d"; a verb without an index takes the next value).
var verbRE = regexp.MustCompile(`%(\[(\d+)\])?[-+# 0]*\d*(\.\d+)?([a-zA-Z%])`)

func verbs(texts []string) []string {
	set := map[string]bool{}
	for _, text := range texts {
		next := 1
		for _, m := range verbRE.FindAllStringSubmatch(text, -1) {
			if m[4] == "%" {
				continue
			}
			i := next
			if m[2] != "" {
				i, _ = strconv.Atoi(m[2])
			}
			next = i + 1
			verb := m[4]
			if verb == "v" || verb == "s" || verb == "q" {
				verb = "s" // the same value may be shown quoted in one language
			}
			set[strconv.Itoa(i)+":"+verb] = true
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// Every message is in both languages, and uses the same values in both:
// a value one translation forgot, or shows as a number where the other
// shows a word, is a message missing its meaning.
func TestCatalogsHaveTheSameKeys(t *testing.T) {
	en, es := entries[English], entries[Spanish]
	for key := range en {
		if _, ok := es[key]; !ok {
			t.Errorf("%s has no Spanish text (catalog/es.json)", key)
		}
	}
	for key := range es {
		if _, ok := en[key]; !ok {
			t.Errorf("%s has no English text (catalog/en.json)", key)
		}
	}
	for key, e := range en {
		s, ok := es[key]
		if !ok {
			continue
		}
		if ve, vs := verbs(e.texts()), verbs(s.texts()); !slices.Equal(ve, vs) {
			t.Errorf("%s: English uses values %v, Spanish %v", key, ve, vs)
		}
		if (e.Forms == nil) != (s.Forms == nil) {
			t.Errorf("%s: a plural choice in one language only", key)
		}
	}
}

// A plural choice picks by the number, in each language's own rules.
func TestPlurals(t *testing.T) {
	es, en := For(Spanish), For(English)
	for _, c := range []struct{ got, want string }{
		{es.T("log.read.duplicate", 1), "1 duplicada"}, {es.T("log.read.duplicate", 1234), "1.234 duplicadas"},
		{en.T("log.read.duplicate", 1), "1 duplicate"}, {en.T("log.read.duplicate", 0), "0 duplicates"},
		// Choices inside a sentence, each by its own number.
		{es.T("summary.run", 1, 2, 0, 1, "1 s", "1,0"), "En este envío: 1 enviado, 2 fallidos, 0 en duda; 1 solicitud en 1 s (1,0 por segundo)."},
		{en.T("summary.run", 1, 2, 0, 3, "1 s", "1.0"), "This run: 1 sent, 2 failed, 0 unknown; 3 requests in 1 s (1.0 per second)."},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// templateKeyRE finds {{T "key" …}} in a template.
var templateKeyRE = regexp.MustCompile(`\{\{\s*T\s+"([^"]+)"`)

// Every message key written in the code (p.T("key", …), i18n.K("key"),
// main's say("key", …), a template's {{T "key" …}}) is in the catalogs: a
// key with a typo would show the reader the key.
func TestKeysUsedInCodeExist(t *testing.T) {
	root := ".."
	fset := token.NewFileSet()
	found := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".tmpl") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range templateKeyRE.FindAllStringSubmatch(string(b), -1) {
				found++
				if !Has(m[1]) {
					t.Errorf("%s: key %q is not in the catalogs", path, m[1])
				}
			}
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			var name string
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				name = fn.Sel.Name
			case *ast.Ident:
				name = fn.Name
			}
			if name != "T" && name != "K" && name != "say" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			key, _ := strconv.Unquote(lit.Value)
			found++
			if !Has(key) {
				t.Errorf("%s: key %q is not in the catalogs", fset.Position(lit.Pos()), key)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Error("no message keys found in the code: the scan is broken")
	}
}
