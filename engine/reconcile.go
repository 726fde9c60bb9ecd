package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/sender"
	"github.com/pregon/pregon/store"
)

// Resolving unknown contacts: the request left and its answer was lost, so
// pregon cannot know whether the message arrived — but the platform can
// say. Its list of the contact's messages either holds ours (sent, with
// its id), or, read to its end, proves it absent (pending: the next run
// sends it once); anything in between stays unknown for the operator.

// Reconciliation's limits.
const (
	// clockSkew is how far the platform's clock may be from this
	// machine's: a message of ours counts if the platform dated it no
	// earlier than our attempt less this.
	clockSkew = 10 * time.Minute
	// maxPages bounds how much of a contact's history is read (100
	// messages a page): a contact with more stays unknown.
	maxPages = 50
)

// ReconcileResult says what reconciliation settled.
type ReconcileResult struct {
	Found  int // on the platform: now sent
	Absent int // proved absent: now pending, sent again once by the next run
	Still  int // still unknown: the platform's list could not tell
}

// Reconcile settles the campaign's unknown contacts by asking the
// platform (v2), before any new message is sent.
func Reconcile(ctx context.Context, o ReadOptions) (*ReconcileResult, error) {
	ledger, id, s, done, err := openReads(ctx, o)
	if err != nil {
		return nil, err
	}
	defer done()
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = sender.DefaultTimeout
	}
	return reconcile(ctx, ledger, id, s, timeout, o.Progress)
}

// reconcile settles the unknowns; timeout is the sends' request timeout:
// a request younger than three times that (the client's whole wait, and
// as long again twice for the platform to finish what it started) may
// still be under way at the platform, so it cannot be proved absent yet.
func reconcile(ctx context.Context, ledger *store.Ledger, id store.CampaignID, s *sender.Sender, timeout time.Duration, progress func(int)) (*ReconcileResult, error) {
	unknowns, err := ledger.Unknowns(ctx, id)
	if err != nil {
		return nil, err
	}
	known := func(messageID string) bool {
		held, err := ledger.MessageIDHeld(ctx, messageID)
		return err != nil || held
	}
	res := &ReconcileResult{}
	for i, u := range unknowns {
		verdict, messageID, err := lookFor(ctx, s, u, 3*timeout, known)
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			res.Still++ // the platform could not be asked: it stays as it was
			continue
		}
		switch verdict {
		case found:
			if err := ledger.FoundOnPlatform(context.WithoutCancel(ctx), u.ID, messageID, time.Now()); err != nil {
				return res, err
			}
			res.Found++
		case absent:
			if u.Moved { // absent here; it may sit at the address the request went to
				if err := ledger.StillUnknown(context.WithoutCancel(ctx), u.ID, movedAway(u.MovedFrom)); err != nil {
					return res, err
				}
				res.Still++
				break
			}
			if err := ledger.AbsentFromPlatform(context.WithoutCancel(ctx), u.ID); err != nil {
				return res, err
			}
			res.Absent++
		default:
			res.Still++
		}
		if progress != nil {
			progress(i + 1)
		}
	}
	return res, nil
}

// movedAway says why a contact whose request went to an address the
// campaign has left stays unknown ("" when the ledger did not record the
// address it left).
func movedAway(from string) campaign.Reason {
	if from == "" {
		return campaign.Reason{Code: campaign.MovedAway}
	}
	return campaign.Reason{Code: campaign.MovedAwayFrom, Args: []any{from}}
}

type lookVerdict int

const (
	ambiguous lookVerdict = iota
	found
	absent
)

// lookFor reads the contact's messages for the one the lost request
// carried: outgoing, from the API, on the same channel, with the same
// message, dated no earlier than the attempt (less clockSkew), and not
// already another contact's. Absence is proved only by a list read to its
// end, well formed, with no message that could be ours and cannot be told
// apart, once the lost request can no longer be under way at the platform
// (settled has passed since it was made). The order of the list
// is not documented, so absence needs the whole list.
func lookFor(ctx context.Context, s *sender.Sender, u store.Unknown, settled time.Duration, known func(string) bool) (lookVerdict, string, error) {
	ours, channel, err := messageOf(u.Payload)
	if err != nil || u.AttemptedAt.IsZero() {
		return ambiguous, "", nil
	}
	since := u.AttemptedAt.Add(-clockSkew)
	cursor, doubt := "", false
	for page := 0; page < maxPages; page++ {
		items, next, err := s.ListMessages(ctx, u.Contact, cursor, 100)
		if err != nil {
			return ambiguous, "", err
		}
		for _, m := range items {
			switch mine := judgeItem(m, ours, channel, since); {
			case mine == itemOurs && !known(m.ID):
				return found, m.ID, nil
			case mine != itemNotOurs:
				doubt = true
			}
		}
		if next == "" {
			if doubt || time.Since(u.AttemptedAt) < settled {
				return ambiguous, "", nil
			}
			return absent, "", nil
		}
		cursor = next
	}
	return ambiguous, "", nil
}

type itemVerdict int

const (
	itemNotOurs itemVerdict = iota
	itemOurs
	itemDoubt // could be ours; cannot be told apart
)

// judgeItem says whether a listed message is the one pregon sent.
func judgeItem(m sender.Message, ours json.RawMessage, channel string, since time.Time) itemVerdict {
	if m.Incoming {
		return itemNotOurs
	}
	created := m.Created()
	if !created.IsZero() && created.Before(since) {
		return itemNotOurs // older than the request
	}
	if channel != "" && m.ChannelID != "" && m.ChannelID != channel {
		return itemNotOurs
	}
	a, b := essence(ours), essence(m.Body)
	switch {
	case sameMessage(ours, m.Body):
		if created.IsZero() || !m.Outgoing || (m.Source != "" && m.Source != "api") {
			return itemDoubt
		}
		return itemOurs
	case a != "" && b != "":
		return itemNotOurs // both understood, and different
	}
	return itemDoubt
}

// messageOf is the message object and the channel of a v2 payload.
func messageOf(payload []byte) (json.RawMessage, string, error) {
	var p struct {
		ChannelID json.RawMessage `json:"channelId"`
		Message   json.RawMessage `json:"message"`
	}
	err := json.Unmarshal(payload, &p)
	return p.Message, strings.Trim(string(p.ChannelID), `"`), err
}

// sameMessage reports whether the platform's copy of a message is the one
// pregon sent: the same JSON once both are in one canonical form, or, for
// a template, the same name, language and parameter values, and for a
// text, the same text (the platform may add fields of its own).
func sameMessage(ours, theirs json.RawMessage) bool {
	if len(theirs) == 0 {
		return false
	}
	if bytes.Equal(canonical(ours), canonical(theirs)) {
		return true
	}
	a, b := essence(ours), essence(theirs)
	return a != "" && a == b
}

func canonical(raw json.RawMessage) []byte {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	out, _ := json.Marshal(v) // maps marshal with sorted keys
	return out
}

// essence is what identifies a message's content: a template's name,
// language and parameter values; a text's text; "" otherwise.
func essence(raw json.RawMessage) string {
	m, ok := campaign.ReadMessage(raw)
	switch {
	case !ok:
		return ""
	case m.Type == "text" && m.Text != "":
		return "text\x00" + m.Text
	case m.Type == "whatsapp_template":
		var b bytes.Buffer
		b.WriteString("template\x00" + m.Name + "\x00" + m.LanguageCode)
		for _, c := range m.Parameters {
			for _, p := range c.Parameters {
				b.WriteString("\x00" + c.Type + "=")
				b.Write(canonical(p))
			}
		}
		return b.String()
	}
	return ""
}
