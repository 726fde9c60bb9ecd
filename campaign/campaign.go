package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Campaign is a parsed campaign file: one message, filled in per contact.
type Campaign struct {
	// Name identifies the campaign in the ledger.
	Name string `json:"name"`
	// API is "v1" or "v2".
	API string `json:"api"`
	// BaseURL is the brand's API root, e.g. "https://api.example-brand.com".
	BaseURL string `json:"baseUrl"`
	// ChannelID (v2, optional) is sent as "channelId" beside the message.
	ChannelID json.Number `json:"channelId,omitempty"`
	// Channel (v1) "viber" makes contact ids Base64-encoded in the URL.
	Channel string `json:"channel,omitempty"`
	// ForceCancelSurvey (v1) adds "forceCancelSurvey": true to the payload.
	ForceCancelSurvey bool `json:"forceCancelSurvey,omitempty"`
	// Contact names the column that identifies the contact, when it is
	// not one of the default columns.
	Contact ContactColumn `json:"contact,omitzero"`
	// DefaultCountry is the ISO 3166 code (e.g. "EC") used to read phone
	// numbers written without an international prefix.
	DefaultCountry string `json:"defaultCountry,omitempty"`
	// Message is the API's message object, with {{column}} placeholders.
	Message json.RawMessage `json:"message"`

	path      string
	tmpl      *template
	warnings  []string
	rowChecks []rowCheck // the platform's rules on values the CSV fills in
}

// ContactColumn says which CSV column identifies the contact and how.
type ContactColumn struct {
	Column string `json:"column"`
	// Type is "phone", "email" or "id" (v2); v1 contact ids are always ids.
	Type string `json:"type"`
}

// Error is a problem with the campaign file or with the CSV as a whole
// (a missing column, a bad header): nothing can be sent until it is fixed.
type Error struct {
	File string
	Err  error
}

func (e *Error) Error() string { return e.File + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Load reads and checks a campaign file.
func Load(path string) (*Campaign, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(data)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	c.path = path
	return c, nil
}

// ReadName reads only the "name" of a campaign file: what the ledger
// knows the campaign by. The rest of the file is not checked, so a file
// edited since its campaign was sent still names it.
func ReadName(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var c struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return "", &Error{File: path, Err: jsonError(data, err)}
	}
	if strings.TrimSpace(c.Name) == "" {
		return "", &Error{File: path, Err: reasonf(NameMissing, `"name" is missing: it identifies the campaign in the ledger`)}
	}
	return c.Name, nil
}

// Parse reads a campaign from the JSON text of a campaign file.
func Parse(data []byte) (*Campaign, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var c Campaign
	if err := dec.Decode(&c); err != nil {
		return nil, jsonError(data, err)
	}
	if dec.More() {
		return nil, reasonf(TrailingText, "unexpected text after the campaign object")
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	t, err := compileTemplate(c.Message)
	if err != nil {
		return nil, fmt.Errorf("message: %w", err)
	}
	c.tmpl = t
	// What fails before any row is filled in fails for every row: one
	// campaign error, not one per contact.
	ck := &checker{api: c.API, channelID: c.ChannelID != ""}
	ck.checkMessage(view{n: t.root, path: "message"})
	if len(ck.problems) > 0 {
		rules := &RulesError{}
		for _, p := range ck.problems {
			rules.Broken = append(rules.Broken, Broken{Path: p.path, Err: p.err})
		}
		return nil, rules
	}
	c.warnings = ck.warnings
	c.rowChecks = ck.rows
	return &c, nil
}

// RulesError is a message that breaks the platform's rules before any
// row fills it in: it would fail for every contact.
type RulesError struct{ Broken []Broken }

// Broken is one rule broken at a place in the message (message.template…).
type Broken struct {
	Path string
	Err  error // a *ReasonError
}

func (e *RulesError) Error() string {
	lines := make([]string, len(e.Broken))
	for i, b := range e.Broken {
		lines[i] = b.Path + ": " + b.Err.Error()
	}
	return "the message breaks the platform's rules:\n  " + strings.Join(lines, "\n  ")
}

// Warnings are things in the campaign that will work but may not be what
// the user wants (a document without a file name).
func (c *Campaign) Warnings() []string { return c.warnings }

func (c *Campaign) check() error {
	if strings.TrimSpace(c.Name) == "" {
		return reasonf(NameMissing, `"name" is missing: it identifies the campaign in the ledger`)
	}
	switch c.API {
	case "v1":
		if c.ChannelID != "" {
			return reasonf(ChannelIDInV1, `"channelId" is for api v2; v1 tokens belong to one channel`)
		}
		if c.Channel != "" && c.Channel != "viber" {
			return reasonf(ChannelNotViber, `"channel": %q: the only v1 channel that changes the request is "viber"`, c.Channel)
		}
	case "v2":
		if c.Channel != "" || c.ForceCancelSurvey {
			return reasonf(V1FieldsInV2, `"channel" and "forceCancelSurvey" are for api v1`)
		}
		if c.ChannelID != "" {
			if _, err := c.ChannelID.Int64(); err != nil {
				return reasonf(ChannelIDNotNumber, `"channelId": %s is not a whole number`, c.ChannelID.String())
			}
		}
	case "":
		return reasonf(APIMissing, `"api" is missing: write "v1" or "v2"`)
	default:
		return reasonf(APIInvalid, `"api": %q: write "v1" or "v2"`, c.API)
	}
	switch c.Contact.Type {
	case "", "phone", "email", "id":
	default:
		return reasonf(ContactTypeInvalid, `"contact.type": %q: write "phone", "email" or "id"`, c.Contact.Type)
	}
	if c.API == "v1" && c.Contact.Type != "" && c.Contact.Type != "id" {
		return reasonf(ContactTypeInV1, `"contact.type": %q: v1 contacts are always ids`, c.Contact.Type)
	}
	if c.Contact.Type != "" && strings.TrimSpace(c.Contact.Column) == "" {
		return reasonf(ContactColumnMissing, `"contact.column" is missing`)
	}
	if len(bytes.TrimSpace(c.Message)) == 0 || bytes.Equal(bytes.TrimSpace(c.Message), []byte("null")) {
		return reasonf(MessageMissing, `"message" is missing`)
	}
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(c.Message, &probe); err != nil {
		return reasonf(MessageNotObject, `"message" must be a JSON object`)
	}
	if probe.Type == "" {
		return reasonf(MessageNoType, `"message" has no "type"`)
	}
	return nil
}

// Path is the file the campaign was loaded from ("" when parsed from text).
func (c *Campaign) Path() string { return c.path }

// Fingerprint is the part of the campaign that decides what every contact
// receives, as canonical text. The ledger keeps it so that a run with a
// changed campaign file can be noticed before it sends anything.
func (c *Campaign) Fingerprint() string {
	f := struct {
		API               string          `json:"api"`
		ChannelID         json.Number     `json:"channelId,omitempty"`
		Channel           string          `json:"channel,omitempty"`
		ForceCancelSurvey bool            `json:"forceCancelSurvey,omitempty"`
		Contact           ContactColumn   `json:"contact,omitzero"`
		DefaultCountry    string          `json:"defaultCountry,omitempty"`
		Message           json.RawMessage `json:"message"`
	}{c.API, c.ChannelID, c.Channel, c.ForceCancelSurvey, c.Contact, c.DefaultCountry, compactJSON(c.Message)}
	b, err := json.Marshal(f)
	if err != nil { // only reachable with a broken RawMessage, which Parse rejects
		panic(err)
	}
	return string(b)
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}

// jsonError turns a decoding error into one that names the line and column
// of the campaign file, which is what a person editing it needs.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return syntaxError(data, syn)
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset)
		return fmt.Errorf("line %d, column %d: %q must be %v, not a JSON %s", line, col, typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return reasonf(FileEmpty, "the file is empty")
	}
	return err
}

// SyntaxError is a campaign file that is not JSON, placed where a person
// fixes it. encoding/json points at the token after a missing comma,
// which is often on the next line; a missing or extra comma is placed
// where the comma goes (or is), just after the value before it.
type SyntaxError struct {
	Line, Column int    // where to look, counted as an editor does (from 1, in characters)
	Text         string // that line of the file
	Fix          SyntaxFix
	Err          error // encoding/json's own error
}

// SyntaxFix says what most likely fixes a SyntaxError.
type SyntaxFix int

// The fixes a SyntaxError can name.
const (
	FixUnknown      SyntaxFix = iota // see Err
	FixMissingComma                  // a "," is missing at Line, Column
	FixExtraComma                    // the "," at Line, Column must go: JSON allows none before } or ]
)

func (e *SyntaxError) Error() string {
	var what string
	switch e.Fix {
	case FixMissingComma:
		what = `a "," is missing here`
	case FixExtraComma:
		what = `remove this ",": JSON allows none before } or ]`
	default:
		what = e.Err.Error()
	}
	return fmt.Sprintf("line %d, column %d: %s:\n%s", e.Line, e.Column, what, e.Spot())
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// Spot is the line of the file with a caret under the column, indented
// for an error message.
func (e *SyntaxError) Spot() string {
	var caret strings.Builder
	for i, r := range []rune(e.Text) {
		if i >= e.Column-1 {
			break
		}
		if r == '\t' {
			caret.WriteRune('\t')
		} else {
			caret.WriteRune(' ')
		}
	}
	return "    " + e.Text + "\n    " + caret.String() + "^"
}

func syntaxError(data []byte, syn *json.SyntaxError) *SyntaxError {
	bad := min(max(syn.Offset-1, 0), int64(len(data))) // Offset counts the bad byte
	at, fix := bad, FixUnknown
	// The value before the bad byte ends at its last byte that is not
	// white space: a comma belongs right after it.
	prev := bad - 1
	for prev >= 0 && strings.ContainsRune(" \t\r\n", rune(data[prev])) {
		prev--
	}
	msg := syn.Error()
	switch {
	case strings.HasSuffix(msg, "after object key:value pair") && bad < int64(len(data)) && data[bad] == '"',
		strings.HasSuffix(msg, "after array element") && bad < int64(len(data)) && strings.ContainsRune(`"{[-0123456789tfn`, rune(data[bad])):
		at, fix = prev+1, FixMissingComma
	case (strings.HasSuffix(msg, "looking for beginning of object key string") || strings.HasSuffix(msg, "looking for beginning of value")) &&
		bad < int64(len(data)) && (data[bad] == '}' || data[bad] == ']') && prev >= 0 && data[prev] == ',':
		at, fix = prev, FixExtraComma
	}
	line, col := position(data, at)
	return &SyntaxError{Line: line, Column: col, Text: lineAt(data, at), Fix: fix, Err: syn}
}

// position is the line and column (in characters) of the byte at offset.
func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return line, col
}

// lineAt is the line of data that holds the byte at offset, without its
// line end.
func lineAt(data []byte, offset int64) string {
	offset = min(offset, int64(len(data)))
	start := bytes.LastIndexByte(data[:offset], '\n') + 1
	end := bytes.IndexByte(data[offset:], '\n')
	if end < 0 {
		end = len(data) - int(offset)
	}
	return strings.TrimRight(string(data[start:int(offset)+end]), "\r")
}
