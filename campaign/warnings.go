package campaign

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// WarningCode says what a Warning is about.
type WarningCode string

// The warnings a campaign and its rows can have.
const (
	// SingleBrace: the message has {Nombre} where the CSV has a column
	// Nombre; only {{Nombre}} is filled in, so the braces are sent as
	// written.
	SingleBrace WarningCode = "single_brace"
	// FixedLine: the contact's phone number is a fixed line, as
	// libphonenumber types it; WhatsApp needs a mobile.
	FixedLine WarningCode = "fixed_line"
	// CommaInName: a name column the message uses has "Pérez, Ana" (see
	// nameColumnRE and commaName), so the customer reads "Hola Pérez, Ana".
	CommaInName WarningCode = "comma_in_name"
)

// Warning is something that will be sent as it is, but most likely is not
// what was meant. A warning never stops a row or a campaign.
type Warning struct {
	Code   WarningCode
	Line   int    // the row's line; 0 for the campaign's
	Column string // the column, as the header writes it
	Value  string // the cell; for SingleBrace, the braces as written ("{Nombre}")
	Path   string // SingleBrace: where in the message ("message.text")
}

// singleBraceRE finds {name}; a match inside {{…}} is told apart by the
// characters around it (see singleBraces).
var singleBraceRE = regexp.MustCompile(`\{([^{}\n]+)\}`)

// singleBraces finds {column} in the literal text of the message, for
// each column the CSV has.
func singleBraces(t *template, display map[string]string) []Warning {
	var out []Warning
	t.root.walk("message", func(path string, n *node) {
		for _, seg := range n.segs {
			if seg.column != "" {
				continue
			}
			s := seg.text
			for _, m := range singleBraceRE.FindAllStringSubmatchIndex(s, -1) {
				if (m[0] > 0 && s[m[0]-1] == '{') || (m[1] < len(s) && s[m[1]] == '}') {
					continue // {{1}}: WhatsApp's own
				}
				if col, ok := display[NormalizeHeader(s[m[2]:m[3]])]; ok {
					out = append(out, Warning{Code: SingleBrace, Column: col, Value: s[m[0]:m[1]], Path: path})
				}
			}
		}
	})
	return out
}

// nameColumnRE is what makes a column name-like: its name has the word
// nombre(s), apellido(s), name(s) or cliente, alone or joined to others
// by a space, "_" or "-" ("Nombre", "nombre_completo", "first name",
// "Cliente"). Only such columns that the message uses are looked at.
var nameColumnRE = regexp.MustCompile(`(^|[^\pL])(nombres?|apellidos?|names?|cliente)($|[^\pL])`)

// commaName reports whether a name cell reads "Apellido, Nombre": one
// comma, and on each side one to four words that look like a name's
// (see nameWords). Greeting such a customer "Hola {{Nombre}}" reads "Hola
// Pérez, Ana". A list ("Ana, Eva y Luis, juntos") has more than one
// comma; a nickname or a remark ("José, el de siempre") is not all names.
func commaName(cell string) bool {
	before, after, ok := strings.Cut(cell, ",")
	return ok && !strings.Contains(after, ",") && nameWords(before) && nameWords(after)
}

// nameWords reports whether s is one to four words of a person's name:
// each a capitalized run of letters (with ' - . inside, as in O'Neil,
// Ruiz-Tagle or M.), or a particle of a surname (de, del, la, las, los,
// y, da, van, von).
func nameWords(s string) bool {
	words := strings.Fields(s)
	if len(words) == 0 || len(words) > 4 {
		return false
	}
	for _, w := range words {
		switch strings.ToLower(w) {
		case "de", "del", "la", "las", "los", "y", "da", "van", "von":
			continue
		}
		first, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(first) || strings.IndexFunc(w, func(r rune) bool {
			return !unicode.IsLetter(r) && !strings.ContainsRune("'’-.", r)
		}) >= 0 {
			return false
		}
	}
	return true
}

// nameColumns are the columns the message uses that are name-like.
func nameColumns(t *template) []string {
	var out []string
	for _, col := range t.columns {
		if nameColumnRE.MatchString(col) {
			out = append(out, col)
		}
	}
	return out
}
