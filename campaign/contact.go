package campaign

import (
	"encoding/base64"
	"errors"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"
)

// identify turns a contact cell into the contact's identity (what makes two
// rows the same person) and the API path its message is posted to;
// fixedLine says the contact is a phone number that is a fixed line.
type identify func(cell string) (identity, path string, fixedLine bool, err error)

// contactColumn picks the column that identifies contacts: the one the
// campaign names, else contact_id (v1), else phone, email or id (v2).
func (c *Campaign) contactColumn(has func(string) bool) (column, kind string, err error) {
	if c.Contact.Column != "" {
		col := NormalizeHeader(c.Contact.Column)
		if !has(col) {
			return "", "", reasonf(ContactColumnAbsent, "the contact column %q named in the campaign is not in the CSV header", c.Contact.Column)
		}
		kind := c.Contact.Type
		if kind == "" {
			kind = guessKind(col, c.API)
		}
		return col, kind, nil
	}
	if c.API == "v1" {
		if has("contact_id") {
			return "contact_id", "id", nil
		}
		return "", "", reasonf(NoContactIDColumn, `no "contact_id" column: v1 needs the contact ids in a column of that name, or "contact": {"column": "…"} in the campaign`)
	}
	for _, col := range []string{"phone", "email", "id"} {
		if has(col) {
			return col, col, nil
		}
	}
	return "", "", reasonf(NoContactColumn, `no contact column: v2 reads "phone", "email" or "id", or the column named by "contact": {"column": "…", "type": "phone"} in the campaign`)
}

func guessKind(column, api string) string {
	if api == "v1" {
		return "id"
	}
	switch {
	case strings.Contains(column, "mail") || strings.Contains(column, "correo"):
		return "email"
	case column == "id" || strings.HasSuffix(column, "_id"):
		return "id"
	}
	return "phone"
}

// PathPattern is the API path every message of the campaign is posted
// to, with "{contact}" where each contact's goes.
func (c *Campaign) PathPattern() string {
	if c.API == "v1" {
		return "/v1/message/sendContent/{contact}"
	}
	return "/v2/contact/{contact}/message"
}

func (c *Campaign) identifier(kind string) identify {
	if c.API == "v1" {
		viber := c.Channel == "viber"
		return func(cell string) (string, string, bool, error) {
			id, err := positiveInt(cell)
			if err != nil {
				return "", "", false, err
			}
			seg := id
			// The API wants the Base64 of the id as the segment. Base64 of
			// a decimal id never holds "+" or "/" (62 and 63): its bytes
			// are the digits 0x30-0x39, so no 6-bit group exceeds 57 ("5").
			// Only "=" padding is added, which PathEscape leaves raw: the
			// segment sent is the Base64 itself
			// (TestViberSegmentsNeedNoEscaping).
			if viber {
				seg = base64.StdEncoding.EncodeToString([]byte(id))
			}
			return id, "/v1/message/sendContent/" + url.PathEscape(seg), false, nil
		}
	}
	v2 := func(ident string) string { return "/v2/contact/" + url.PathEscape(ident) + "/message" }
	switch kind {
	case "email":
		return func(cell string) (string, string, bool, error) {
			e, err := normalizeEmail(cell)
			if err != nil {
				return "", "", false, err
			}
			return "email:" + e, v2("email:" + e), false, nil
		}
	case "id":
		return func(cell string) (string, string, bool, error) {
			id, err := positiveInt(cell)
			if err != nil {
				return "", "", false, err
			}
			return "id:" + id, v2("id:" + id), false, nil
		}
	}
	region := strings.ToUpper(strings.TrimSpace(c.DefaultCountry))
	return func(cell string) (string, string, bool, error) {
		p, typ, err := normalizePhone(cell, region)
		if err != nil {
			return "", "", false, err
		}
		return "phone:" + p, v2("phone:" + p), typ == phonenumbers.FIXED_LINE, nil
	}
}

func positiveInt(cell string) (string, error) {
	s := strings.TrimSpace(cell)
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil || n == 0 {
		return "", reasonf(NotContactID, "is not a contact id (a whole number above 0)")
	}
	return strconv.FormatUint(n, 10), nil
}

// ErrUnaddressable is why a row's contact cannot be sent to: its identifier
// has a character that does not reach the API intact in the request's path.
var ErrUnaddressable = errors.New("cannot be put in the API's URL: use the phone or id column for this contact instead")

func normalizeEmail(cell string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(cell))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", reasonf(NotEmail, "is not an e-mail address")
	}
	if i := strings.IndexFunc(s, unsafeInPath); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		e := reasonf(Unaddressable, "has %q and %v", string(r), ErrUnaddressable)
		e.Reason.Args, e.err = []any{string(r)}, ErrUnaddressable
		return "", e
	}
	return s, nil
}

// unsafeInPath reports whether r may not reach the API intact inside a
// path segment. url.PathEscape encodes such a character, but routers in
// front of the API commonly decode the path before routing it: a decoded
// "/" splits the segment (404, or 405, which stops the run), "?" and "#"
// end the path, some read "\" as "/", others decode "%" a second time
// ("%252F" becomes "/"), and a space or control character cannot be
// written raw in a request line. The address grammar already keeps some of
// these out of an e-mail; the rule does not rely on it.
//
// "+" stays: PathEscape leaves it raw, and the API's own phone identifiers
// have it. Outside ASCII, letters, marks and digits stay: internationalized
// addresses (josé@…) are real, their UTF-8 bytes are all 0x80 or above,
// which nothing splits on, and none folds to "/", "\", "?", "#" or "%"
// under NFKC (TestKeptRunesDoNotFoldToRefused). Every other non-ASCII
// character is refused: no-break and zero-width spaces and direction marks
// are invisible in a sheet, come from copy-paste and match no contact, and
// symbols include look-alikes such as "／" (U+FF0F), which NFKC folds to "/".
func unsafeInPath(r rune) bool {
	if r < utf8.RuneSelf {
		return r <= ' ' || r == 0x7f || strings.ContainsRune(`/\?#%`, r)
	}
	return !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r)
}

// normalizePhone returns the number in E.164 (+593991000001), using
// libphonenumber's rules for the country the number belongs to, and its
// type (mobile, fixed line…).
//
// A number is valid when libphonenumber gives it a type: IsValidNumber is
// exactly that test (the region it checks against is the number's own),
// so asking for the type costs nothing more.
func normalizePhone(cell, region string) (string, phonenumbers.PhoneNumberType, error) {
	s := strings.TrimSpace(cell)
	if strings.ContainsAny(s, "eE") && strings.Contains(s, "+") && strings.Contains(s, ".") {
		return "", 0, reasonf(Scientific, "is a number in scientific notation: Excel shortened it; format the column as Text and type the numbers again")
	}
	if !strings.HasPrefix(s, "+") && region == "" {
		return "", 0, reasonf(NotInternational, `is not in international form (+593…): set "defaultCountry" in the campaign to read local numbers`)
	}
	if e164, typ, ok := fastE164(s); ok {
		return e164, typ, nil
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", 0, reasonf(NotPhone, "is not a phone number")
	}
	typ := phonenumbers.GetNumberType(num)
	if typ == phonenumbers.UNKNOWN {
		return "", 0, reasonf(NotPhone, "is not a phone number")
	}
	return phonenumbers.Format(num, phonenumbers.E164), typ, nil
}

// fastE164 reads a number already written in international form
// ("+593 99 100 0001") without libphonenumber's Parse, which spends ~15 µs
// a row on extensions and national prefixes such a number cannot have.
// The number is still validated by libphonenumber; anything unusual (an
// extension, a "(0)") is left to Parse (ok false).
func fastE164(s string) (string, phonenumbers.PhoneNumberType, bool) {
	digits := make([]byte, 0, 16)
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == ' ' || c == '-' || c == '.':
		default:
			return "", 0, false
		}
	}
	if s[0] != '+' || len(digits) < 7 || len(digits) > 15 || digits[0] == '0' {
		return "", 0, false
	}
	// Country calling codes are prefix-free: at most one of 1 to 3 digits
	// names a country.
	for n := 1; n <= 3; n++ {
		cc, _ := strconv.Atoi(string(digits[:n]))
		if phonenumbers.GetRegionCodeForCountryCode(cc) == phonenumbers.UNKNOWN_REGION {
			continue
		}
		national := digits[n:]
		if len(national) == 0 || national[0] == '0' {
			return "", 0, false // leading zeros (Italy) are Parse's business
		}
		nn, err := strconv.ParseUint(string(national), 10, 64)
		if err != nil {
			return "", 0, false
		}
		num := &phonenumbers.PhoneNumber{CountryCode: proto.Int32(int32(cc)), NationalNumber: proto.Uint64(nn)}
		typ := phonenumbers.GetNumberType(num)
		if typ == phonenumbers.UNKNOWN {
			return "", 0, false
		}
		return "+" + string(digits), typ, true
	}
	return "", 0, false
}
