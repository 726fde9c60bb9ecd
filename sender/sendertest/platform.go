package sendertest

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultChannel is the channel a v2 message goes out on when its body
// names none and its contact has had no message yet, and the one
// DefaultTemplates belong to (the samples' channelId).
const DefaultChannel = 4242

// Stored is a message the platform keeps: each v2 send the fake accepted
// (Respond's -2 included, whose answer never left), and with
// Config.OtherTraffic what others sent the contact and what it wrote.
type Stored struct {
	ID        int64
	Contact   string // the identifier it was addressed by, unescaped ("phone:+593991000001")
	ContactID int64  // the platform's number for the contact
	ChannelID int64
	Traffic   string          // "outgoing" or "incoming"
	Source    string          // sender.source: "api" for the fake's accepted sends; "" for incoming
	Message   json.RawMessage // the body's "message", as sent
	At        time.Time       // created, in this machine's clock
	Status    []Status        // the history as of the call, newest last
}

// Stored returns the messages the platform keeps, created by now, in the
// order they were created.
func (s *Server) Stored() []Stored {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Stored
	for _, m := range s.kept.messages {
		if m.at.After(now) {
			continue
		}
		out = append(out, Stored{ID: m.id, Contact: m.identifier, ContactID: m.contact.id, ChannelID: m.channel,
			Traffic: m.traffic, Source: m.source, Message: m.body, At: m.at, Status: s.history(m, now)})
	}
	slices.SortStableFunc(out, func(a, b Stored) int { return a.At.Compare(b.At) })
	return out
}

// platform is what the platform keeps: its contacts and their messages.
// The Server's mutex guards it.
type platform struct {
	nextID      int64 // the next message id
	nextContact int64 // the next contact number to try
	contacts    map[string]*contact
	byNumber    map[int64]*contact
	byID        map[int64]*message
	messages    []*message // in the order they were kept
}

type contact struct {
	id       int64
	channel  int64 // of its latest message, 0 before any
	messages []*message
}

type message struct {
	id         int64
	contact    *contact
	identifier string
	channel    int64
	traffic    string
	source     string
	body       json.RawMessage
	at         time.Time
}

func newPlatform() platform {
	return platform{nextID: 1000, nextContact: 50001, contacts: map[string]*contact{},
		byNumber: map[int64]*contact{}, byID: map[int64]*message{}}
}

// id hands out the next message id: the platform's ids grow with each
// message it takes, whoever sent it.
func (p *platform) id() int64 {
	id := p.nextID
	p.nextID++
	return id
}

// contact finds the contact an identifier names, creating it on first
// sight: every identifier is a customer the platform knows. "id:N" names
// the contact numbered N, however it was first addressed.
func (p *platform) contact(identifier string) (c *contact, created bool) {
	if n, ok := strings.CutPrefix(identifier, "id:"); ok {
		if n, err := strconv.ParseInt(n, 10, 64); err == nil {
			if c := p.byNumber[n]; c != nil {
				return c, false
			}
			c := &contact{id: n}
			p.byNumber[n] = c
			p.contacts[identifier] = c
			return c, true
		}
	}
	if c := p.contacts[identifier]; c != nil {
		return c, false
	}
	for p.byNumber[p.nextContact] != nil {
		p.nextContact++
	}
	c = &contact{id: p.nextContact}
	p.byNumber[c.id] = c
	p.contacts[identifier] = c
	return c, true
}

// keep stores a message the platform took.
func (p *platform) keep(m *message) {
	if m.channel == 0 {
		m.channel = m.contact.channel
	}
	if m.channel == 0 {
		m.channel = DefaultChannel
	}
	m.contact.channel = m.channel
	m.contact.messages = append(m.contact.messages, m)
	p.byID[m.id] = m
	p.messages = append(p.messages, m)
}

// sent is what a v2 send's body says of its message: the channel (0 when
// it names none) and the message object, as sent.
func sent(body []byte) (channel int64, msg json.RawMessage) {
	var b struct {
		ChannelID json.RawMessage `json:"channelId"`
		Message   json.RawMessage `json:"message"`
	}
	json.Unmarshal(body, &b)
	// The platform reads a channel given as a number or as a string of one.
	n := strings.Trim(string(b.ChannelID), `"`)
	channel, _ = strconv.ParseInt(n, 10, 64)
	return channel, b.Message
}
