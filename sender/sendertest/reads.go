package sendertest

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// The shapes of the v2 reads' answers, fields in the order the SDK's
// types show them.

type messageJSON struct {
	MessageID        int64           `json:"messageId"`
	ChannelMessageID string          `json:"channelMessageId"`
	ContactID        int64           `json:"contactId"`
	ChannelID        int64           `json:"channelId"`
	Traffic          string          `json:"traffic"`
	Message          json.RawMessage `json:"message"`
	Status           []statusJSON    `json:"status"`
	Sender           *senderJSON     `json:"sender,omitempty"` // outgoing only
}

type statusJSON struct {
	Value     string `json:"value"`
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message,omitempty"`
}

type senderJSON struct {
	Source string `json:"source"`
}

type pagination struct {
	Next     string `json:"next"`
	Previous string `json:"previous"`
}

type list[T any] struct {
	Items      []T        `json:"items"`
	Pagination pagination `json:"pagination"`
}

// read answers a read the API let through (status is its 2xx): one of a
// contact's messages, a contact's messages, or a channel's templates.
func (s *Server) read(r *http.Request, ep endpoint, status int) reply {
	if ep.kind == listTemplates {
		return s.templatesOf(r, ep, status)
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ep.kind {
	case readMessage:
		c := s.touch(ep.contact, now, 0, nil)
		id, err := strconv.ParseInt(ep.id, 10, 64)
		m := s.kept.byID[id]
		if err != nil || m == nil || m.contact != c || m.at.After(now) {
			return v2Reply(http.StatusNotFound, "Message not found")
		}
		return reply{status: status, body: jsonLine(s.messageJSON(m, now))}
	case listMessages:
		limit, cursor, bad := paging(r.URL.Query())
		if bad != "" {
			return v2Reply(http.StatusBadRequest, bad)
		}
		c := s.touch(ep.contact, now, 0, nil)
		var ids []int64
		for _, m := range c.messages {
			if !m.at.After(now) {
				ids = append(ids, m.id)
			}
		}
		ids, p := page(r, ids, limit, cursor)
		out := list[messageJSON]{Items: []messageJSON{}, Pagination: p}
		for _, id := range ids {
			out.Items = append(out.Items, s.messageJSON(s.kept.byID[id], now))
		}
		return reply{status: status, body: jsonLine(out)}
	}
	panic(fmt.Sprintf("sendertest: read of endpoint %d", ep.kind))
}

// messageJSON is a kept message as the platform shows it, as of now.
func (s *Server) messageJSON(m *message, now time.Time) messageJSON {
	out := messageJSON{MessageID: m.id, ContactID: m.contact.id, ChannelID: m.channel, Traffic: m.traffic, Message: m.body}
	for _, st := range s.history(m, now) {
		out.Status = append(out.Status, statusJSON{Value: st.Value, Timestamp: s.timestamp(st.At), Message: st.Message})
		if st.Value == "sent" || m.traffic == "incoming" {
			// WhatsApp names a message once it has it.
			out.ChannelMessageID = "wamid." + base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%d:%016X", m.contact.id, mix(uint64(m.id))))
		}
	}
	if m.traffic == "outgoing" {
		out.Sender = &senderJSON{Source: m.source}
	}
	return out
}

// timestamp is t in the platform's clock and unit.
func (s *Server) timestamp(t time.Time) int64 {
	t = t.Add(s.cfg.ClockSkew)
	if s.cfg.TimestampMillis {
		return t.UnixMilli()
	}
	return t.Unix()
}

// paging reads a list's limit (1 to 100, 10 when absent) and cursorId (0,
// the start, when absent); bad says what is wrong with them.
func paging(q url.Values) (limit int, cursor int64, bad string) {
	limit = 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return 0, 0, "limit must be a number from 1 to 100"
		}
		limit = n
	}
	if v := q.Get("cursorId"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, "cursorId must be a number"
		}
		cursor = n
	}
	return limit, cursor, ""
}

// page is the part of ids a request for limit items after cursor gets,
// and the links to the pages around it. The documentation gives no order,
// so the fake lists in one that is stable but follows neither time nor
// id: a client that takes the first page for the newest messages is
// caught. A cursor is the id of the last item of the page before (0 the
// start), so items taken or added meanwhile shift no page.
func page(r *http.Request, ids []int64, limit int, cursor int64) ([]int64, pagination) {
	slices.SortFunc(ids, listOrder)
	start := 0
	if cursor != 0 {
		start, _ = slices.BinarySearchFunc(ids, cursor, func(id, cursor int64) int {
			if listOrder(id, cursor) > 0 {
				return 1
			}
			return -1
		})
	}
	end := min(start+limit, len(ids))
	var p pagination
	if end < len(ids) {
		p.Next = pageURL(r, limit, ids[end-1])
	}
	if start > 0 {
		before := int64(0)
		if i := start - limit - 1; i >= 0 {
			before = ids[i]
		}
		p.Previous = pageURL(r, limit, before)
	}
	return ids[start:end], p
}

// listOrder is the order the fake lists ids in.
func listOrder(a, b int64) int {
	ka, kb := mix(uint64(a)^0x9e3779b97f4a7c15), mix(uint64(b)^0x9e3779b97f4a7c15)
	switch {
	case ka < kb:
		return -1
	case ka > kb:
		return 1
	}
	return cmp.Compare(a, b)
}

// pageURL is the full URL of the page after cursor, as the request reached
// the fake (a proxy's host and scheme are not guessed).
func pageURL(r *http.Request, limit int, cursor int64) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}, "cursorId": {strconv.FormatInt(cursor, 10)}}
	return scheme + "://" + r.Host + r.URL.EscapedPath() + "?" + q.Encode()
}

// v2Reply is an error answer in v2's shape.
func v2Reply(status int, msg string) reply {
	return reply{status: status, body: jsonLine(v2Error{Code: status, Message: msg})}
}
