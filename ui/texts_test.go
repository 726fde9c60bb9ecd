package ui

import (
	"io/fs"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/engine"
)

// Every text the page uses is there in Spanish and in English, with the
// same values in both.
func TestTextsUsedExist(t *testing.T) {
	used := map[string]bool{}
	direct := regexp.MustCompile(`\btn? "([a-z_.]+)"`)
	fs.WalkDir(assets, "assets/templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(assets, path)
		for _, m := range direct.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return nil
	})
	inCode := regexp.MustCompile(`\.tn?\("([a-z_.]+)"[,)]`)
	files, _ := os.ReadDir(".")
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		b, _ := os.ReadFile(f.Name())
		for _, m := range inCode.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	// Keys made of a prefix and a value.
	for _, p := range []phase{starting, sending, stopping, ended} {
		used["live.phase."+string(p)] = true
	}
	for _, n := range []string{"prepare", "rehearse", "send", "results"} {
		used["nav."+n] = true
	}
	for _, c := range []engine.TemplateCheck{engine.TemplateChecked, engine.TemplateNoToken, engine.TemplateNoAddress,
		engine.TemplateExample, engine.TemplateUnreadable, engine.TemplateNotListed} {
		used["template."+string(c)] = true
	}
	for _, c := range []campaign.WarningCode{campaign.SingleBrace, campaign.FixedLine, campaign.CommaInName} {
		used["warning."+string(c)] = true
	}
	for _, s := range campaign.States {
		used["state."+string(s)] = true
	}
	for _, e := range []engine.EndedBy{engine.Finished, engine.Interrupted, engine.Deadline, engine.NotAfter,
		engine.TokenRejected, engine.WrongAddress, engine.Unreachable, engine.Broken} {
		used["ended."+strings.ReplaceAll(string(e), " ", "_")] = true
	}
	for _, m := range []string{"image", "video", "document", "audio", "file"} {
		used["preview.media."+m] = true
	}
	if len(used) < 100 {
		t.Fatalf("found only %d keys in use: the search is broken", len(used))
	}
	plural := map[string]bool{}
	for key := range texts {
		if base, ok := strings.CutSuffix(key, ".one"); ok {
			plural[base] = true
		}
	}
	for key := range used {
		if plural[key] {
			for _, form := range []string{".one", ".other"} {
				if _, ok := texts[key+form]; !ok {
					t.Errorf("text %q is used and has no %q", key, form)
				}
			}
		} else if _, ok := texts[key]; !ok {
			t.Errorf("text %q is used and missing", key)
		}
	}
	verbs := regexp.MustCompile(`%(\[\d\])?[sdv]`)
	for key, pair := range texts {
		if pair[es] == "" || pair[en] == "" {
			t.Errorf("text %q is missing in a language: %q", key, pair)
		}
		if a, b := len(verbs.FindAllString(pair[es], -1)), len(verbs.FindAllString(pair[en], -1)); a != b && !strings.HasSuffix(key, ".one") {
			t.Errorf("text %q has %d values in Spanish and %d in English", key, a, b)
		}
	}
}

// The page speaks the browser's language, unless -lang or the visitor
// chose another.
func TestLanguage(t *testing.T) {
	for _, tc := range []struct {
		name, flag, accept, cookie string
		want                       string
	}{
		{"browser in Spanish", "", "es-EC,es;q=0.9,en;q=0.8", "", "Preparar una campaña"},
		{"browser in English", "", "en-US,en;q=0.9", "", "Prepare a campaign"},
		{"browser in neither", "", "pt-BR", "", "Prepare a campaign"},
		{"-lang over the browser", "es", "en-US", "", "Preparar una campaña"},
		{"the visitor's choice over -lang", "es", "es", "en", "Prepare a campaign"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := serve(t, Options{Lang: tc.flag})
			c := e.client()
			if tc.cookie != "" {
				e.post(c, "/lang", map[string][]string{"lang": {tc.cookie}, "back": {"/prepare"}})
			}
			req, _ := http.NewRequest(http.MethodGet, e.base+"/prepare", nil)
			req.Header.Set("Accept-Language", tc.accept)
			if _, body := e.do(c, req); !strings.Contains(body, tc.want) {
				t.Errorf("the page lacks %q", tc.want)
			}
		})
	}
}
