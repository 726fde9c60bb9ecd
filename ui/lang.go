package ui

import (
	"net/http"

	"golang.org/x/text/language"

	"github.com/pregon/pregon/i18n"
)

// langCookie keeps the language chosen on the page.
const langCookie = "pregon_lang"

// printer is the language to answer r in: the one chosen on the page,
// else -lang, else the browser's first of Spanish and English (with its
// region's numbers), else the language pregon ui itself speaks.
func (s *Server) printer(r *http.Request) *i18n.Printer {
	if c, err := r.Cookie(langCookie); err == nil {
		if l := i18n.Lang(c.Value); l == i18n.Spanish || l == i18n.English {
			return i18n.For(l)
		}
	}
	if s.o.Lang != "" {
		return i18n.For(s.o.Lang)
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	for _, tag := range tags {
		switch base, _ := tag.Base(); base.String() {
		case "es":
			return i18n.New(tag)
		case "en":
			return i18n.For(i18n.English)
		}
	}
	if s.o.DefaultLang != "" {
		return i18n.For(s.o.DefaultLang)
	}
	return i18n.For(i18n.English)
}
