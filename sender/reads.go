package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Reading what happened after a send (v2 only: v1 has no way to read a
// message back). Reads go through the same client, limiter and window as
// sends: the platform counts them against the same organization limit.

// Message is a message as the platform reports it.
type Message struct {
	ID        string          // messageId
	ChannelID string          // channelId
	Outgoing  bool            // traffic "outgoing"
	Incoming  bool            // traffic "incoming" (neither: the platform did not say)
	Source    string          // sender.source: "api", "user", "workflow", "broadcast"…; "" when not said
	Body      json.RawMessage // the message object as the platform holds it
	Status    []Status        // its history, oldest first
}

// Status is one step of a message's history.
type Status struct {
	Value   string    // pending, sent, delivered, read, failed
	At      time.Time // in the platform's clock
	Message string    // the failure's text, when there is one
}

// Last is the message's newest status, or a zero Status.
func (m Message) Last() Status {
	if len(m.Status) == 0 {
		return Status{}
	}
	return m.Status[len(m.Status)-1]
}

// Created is the time of the message's first status, the platform's
// nearest statement of when it took the message.
func (m Message) Created() time.Time {
	if len(m.Status) == 0 {
		return time.Time{}
	}
	return m.Status[0].At
}

// wireMessage is the API's JSON for a message.
type wireMessage struct {
	MessageID json.RawMessage `json:"messageId"`
	ChannelID json.RawMessage `json:"channelId"`
	Traffic   string          `json:"traffic"`
	Message   json.RawMessage `json:"message"`
	Status    []struct {
		Value     string          `json:"value"`
		Timestamp json.RawMessage `json:"timestamp"`
		Message   json.RawMessage `json:"message"`
	} `json:"status"`
	Sender struct {
		Source string `json:"source"`
	} `json:"sender"`
}

func (w wireMessage) message() Message {
	m := Message{ID: rawString(w.MessageID), ChannelID: rawString(w.ChannelID), Outgoing: w.Traffic == "outgoing",
		Incoming: w.Traffic == "incoming",
		Source:   w.Sender.Source, Body: w.Message}
	for _, s := range w.Status {
		m.Status = append(m.Status, Status{Value: strings.ToLower(s.Value), At: stampTime(s.Timestamp), Message: rawString(s.Message)})
	}
	return m
}

// rawString is a JSON string's value, or a number's digits; "" for null.
func rawString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// stampTime reads a timestamp in Unix seconds or milliseconds (the docs
// say either: the magnitude tells), as a number or a numeric string.
func stampTime(raw json.RawMessage) time.Time {
	f, err := strconv.ParseFloat(strings.Trim(string(raw), `"`), 64)
	if err != nil || f <= 0 {
		return time.Time{}
	}
	if f > 1e11 { // milliseconds: seconds would be past the year 5000
		return time.UnixMilli(int64(f))
	}
	return time.Unix(0, int64(f*float64(time.Second)))
}

// Get makes a paced GET of an API path (escaped), with the token.
func (s *Sender) Get(ctx context.Context, path string) Response {
	if err := s.pacer.Wait(ctx); err != nil {
		return Response{Err: err}
	}
	r := s.client.do(ctx, http.MethodGet, path, nil, true)
	s.pacer.Observe(r)
	return r
}

// ReadError is an answer to a read that is not what the API returns.
type ReadError struct {
	Path   string
	Status int
	Reason string
}

func (e *ReadError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("read %s: %s", e.Path, e.Reason)
	}
	return fmt.Sprintf("read %s: %d %s", e.Path, e.Status, e.Reason)
}

// read GETs path and decodes a 2xx answer into v. A read changes nothing
// on the platform, so what a send may not retry, a read may: a 429 is
// asked again after the pause it asked for (which the pacer keeps), up to
// MaxAttempts requests in all; a 408, 5xx or lost answer (a platform in
// trouble) at most readTries times, after the send's backoff.
func (s *Sender) read(ctx context.Context, path string, v any) error {
	var r Response
	for try := 1; ; try++ {
		r = s.Get(ctx, path)
		limit := s.opts.MaxAttempts
		if r.Status != http.StatusTooManyRequests {
			limit = min(limit, readTries)
		}
		if try >= limit || ctx.Err() != nil || !readAgain(r) {
			break
		}
		if r.Status != http.StatusTooManyRequests {
			if err := sleep(ctx, s.backoff(try, r)); err != nil {
				break
			}
		}
	}
	switch {
	case r.Err != nil:
		return &ReadError{Path: path, Reason: transportReason(r.Err)}
	case r.Status < 200 || r.Status > 299:
		return &ReadError{Path: path, Status: r.Status, Reason: platformMessage(r, shapeOf(r.Body))}
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		return &ReadError{Path: path, Status: r.Status, Reason: "not the API's answer: " + describeBody(r)}
	}
	return nil
}

// readTries bounds the requests of one read when the platform is in
// trouble rather than busy: a read that timed out costs the whole timeout
// each time, and a reconciliation reads one contact after another.
const readTries = 3

// readAgain says whether a read's answer may change if it is asked again:
// the platform was busy or the answer was lost, and the address is right.
func readAgain(r Response) bool {
	if r.Err != nil {
		return !unreachable(r.Err)
	}
	switch r.Status {
	case http.StatusTooManyRequests, 449, http.StatusRequestTimeout:
		return true
	}
	return r.Status >= 500
}

// ReadMessage asks the platform for one message of a contact.
func (s *Sender) ReadMessage(ctx context.Context, identifier, id string) (Message, error) {
	var w wireMessage
	path := "/v2/contact/" + url.PathEscape(identifier) + "/message/" + url.PathEscape(id)
	if err := s.read(ctx, path, &w); err != nil {
		return Message{}, err
	}
	return w.message(), nil
}

// ListMessages asks for one page of a contact's messages; cursor "" is the
// first page. next is the cursor of the following page, "" on the last.
// The order of the items is not documented: do not rely on it.
func (s *Sender) ListMessages(ctx context.Context, identifier, cursor string, limit int) (items []Message, next string, err error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if cursor != "" {
		q.Set("cursorId", cursor)
	}
	var page struct {
		Items      *[]wireMessage `json:"items"`
		Pagination *struct {
			Next string `json:"next"`
		} `json:"pagination"`
	}
	path := "/v2/contact/" + url.PathEscape(identifier) + "/message/list?" + q.Encode()
	if err := s.read(ctx, path, &page); err != nil {
		return nil, "", err
	}
	// Only a list in the documented shape can prove a message absent.
	if page.Items == nil || page.Pagination == nil {
		return nil, "", &ReadError{Path: path, Status: 200, Reason: "not a list in the API's shape (items and pagination)"}
	}
	next = cursorOf(page.Pagination.Next)
	if page.Pagination.Next != "" && next == "" {
		return nil, "", &ReadError{Path: path, Status: 200, Reason: fmt.Sprintf("the next page's address carries no cursorId: %q", page.Pagination.Next)}
	}
	for _, w := range *page.Items {
		items = append(items, w.message())
	}
	return items, next, nil
}

// cursorOf is the cursorId a pagination URL carries; "" for none.
func cursorOf(next string) string {
	if next == "" {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil {
		return ""
	}
	return u.Query().Get("cursorId")
}

// Template is a WhatsApp template of a channel.
type Template struct {
	Name         string
	LanguageCode string
	Status       string // upper case: APPROVED, PENDING, REJECTED…
	Components   []TemplateComponent
}

// TemplateComponent is one part of a template.
type TemplateComponent struct {
	Type    string           `json:"type"` // HEADER, BODY, FOOTER, BUTTONS (any case)
	Format  string           `json:"format"`
	Text    string           `json:"text"`
	Buttons []TemplateButton `json:"buttons"` // BUTTONS
}

// TemplateButton is one button of a template's BUTTONS component.
type TemplateButton struct {
	Type        string `json:"type"` // URL, PHONE_NUMBER, QUICK_REPLY (any case)
	Text        string `json:"text"`
	URL         string `json:"url"`
	PhoneNumber string `json:"phone_number"`
}

// ErrNoTemplateList says the brand does not list templates at either known
// path (404 or 403): the check is skipped, not failed.
var ErrNoTemplateList = errors.New("the platform does not list this channel's templates")

// maxTemplatePages bounds the template list read before the first message
// (100 templates a page): a next link that never ends cannot hold a send.
const maxTemplatePages = 50

// Templates lists a channel's WhatsApp templates, at /template or, as one
// brand has it, /mtm.
func (s *Sender) Templates(ctx context.Context, channelID string) ([]Template, error) {
	var out []Template
	for _, kind := range []string{"template", "mtm"} {
		out = out[:0]
		cursor := ""
		var err error
		for page := 0; ; page++ {
			if page == maxTemplatePages {
				// A list that never ends: a name not in what was read may
				// be further on, so nothing is checked.
				return nil, fmt.Errorf("%w: more than %d pages", ErrNoTemplateList, maxTemplatePages)
			}
			var page []Template
			page, cursor, err = s.templatesPage(ctx, channelID, kind, cursor)
			if err != nil {
				break
			}
			out = append(out, page...)
			if cursor == "" {
				return out, nil
			}
		}
		var re *ReadError
		if !errors.As(err, &re) || (re.Status != 404 && re.Status != 403) {
			return nil, err
		}
	}
	return nil, ErrNoTemplateList
}

func (s *Sender) templatesPage(ctx context.Context, channelID, kind, cursor string) ([]Template, string, error) {
	q := url.Values{"limit": {"100"}}
	if cursor != "" {
		q.Set("cursorId", cursor)
	}
	var page struct {
		Items []struct {
			Name         string          `json:"name"`
			LanguageCode string          `json:"languageCode"`
			Status       string          `json:"status"`
			Components   json.RawMessage `json:"components"`
		} `json:"items"`
		Pagination struct {
			Next string `json:"next"`
		} `json:"pagination"`
	}
	path := "/v2/space/channel/" + url.PathEscape(channelID) + "/" + kind + "?" + q.Encode()
	if err := s.read(ctx, path, &page); err != nil {
		return nil, "", err
	}
	var out []Template
	for _, it := range page.Items {
		t := Template{Name: it.Name, LanguageCode: it.LanguageCode, Status: strings.ToUpper(it.Status)}
		raw := it.Components
		var text string
		if json.Unmarshal(raw, &text) == nil { // some brands send the list as a JSON string
			raw = json.RawMessage(text)
		}
		_ = json.Unmarshal(raw, &t.Components)
		out = append(out, t)
	}
	return out, cursorOf(page.Pagination.Next), nil
}
