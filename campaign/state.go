package campaign

import (
	"fmt"
	"strconv"
	"time"
)

// State is where a contact stands in a campaign.
type State string

// The states a contact can be in. Sending is internal: it marks a request
// whose attempt is recorded but whose answer is not yet; if the run dies it
// becomes Unknown.
const (
	Pending   State = "pending"   // waiting to be sent
	Sending   State = "sending"   // a request is in flight
	Sent      State = "sent"      // the platform accepted the message
	Failed    State = "failed"    // not delivered; see Outcome.Permanent
	Unknown   State = "unknown"   // the request may or may not have delivered it
	Invalid   State = "invalid"   // the CSV row cannot be sent; never sent
	Duplicate State = "duplicate" // the same contact appears earlier in the CSV
)

// States lists the states a user sees, in the order reports show them.
var States = []State{Pending, Sent, Failed, Unknown, Invalid, Duplicate}

// Job is one contact's message as the ledger hands it to the sender.
type Job struct {
	ID       int64  // ledger row id
	Line     int    // CSV line the contact came from
	Contact  string // identity, e.g. "phone:+593991000001"
	Path     string // API path, e.g. "/v2/contact/phone:+593991000001/message"
	Payload  []byte // exact request body
	Attempts int    // requests already made for this contact
}

// Outcome is what one request's answer means for its contact.
type Outcome struct {
	State      State
	HTTPStatus int    // 0 when no HTTP answer arrived
	MessageID  string // the platform's id for the message (v2)
	Reason     Reason // why, for failed and unknown (and pending again)
	// Permanent marks a failure the platform decided for this contact
	// (400/403/404/409): a plain re-run does not retry it.
	Permanent bool
	At        time.Time
}

// DuplicateReason is why a row is a duplicate, as the ledger records it.
func DuplicateReason(firstLine int) Reason {
	return Reason{Code: SameContact, Args: []any{strconv.Itoa(firstLine)}}
}

// DuplicateRow is a row whose contact an earlier row lists: it is sent
// once.
type DuplicateRow struct {
	File      string
	Line      int
	FirstLine int // the line of the row that stands for it
	Contact   string
}

// String describes the row in English.
func (d DuplicateRow) String() string {
	return fmt.Sprintf("%s:%d: same contact as line %d (%s): sent once", d.File, d.Line, d.FirstLine, d.Contact)
}

// DuplicateNote describes a duplicate row for the person running pregon.
func DuplicateNote(file string, line, firstLine int, contact string) string {
	return DuplicateRow{File: file, Line: line, FirstLine: firstLine, Contact: contact}.String()
}

// FixedRow is a broken row whose contact has a good row in another file
// (Via, the export it was fixed in), which stands for it.
type FixedRow struct {
	File    string
	Line    int
	Contact string
	State   State // the good row's
	Via     string
}

// String describes the row in English.
func (f FixedRow) String() string { return FixedNote(f.File, f.Line, f.Contact, f.State, f.Via) }

// FixedNote describes a broken row whose contact has a good row in another
// file, via (the export it was fixed in), which stands for it.
func FixedNote(file string, line int, contact string, state State, via string) string {
	var what string
	switch state {
	case Sent:
		what = "already sent"
	case Pending:
		what = "to be sent"
	case Failed:
		what = "already tried: failed"
	default:
		what = "already tried: " + string(state)
	}
	return fmt.Sprintf("%s:%d: %s (fixed through %s): %s", file, line, what, via, contact)
}
