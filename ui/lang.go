package ui

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// lang is a language the page speaks.
type lang int

const (
	es lang = iota
	en
)

func (l lang) String() string {
	if l == es {
		return "es"
	}
	return "en"
}

func parseLang(s string) (lang, bool) {
	switch s {
	case "es":
		return es, true
	case "en":
		return en, true
	}
	return en, false
}

// langCookie keeps the language chosen on the page.
const langCookie = "pregon_lang"

var langMatcher = language.NewMatcher([]language.Tag{language.English, language.Spanish})

// langOf is the language to answer r in: the one chosen on the page, else
// -lang, else the browser's first of Spanish and English (English when it
// asks for neither).
func (s *Server) langOf(r *http.Request) lang {
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := parseLang(c.Value); ok {
			return l
		}
	}
	if l, ok := parseLang(s.o.Lang); ok {
		return l
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return en
	}
	if _, i, conf := langMatcher.Match(tags...); conf != language.No && i == 1 {
		return es
	}
	return en
}

// t is the text of key in l, with args as fmt places them.
func (l lang) t(key string, args ...any) string {
	pair, ok := texts[key]
	if !ok {
		// TestTextsUsedExist catches a missing key; the values still show.
		return fmt.Sprint(append([]any{key + ":"}, args...)...)
	}
	if len(args) == 0 {
		return pair[l]
	}
	return fmt.Sprintf(pair[l], args...)
}

// tn is key's ".one" text for n = 1, else its ".other", with n (grouped)
// as the first value; a ".one" text without values may leave it out
// ("the row to fix").
func (l lang) tn(key string, n int, args ...any) string {
	if n == 1 {
		key += ".one"
		if pair, ok := texts[key]; ok && len(args) == 0 && !strings.Contains(pair[l], "%") {
			return pair[l]
		}
	} else {
		key += ".other"
	}
	return l.t(key, append([]any{l.num(n)}, args...)...)
}

// num is n with the language's digit grouping: 1.234 or 1,234.
func (l lang) num(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	if l == es {
		sep = "."
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// dec is x with one decimal: 24,9 or 24.9.
func (l lang) dec(x float64) string {
	s := strconv.FormatFloat(x, 'f', 1, 64)
	if l == es {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// pct is n of total as a percentage: 93,5 % or 93.5%.
func (l lang) pct(n, total int) string {
	x := 0.0
	if total > 0 {
		x = 100 * float64(n) / float64(total)
	}
	if l == es {
		return l.dec(x) + " %"
	}
	return l.dec(x) + "%"
}

// dur is d as people write it: 1 h 5 min, 2 min 30 s, 8 s.
func (l lang) dur(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(math.Ceil(d.Seconds())))
	case d < time.Hour:
		d = d.Round(time.Second)
		if s := int(d % time.Minute / time.Second); s > 0 {
			return fmt.Sprintf("%d min %d s", int(d/time.Minute), s)
		}
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// when is t in the machine's zone, to the minute.
func (l lang) when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if l == es {
		return t.Local().Format("02/01/2006 15:04")
	}
	return t.Local().Format("2006-01-02 15:04")
}
