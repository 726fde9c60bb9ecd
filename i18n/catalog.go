package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message/catalog"
)

// The catalogs, one file per language. A message is a string in the
// syntax of fmt (with %[n]s to reorder values), or an object:
//
//	{"arg": 1, "one": "%[1]d fila inválida", "other": "%[1]d filas inválidas"}
//
// chooses by the plural form of value arg (1 when left out): CLDR's
// "one", "other" (and "many" where a language has it), or an exact
// "=0". An object with "text" and "vars" names such choices to use
// inside one sentence as ${name}:
//
//	{"text": "${runs} en curso", "vars": {"runs": {"one": "una ejecución", "other": "%[1]d ejecuciones"}}}
//
//go:embed catalog/*.json
var catalogFS embed.FS

// entry is one message as a catalog file writes it.
type entry struct {
	Text  string            // a plain message, or the sentence around Vars
	Arg   int               // the value whose plural form chooses among Forms
	Forms map[string]string // plural form → message
	Vars  map[string]*entry // ${name} → a choice
}

func (e *entry) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &e.Text)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	e.Arg = 1
	for k, v := range raw {
		var err error
		switch k {
		case "text":
			err = json.Unmarshal(v, &e.Text)
		case "arg":
			err = json.Unmarshal(v, &e.Arg)
		case "vars":
			err = json.Unmarshal(v, &e.Vars)
		default:
			if !validForm(k) {
				return fmt.Errorf("%q is neither text, arg, vars nor a plural form (one, other, many, =0…)", k)
			}
			if e.Forms == nil {
				e.Forms = map[string]string{}
			}
			var s string
			err = json.Unmarshal(v, &s)
			e.Forms[k] = s
		}
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	switch {
	case e.Forms != nil && e.Forms["other"] == "":
		return fmt.Errorf(`a plural choice needs "other"`)
	case e.Forms != nil && (e.Text != "" || e.Vars != nil):
		return fmt.Errorf(`a message is a plural choice or a text with vars, not both`)
	case e.Vars != nil && e.Text == "":
		return fmt.Errorf(`vars need a "text" that uses them`)
	}
	return nil
}

var formOrder = []string{"zero", "one", "two", "few", "many", "other"}

func validForm(k string) bool {
	return slices.Contains(formOrder, k) || strings.HasPrefix(k, "=")
}

// texts are every string of the entry: its text and every form.
func (e *entry) texts() []string {
	out := []string{}
	if e.Text != "" {
		out = append(out, e.Text)
	}
	for _, f := range e.sortedForms() {
		out = append(out, e.Forms[f])
	}
	for _, name := range sortedKeys(e.Vars) {
		out = append(out, e.Vars[name].texts()...)
	}
	return out
}

// sortedForms are the entry's forms as plural.Selectf tries them: exact
// values first, then CLDR's forms, "other" last.
func (e *entry) sortedForms() []string {
	var exact, named []string
	for f := range e.Forms {
		if strings.HasPrefix(f, "=") {
			exact = append(exact, f)
		} else {
			named = append(named, f)
		}
	}
	sort.Strings(exact)
	slices.SortFunc(named, func(a, b string) int { return slices.Index(formOrder, a) - slices.Index(formOrder, b) })
	return append(exact, named...)
}

func (e *entry) selectf() catalog.Message {
	var cases []any
	for _, f := range e.sortedForms() {
		cases = append(cases, f, e.Forms[f])
	}
	return plural.Selectf(e.Arg, "%d", cases...)
}

// messages is the entry as x/text's catalog takes it.
func (e *entry) messages() []catalog.Message {
	if e.Forms != nil {
		return []catalog.Message{e.selectf()}
	}
	var out []catalog.Message
	for _, name := range sortedKeys(e.Vars) {
		out = append(out, catalog.Var(name, e.Vars[name].selectf()))
	}
	return append(out, catalog.String(e.Text))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// loadCatalogs reads every catalog file. A broken file is a build
// mistake that every test catches, hence the panic in catalogs.
func loadCatalogs() (map[Lang]map[string]*entry, error) {
	out := map[Lang]map[string]*entry{}
	for _, lang := range []Lang{English, Spanish} {
		b, err := catalogFS.ReadFile("catalog/" + string(lang) + ".json")
		if err != nil {
			return nil, err
		}
		var entries map[string]*entry
		if err := json.Unmarshal(b, &entries); err != nil {
			return nil, fmt.Errorf("catalog/%s.json: %w", lang, err)
		}
		out[lang] = entries
	}
	return out, nil
}

var entries, builder = func() (map[Lang]map[string]*entry, *catalog.Builder) {
	all, err := loadCatalogs()
	if err != nil {
		panic(err)
	}
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for lang, entries := range all {
		tag := language.Make(string(lang))
		for key, e := range entries {
			if err := b.Set(tag, key, e.messages()...); err != nil {
				panic(fmt.Sprintf("catalog/%s.json: %s: %v", lang, key, err))
			}
		}
	}
	return all, b
}()

// Has reports whether the catalogs have a message for key.
func Has(key string) bool {
	_, ok := entries[English][key]
	return ok
}
