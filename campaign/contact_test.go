package campaign

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// unaddressable is how ErrUnaddressable reads after the character it names.
const unaddressable = ` and cannot be put in the API's URL: use the phone or id column for this contact instead`

// An e-mail becomes part of the API's path. One with a character that a
// router in front of the API decodes or splits on would stop the run at
// that contact, so it is refused when the file is read, naming the
// character; every other address is sent as it is today.
func TestEmailIdentifiers(t *testing.T) {
	tests := []struct {
		name, cell    string
		contact, path string // when the address is kept
		err           string // when it is refused
	}{
		{name: "plus tag", cell: "ana+promo@example.com",
			contact: "email:ana+promo@example.com", path: "/v2/contact/email:ana+promo@example.com/message"},
		{name: "dots", cell: "ana.maria.lopez@correo.example.com.ec",
			contact: "email:ana.maria.lopez@correo.example.com.ec", path: "/v2/contact/email:ana.maria.lopez@correo.example.com.ec/message"},
		{name: "case and spaces around", cell: "  Ana.Lopez+X@Example.COM ",
			contact: "email:ana.lopez+x@example.com", path: "/v2/contact/email:ana.lopez+x@example.com/message"},
		{name: "hyphen and underscore", cell: "ana_lopez-v@mi-empresa.com",
			contact: "email:ana_lopez-v@mi-empresa.com", path: "/v2/contact/email:ana_lopez-v@mi-empresa.com/message"},
		{name: "apostrophe", cell: "o'neil@example.com",
			contact: "email:o'neil@example.com", path: "/v2/contact/email:o%27neil@example.com/message"},
		{name: "accented local part", cell: "josé@example.com",
			contact: "email:josé@example.com", path: "/v2/contact/email:jos%C3%A9@example.com/message"},
		{name: "accented domain", cell: "ana@ñandú.ec",
			contact: "email:ana@ñandú.ec", path: "/v2/contact/email:ana@%C3%B1and%C3%BA.ec/message"},

		{name: "slash", cell: "ana/ventas@example.com", err: `has "/"` + unaddressable},
		{name: "slash in the domain", cell: "ana@example.com/x", err: `has "/"` + unaddressable},
		{name: "question mark", cell: "ana?x=1@example.com", err: `has "?"` + unaddressable},
		{name: "hash", cell: "ana#2@example.com", err: `has "#"` + unaddressable},
		{name: "percent", cell: "ana%ventas@example.com", err: `has "%"` + unaddressable},
		{name: "percent-encoded slash", cell: "ana%2Fventas@example.com", err: `has "%"` + unaddressable},
		{name: "no-break space inside", cell: "ana\u00a0lopez@example.com", err: `has "\u00a0"` + unaddressable},
		{name: "zero-width space at the end", cell: "ana@example.com\u200b", err: `has "\u200b"` + unaddressable},
		{name: "right-to-left override", cell: "ana\u202e@example.com", err: `has "\u202e"` + unaddressable},
		{name: "fullwidth slash", cell: "ana／ventas@example.com", err: `has "／"` + unaddressable},
		// The address grammar refuses these before the path rule is asked.
		{name: "backslash", cell: `ana\ventas@example.com`, err: "is not an e-mail address"},
		{name: "space inside", cell: "ana lopez@example.com", err: "is not an e-mail address"},
		{name: "control character", cell: "ana\x01@example.com", err: "is not an e-mail address"},
		{name: "quoted slash", cell: `"ana/ventas"@example.com`, err: "is not an e-mail address"},
	}
	identify := mustParse(t, `{"name":"x","api":"v2","message":{"type":"text","text":"hola"}}`).identifier("email")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			contact, path, _, err := identify(tt.cell)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v\nwant %s", err, tt.err)
				}
				if want := strings.HasSuffix(tt.err, unaddressable); errors.Is(err, ErrUnaddressable) != want {
					t.Errorf("errors.Is(err, ErrUnaddressable) = %t, want %t", !want, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if contact != tt.contact || path != tt.path {
				t.Errorf("got %s %s\nwant %s %s", contact, path, tt.contact, tt.path)
			}
		})
	}
}

// A row whose e-mail the API cannot address is invalid, at its place in
// the file; the rows around it are sent.
func TestUnaddressableEmailRowIsInvalid(t *testing.T) {
	c := mustParse(t, `{"name":"x","api":"v2","message":{"type":"email","text":"Hola {{nombre}}"}}`)
	csv := writeFile(t, "clientes.csv", "Email,nombre\nana+promo@example.com,Ana\nluis/ventas@example.com,Luis\neva.diaz@example.com,Eva\n")
	msgs := readAll(t, c, csv)
	if len(msgs) != 3 {
		t.Fatalf("got %d rows, want 3", len(msgs))
	}
	for _, ok := range []struct {
		i    int
		path string
	}{{0, "/v2/contact/email:ana+promo@example.com/message"}, {2, "/v2/contact/email:eva.diaz@example.com/message"}} {
		if m := msgs[ok.i]; m.Problem != nil || m.Path != ok.path {
			t.Errorf("line %d: path %q, problem %v; want %s", m.Line, m.Path, m.Problem, ok.path)
		}
	}
	p := msgs[1].Problem
	want := `clientes.csv:3: column "Email": "luis/ventas@example.com" has "/"` + unaddressable
	if p == nil || p.Error() != want {
		t.Fatalf("problem = %v\nwant %s", p, want)
	}
	if p.File != "clientes.csv" || p.Line != 3 || p.Column != "Email" || p.Value != "luis/ventas@example.com" {
		t.Errorf("problem at %s:%d column %q value %q", p.File, p.Line, p.Column, p.Value)
	}
	if !errors.Is(p, ErrUnaddressable) {
		t.Errorf("errors.Is(problem, ErrUnaddressable) = false")
	}
	if msgs[1].Path != "" || msgs[1].Payload != nil {
		t.Errorf("the invalid row has a request: %q %s", msgs[1].Path, msgs[1].Payload)
	}
}

// Non-ASCII letters, marks and digits are kept in an e-mail because none
// of them turns into a character a router splits on under NFKC, the
// normalization some stacks apply to a decoded path.
func TestKeptRunesDoNotFoldToRefused(t *testing.T) {
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		if unsafeInPath(r) {
			continue
		}
		for _, s := range []string{string(r), strings.ToLower(string(r))} {
			if folded := norm.NFKC.String(s); strings.ContainsAny(folded, `/\?#%`) {
				t.Errorf("%U %q is kept but folds to %q", r, s, folded)
			}
		}
	}
}

// Viber channels take the Base64 of the contact id as the path segment.
// Base64 encodes each 3 bytes on their own, so every 1- to 3-digit group
// covers every decimal id: none holds "+" or "/", and the segment needs no
// escaping, so what is sent is the Base64 the API asks for.
func TestViberSegmentsNeedNoEscaping(t *testing.T) {
	var groups []string
	for digits, count := range []int{1: 10, 2: 100, 3: 1000} {
		for n := range count {
			groups = append(groups, fmt.Sprintf("%0*d", digits, n))
		}
	}
	for _, g := range groups {
		seg := base64.StdEncoding.EncodeToString([]byte(g))
		if strings.ContainsAny(seg, "+/") || url.PathEscape(seg) != seg {
			t.Errorf("%s: Base64 %s, escaped %s", g, seg, url.PathEscape(seg))
		}
	}

	identify := mustParse(t, `{"name":"x","api":"v1","channel":"viber","message":{"type":"text","text":"hola"}}`).identifier("id")
	for _, tt := range []struct{ cell, path string }{
		{"1", "/v1/message/sendContent/MQ=="},
		{"99", "/v1/message/sendContent/OTk="},
		{"0012345", "/v1/message/sendContent/MTIzNDU="},
		{"1000000", "/v1/message/sendContent/MTAwMDAwMA=="},
		{"9223372036854775807", "/v1/message/sendContent/OTIyMzM3MjAzNjg1NDc3NTgwNw=="},
	} {
		if _, path, _, err := identify(tt.cell); err != nil || path != tt.path {
			t.Errorf("%s: path %s, err %v; want %s", tt.cell, path, err, tt.path)
		}
	}
}
