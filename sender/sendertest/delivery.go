package sendertest

import "time"

// Delivery is how the status of each message the platform keeps advances
// with its age: pending when it is taken, sent halfway to After, then at
// After delivered or, for 1 in FailEvery, failed with one of WhatsApp's
// error texts (some of which fail it before it was ever sent); 1 in
// ReadEvery of the delivered ones is read ReadAfter later. Which message
// fails or is read is a function of its id alone (see History), so a
// test can predict every status; over many messages the shares come near
// 1/FailEvery and 1/ReadEvery, without a pattern in the ids.
//
// A zero field takes its value from DefaultDelivery. A negative After or
// ReadAfter means at once; a negative ReadEvery or FailEvery, never.
type Delivery struct {
	After     time.Duration // from taken to delivered (or failed)
	ReadAfter time.Duration // from delivered to read
	ReadEvery int           // 1 in ReadEvery delivered messages is read
	FailEvery int           // 1 in FailEvery messages fails
}

// DefaultDelivery looks like a campaign's (most delivered, about half of
// those read, one in eight failed) at a speed a test can wait for.
var DefaultDelivery = Delivery{After: time.Second, ReadAfter: 2 * time.Second, ReadEvery: 2, FailEvery: 8}

// SandboxDelivery is the same campaign at the pace a person watches: what
// `pregon sandbox` serves.
var SandboxDelivery = Delivery{After: 20 * time.Second, ReadAfter: 2 * time.Minute, ReadEvery: 2, FailEvery: 8}

// Status is one entry of a message's status history.
type Status struct {
	Value   string    // pending, sent, delivered, read or failed
	At      time.Time // in this machine's clock (the answers add Config.ClockSkew)
	Message string    // why it failed, in WhatsApp's words
}

// failures are the texts a failed status carries, as WhatsApp words them,
// each as likely as the others: some fail a message WhatsApp had sent,
// others refuse it before it is sent.
var failures = []struct {
	text    string
	wasSent bool
}{
	{"Message undeliverable", true},
	{"This message was not delivered to maintain healthy ecosystem engagement.", true},
	{"Recipient phone number not in allowed list", false},
	{"Re-engagement message", false},
	{"Template is Paused", false},
}

// withDefaults fills the zero fields from DefaultDelivery.
func (d Delivery) withDefaults() Delivery {
	if d.After == 0 {
		d.After = DefaultDelivery.After
	}
	if d.ReadAfter == 0 {
		d.ReadAfter = DefaultDelivery.ReadAfter
	}
	if d.ReadEvery == 0 {
		d.ReadEvery = DefaultDelivery.ReadEvery
	}
	if d.FailEvery == 0 {
		d.FailEvery = DefaultDelivery.FailEvery
	}
	d.After, d.ReadAfter = max(d.After, 0), max(d.ReadAfter, 0)
	return d
}

// History is the status history, newest last, of the outgoing message id
// taken at created, as of now.
func (d Delivery) History(id int64, created, now time.Time) []Status {
	d = d.withDefaults()
	h := mix(uint64(id))
	fails := d.FailEvery > 0 && h%uint64(d.FailEvery) == 0
	read := !fails && d.ReadEvery > 0 && mix(h)%uint64(d.ReadEvery) == 0
	steps := []Status{{Value: "pending", At: created}}
	sentAt, doneAt := created.Add(d.After/2), created.Add(d.After)
	if fails {
		f := failures[(h>>32)%uint64(len(failures))]
		if f.wasSent {
			steps = append(steps, Status{Value: "sent", At: sentAt})
		}
		steps = append(steps, Status{Value: "failed", At: doneAt, Message: f.text})
	} else {
		steps = append(steps, Status{Value: "sent", At: sentAt}, Status{Value: "delivered", At: doneAt})
		if read {
			steps = append(steps, Status{Value: "read", At: doneAt.Add(d.ReadAfter)})
		}
	}
	n := 0
	for n < len(steps) && !steps[n].At.After(now) {
		n++
	}
	return steps[:max(n, 1)]
}

// history is a kept message's status history as of now. An incoming
// message was delivered to the inbox when it was created.
func (s *Server) history(m *message, now time.Time) []Status {
	if m.traffic == "incoming" {
		return []Status{{Value: "delivered", At: m.at}}
	}
	return s.cfg.Delivery.History(m.id, m.at, now)
}

// mix scrambles x (splitmix64's finalizer): a stable, patternless choice
// from an id.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
