package i18n

import (
	"fmt"
	"math"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Printer writes pregon's messages in one language.
type Printer struct {
	tag  language.Tag
	lang Lang
	p    *message.Printer
}

// New returns a Printer for a tag Choose returned.
func New(tag language.Tag) *Printer {
	return &Printer{tag: tag, lang: LangOf(tag), p: message.NewPrinter(tag, message.Catalog(builder))}
}

// For returns a Printer for a language, with its usual number format.
func For(lang Lang) *Printer { return New(language.Make(string(lang))) }

// Lang is the printer's language.
func (p *Printer) Lang() Lang { return p.lang }

// T is the message key with its values, as a sentence in the printer's
// language. Integers are written with the language's digit grouping
// (Spanish: 1.234); a value that must keep its digits as they are (a
// line number inside file:line, an HTTP status) goes in as a string.
func (p *Printer) T(key string, args ...any) string {
	if !Has(key) {
		// A key the catalogs lack is a mistake TestKeysUsedInCodeExist
		// catches; the values still reach the reader.
		return fmt.Sprint(append([]any{key + ":"}, args...)...)
	}
	return p.p.Sprintf(key, args...)
}

// K marks a message key kept in a table, so that TestKeysUsedInCodeExist
// finds it; it returns the key unchanged.
func K(key string) string { return key }

// Int is n with the language's digit grouping: 1.234 or 1,234.
func (p *Printer) Int(n int) string { return p.p.Sprintf("%d", n) }

// Float is x with one decimal: 24,9 or 24.9.
func (p *Printer) Float(x float64) string { return p.p.Sprintf("%.1f", x) }

// Number is x as a whole number when it is one (25), else with one
// decimal (12,5).
func (p *Printer) Number(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return p.Int(int(x))
	}
	return p.Float(x)
}

// Percent is n of total as a percentage with one decimal: 0,5 % or 0.5%.
func (p *Printer) Percent(n, total int) string {
	var x float64
	if total > 0 {
		x = 100 * float64(n) / float64(total)
	}
	return p.T("format.percent", x)
}

// DateTime is t in the machine's zone, to the minute.
func (p *Printer) DateTime(t time.Time) string { return t.Local().Format(p.T("format.datetime")) }

// Date is t's day in the machine's zone.
func (p *Printer) Date(t time.Time) string { return t.Local().Format(p.T("format.date")) }

// Clock is t's time of day in the machine's zone, to the second.
func (p *Printer) Clock(t time.Time) string { return t.Local().Format("15:04:05") }

// Duration is d as people write it: 6 h 5 min, 1 min 30 s, 0,4 s.
func (p *Printer) Duration(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return p.p.Sprintf("%.1f s", math.Round(d.Seconds()*10)/10)
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Round(time.Second).Seconds()))
	case d < time.Hour:
		d = d.Round(time.Second)
		m, s := int(d/time.Minute), int(d%time.Minute/time.Second)
		if s == 0 {
			return fmt.Sprintf("%d min", m)
		}
		return fmt.Sprintf("%d min %d s", m, s)
	}
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	if m == 0 {
		return p.p.Sprintf("%d h", h)
	}
	return p.p.Sprintf("%d h %d min", h, m)
}

// List joins words as a sentence does: "a, b y c" or "a, b and c".
func (p *Printer) List(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + p.T("format.and") + " " + words[len(words)-1]
}
