package ui

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pregon/pregon/i18n"
)

// The keys the page makes of a prefix and a value are in the catalogs
// (the catalogs' own test finds the others in the code and templates).
func TestKeysMadeOfValuesExist(t *testing.T) {
	var keys []string
	for _, n := range []string{"prepare", "rehearse", "send", "results"} {
		keys = append(keys, "ui.nav."+n)
	}
	for _, m := range []string{"image", "video", "document", "audio", "file"} {
		keys = append(keys, "ui.preview.media."+m)
	}
	for _, k := range keys {
		if !i18n.Has(k) {
			t.Errorf("%s is not in the catalogs", k)
		}
	}
}

// The page speaks the browser's language, unless -lang or the visitor
// chose another; a browser that names neither gets pregon ui's own.
func TestLanguage(t *testing.T) {
	for _, tc := range []struct {
		name         string
		flag, deflt  i18n.Lang
		accept, pick string
		want         string
	}{
		{"browser in Spanish", "", "", "es-EC,es;q=0.9,en;q=0.8", "", "Preparar una campaña"},
		{"browser in English", "", "", "en-US,en;q=0.9", "", "Prepare a campaign"},
		{"browser in neither", "", "", "pt-BR", "", "Prepare a campaign"},
		{"browser in neither, pregon ui in Spanish", "", i18n.Spanish, "pt-BR", "", "Preparar una campaña"},
		{"-lang over the browser", i18n.Spanish, "", "en-US", "", "Preparar una campaña"},
		{"the visitor's choice over -lang", i18n.Spanish, "", "es", "en", "Prepare a campaign"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := serve(t, Options{Lang: tc.flag, DefaultLang: tc.deflt})
			c := e.client()
			if tc.pick != "" {
				e.post(c, "/lang", map[string][]string{"lang": {tc.pick}, "back": {"/prepare"}})
			}
			req, _ := http.NewRequest(http.MethodGet, e.base+"/prepare", nil)
			req.Header.Set("Accept-Language", tc.accept)
			if _, body := e.do(c, req); !strings.Contains(body, tc.want) {
				t.Errorf("the page lacks %q", tc.want)
			}
		})
	}
}
