package campaign

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Code names why a contact was not sent, or why a row cannot be: the
// ledger stores it with its values, never words, so that any front end
// shows it in its reader's language, today and for old ledgers alike.
type Code string

// Reason is why a contact was not sent (or not yet), as data.
type Reason struct {
	Code Code `json:"code"`
	// Args are the code's values, strings and whole numbers, in the
	// order its message takes them.
	Args []any `json:"args,omitempty"`
	// Column and Value are the cell a row's problem is in (as the header
	// writes its name), when it is in one.
	Column string `json:"column,omitempty"`
	Value  string `json:"value,omitempty"`
	// Cause is the reason under this one: what a last attempt met before
	// the sender gave up, say.
	Cause *Reason `json:"cause,omitempty"`
}

// IsZero reports whether there is no reason.
func (r Reason) IsZero() bool { return r.Code == "" }

// ParseReason reads a reason as the ledger stores it (JSON).
func ParseReason(s string) (Reason, error) {
	var r Reason
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return Reason{}, fmt.Errorf("reason %q: %w", s, err)
	}
	return r, nil
}

// UnmarshalJSON reads whole numbers back as ints, so a message that
// chooses by a number still can.
func (r *Reason) UnmarshalJSON(b []byte) error {
	var raw struct {
		Code          Code
		Args          []json.RawMessage
		Column, Value string
		Cause         *Reason
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*r = Reason{Code: raw.Code, Column: raw.Column, Value: raw.Value, Cause: raw.Cause}
	for _, a := range raw.Args {
		var s string
		if json.Unmarshal(a, &s) == nil {
			r.Args = append(r.Args, s)
			continue
		}
		n, err := strconv.Atoi(string(a))
		if err != nil {
			return fmt.Errorf("reason %s: value %s is neither text nor a whole number", raw.Code, a)
		}
		r.Args = append(r.Args, n)
	}
	return nil
}

// The codes. A code, once released, keeps its meaning and the order of
// its values: ledgers keep it.
const (
	// A row's contact cell, or a cell its message uses.
	ContactEmpty     Code = "contact_empty"     // the contact cell is empty
	CellEmpty        Code = "cell_empty"        // a cell the message uses is empty
	NotContactID     Code = "not_contact_id"    // not a whole number above 0
	NotEmail         Code = "not_email"         // not an e-mail address
	Unaddressable    Code = "unaddressable"     // args: the character
	Scientific       Code = "scientific"        // a phone number Excel wrote as 5.93991E+11
	NotInternational Code = "not_international" // a local phone number without defaultCountry
	NotPhone         Code = "not_phone"         // not a phone number
	// The row as a whole.
	BeyondHeader Code = "beyond_header"  // args: first column past the header, header's columns, its value, delimiter (, ; tab)
	TooManyCells Code = "too_many_cells" // args: the most cells past the header
	RowUnread    Code = "row_unread"     // the CSV reader's own words: args: text
	SameContact  Code = "same_contact"   // args: the line of the row sent (a duplicate), as text
	// The platform's rules on what the CSV fills in.
	ValueEmpty       Code = "value_empty"       // blank
	TooLong          Code = "too_long"          // args: characters, the most, what (answer, body, footer, header, button)
	NotWebAddress    Code = "not_web_address"   // not http:// or https://
	PlaceholderCount Code = "placeholder_count" // args: placeholders, parameters
	ParamLineBreak   Code = "param_line_break"  // a template parameter with a line break
	ParamTab         Code = "param_tab"         // … with a tab
	ParamSpaces      Code = "param_spaces"      // … with more than 4 spaces in a row
	NotE164          Code = "not_e164"          // a button's phone number
	// What an answer, or its absence, means (sender.Classify).
	NotAPISuccess  Code = "not_api_success"  // args: HTTP status, what came back
	Redirect       Code = "redirect"         // args: HTTP status, location
	TryLater       Code = "try_later"        // args: HTTP status, the platform's words
	NotAPIError    Code = "not_api_error"    // args: HTTP status, what came back
	TokenRejected  Code = "token_rejected"   // args: HTTP status, the platform's words
	WrongAddress   Code = "wrong_address"    // args: HTTP status, the platform's words
	Refused        Code = "refused"          // args: HTTP status, the platform's words
	MaybeDelivered Code = "maybe_delivered"  // args: HTTP status, the platform's words or what came back
	NoAnswer       Code = "no_answer"        // sent, no answer came: Cause says why
	NotSent        Code = "not_sent"         // never left: Cause says why
	TimedOut       Code = "timed_out"        // no answer in time
	Cancelled      Code = "cancelled"        // the run was stopped
	Network        Code = "network"          // args: the system's words (connection refused…)
	GaveUp         Code = "gave_up"          // args: attempts; Cause: the last answer
	SandboxAnswer  Code = "sandbox_answer"   // a pregon sandbox answered a real send: not delivered
	StoppedAtRetry Code = "stopped_at_retry" // the run stopped before a retry; Cause: the last answer
	// The campaign file, and the CSV as a whole: nothing is sent.
	NameMissing          Code = "name_missing"
	TrailingText         Code = "trailing_text"
	FileEmpty            Code = "file_empty"
	ChannelIDInV1        Code = "channel_id_in_v1"
	ChannelNotViber      Code = "channel_not_viber" // args: the channel
	V1FieldsInV2         Code = "v1_fields_in_v2"
	ChannelIDNotNumber   Code = "channel_id_not_number" // args: the value
	APIMissing           Code = "api_missing"
	APIInvalid           Code = "api_invalid"          // args: the value
	ContactTypeInvalid   Code = "contact_type_invalid" // args: the value
	ContactTypeInV1      Code = "contact_type_in_v1"   // args: the value
	ContactColumnMissing Code = "contact_column_missing"
	MessageMissing       Code = "message_missing"
	MessageNotObject     Code = "message_not_object"
	MessageNoType        Code = "message_no_type"
	CSVEmpty             Code = "csv_empty"
	DuplicateHeader      Code = "duplicate_header"      // args: the name, as first written, as written again
	MissingColumns       Code = "missing_columns"       // args: the placeholders, the CSV's columns
	BareQuote            Code = "bare_quote"            // args: line, column, as text
	ContactColumnAbsent  Code = "contact_column_absent" // args: the column the campaign names
	NoContactIDColumn    Code = "no_contact_id_column"
	NoContactColumn      Code = "no_contact_column"
	// The message against the platform's rules (a RulesError).
	FieldMissing        Code = "field_missing"
	NotText             Code = "not_text"
	NotFromCSV          Code = "not_from_csv"
	NotOneOf            Code = "not_one_of" // args: the value, the values allowed
	NotObject           Code = "not_object"
	AttachmentShape     Code = "attachment_shape"
	PayloadNeedsChannel Code = "payload_needs_channel"
	RepliesList         Code = "replies_list"
	RepliesCount        Code = "replies_count" // args: how many
	TemplateShape       Code = "template_shape"
	NotList             Code = "not_list"
	TextHeaderParams    Code = "text_header_params" // args: how many
	MediaHeaderParam    Code = "media_header_param" // args: the format (image, video, document)
	ButtonsCount        Code = "buttons_count"      // args: how many
	URLButtons          Code = "url_buttons"        // args: how many
	PhoneButtons        Code = "phone_buttons"      // args: how many
	// What the ledger learnt later.
	InFlight        Code = "in_flight"         // a run stopped while the request was under way
	FoundOnPlatform Code = "found_on_platform" // reconcile: the platform has it
	NotOnPlatform   Code = "not_on_platform"   // reconcile: the platform never got it; sent again
	MovedAway       Code = "moved_away"        // reconcile: not at the new address; the request went to an earlier one
	MovedAwayFrom   Code = "moved_away_from"   // … to this address: args: the address
)

// Codes lists every code, for the test that each has words in every
// language.
var Codes = []Code{ContactEmpty, CellEmpty, NotContactID, NotEmail, Unaddressable, Scientific, NotInternational, NotPhone,
	BeyondHeader, TooManyCells, RowUnread, SameContact,
	ValueEmpty, TooLong, NotWebAddress, PlaceholderCount, ParamLineBreak, ParamTab, ParamSpaces, NotE164,
	NotAPISuccess, Redirect, TryLater, NotAPIError, TokenRejected, WrongAddress, Refused, MaybeDelivered,
	NoAnswer, NotSent, TimedOut, Cancelled, Network, GaveUp, SandboxAnswer, StoppedAtRetry,
	InFlight, FoundOnPlatform, NotOnPlatform, MovedAway, MovedAwayFrom,
	NameMissing, TrailingText, FileEmpty, ChannelIDInV1, ChannelNotViber, V1FieldsInV2, ChannelIDNotNumber, APIMissing, APIInvalid,
	ContactTypeInvalid, ContactTypeInV1, ContactColumnMissing, MessageMissing, MessageNotObject, MessageNoType,
	CSVEmpty, DuplicateHeader, MissingColumns, BareQuote, ContactColumnAbsent, NoContactIDColumn, NoContactColumn,
	FieldMissing, NotText, NotFromCSV, NotOneOf, NotObject, AttachmentShape, PayloadNeedsChannel, RepliesList, RepliesCount,
	TemplateShape, NotList, TextHeaderParams, MediaHeaderParam, ButtonsCount, URLButtons, PhoneButtons}

// ReasonError is a leaf error with a code: its Error is the package's
// English, for logs and tests; a front end shows Reason in its reader's
// words (as encoding/csv's ErrBareQuote is a value to compare, with
// English text).
type ReasonError struct {
	Reason  Reason
	english string
	err     error // a sentinel it also is, for errors.Is
}

func (e *ReasonError) Error() string { return e.english }
func (e *ReasonError) Unwrap() error { return e.err }

// reasonf is a ReasonError with code and values args, worded in English by
// format (which takes args).
func reasonf(code Code, format string, args ...any) *ReasonError {
	return &ReasonError{Reason: Reason{Code: code, Args: args}, english: fmt.Sprintf(format, args...)}
}

// ReasonOf is the reason of a row's problem or of an answer: the
// ReasonError in err's chain, with the cell it is in for a RowError.
// ok is false when err carries no code.
func ReasonOf(err error) (Reason, bool) {
	var re *ReasonError
	if !errors.As(err, &re) {
		return Reason{}, false
	}
	r := re.Reason
	var row *RowError
	if errors.As(err, &row) {
		r.Column, r.Value = row.Column, clipValue(row.Value)
	}
	return r, true
}
