package sendertest

import (
	"fmt"
	"slices"
	"time"
)

// Window is how the fake counts requests against Config.PerSecond. The
// platform's documentation does not say which it uses, so a client must
// be right under both.
type Window int

const (
	// Sliding allows at most PerSecond requests in any one-second span.
	Sliding Window = iota
	// Fixed allows at most PerSecond requests in each calendar second of
	// the fake's clock, so a burst may straddle a second's end.
	Fixed
)

func (w Window) String() string {
	if w == Fixed {
		return "fixed"
	}
	return "sliding"
}

// MarshalText and UnmarshalText let a flag.TextVar take "sliding" or
// "fixed".
func (w Window) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

func (w *Window) UnmarshalText(b []byte) error {
	switch string(b) {
	case "sliding":
		*w = Sliding
	case "fixed":
		*w = Fixed
	default:
		return fmt.Errorf("window %q: want sliding or fixed", b)
	}
	return nil
}

// reorderWait is how long after a request's arrival its place in the
// window is decided, at the earliest. Handlers run concurrently, so a
// request that arrived first can reach the limiter after one that arrived
// later (a handler can start milliseconds late on a busy machine); waiting
// lets the earlier one be counted first, so the later one's Remaining
// includes it and decisions are made in arrival order. It only delays an
// answer whose Latency is shorter; no platform across a network answers
// faster.
const reorderWait = 50 * time.Millisecond

// keepCounted is how far back from the latest decision counted arrivals
// are kept: a window is a second, and a request whose handler was later
// than this is long past mattering.
const keepCounted = 2 * time.Second

// quota is one request's place in the limit: whether it was admitted and
// what X-RateLimit-Remaining tells it.
type quota struct {
	at        time.Time
	decided   bool
	admitted  bool
	remaining int
	limit     int // the limit it was counted against
}

// limiter counts arrivals against a per-second limit in arrival order,
// whatever order their handlers reach it in. Arrivals are registered as
// soon as a handler has its stamp, and decided in stamp order once no
// earlier arrival can still be registered (after reorderWait). It is not
// safe for concurrent use: the Server's mutex guards it.
type limiter struct {
	limit   int
	fixed   bool
	counted []time.Time // arrivals that spent the quota, oldest first
	pending []*quota    // registered, not yet decided, oldest first
	through time.Time   // every arrival up to here has been decided
	late    int         // arrivals registered after a later one was decided

	// Another integration's requests, at start + k·step for k ≥ 1 until
	// stop; next is the k of the first not yet counted. They are counted
	// lazily, in order with the requests, when a decision needs them.
	bgStart time.Time
	bgStep  time.Duration
	bgNext  int64
	bgStop  time.Time
}

func newLimiter(cfg Config, now time.Time) *limiter {
	l := &limiter{limit: cfg.PerSecond, fixed: cfg.Window == Fixed, bgStart: now.Round(0), bgNext: 1}
	if cfg.Background > 0 {
		l.bgStep = time.Duration(float64(time.Second) / cfg.Background)
	}
	return l
}

// register places an arrival in line. One that arrived before an arrival
// already decided (its handler started later than reorderWait) is decided
// at once against the arrivals up to its own: it can be refused only if
// its window was full without the later ones.
func (l *limiter) register(at time.Time) *quota {
	q := &quota{at: at.Round(0)}
	if !q.at.After(l.through) && !l.through.IsZero() {
		if q.at.Before(l.through) {
			l.late++
		}
		l.decide(q)
		return q
	}
	i, _ := slices.BinarySearchFunc(l.pending, q.at, func(p *quota, t time.Time) int {
		if p.at.After(t) {
			return 1
		}
		return -1 // equal stamps keep their registration order
	})
	l.pending = slices.Insert(l.pending, i, q)
	return q
}

// settle decides, in arrival order, every arrival up to upTo (the
// background's included), which the caller knows to be registered.
func (l *limiter) settle(upTo time.Time) {
	upTo = upTo.Round(0)
	for len(l.pending) > 0 && !l.pending[0].at.After(upTo) {
		q := l.pending[0]
		l.pending = l.pending[1:]
		l.background(q.at)
		l.decide(q)
	}
	l.background(upTo)
	if upTo.After(l.through) {
		l.through = upTo
	}
	if i, _ := slices.BinarySearchFunc(l.counted, l.through.Add(-keepCounted), time.Time.Compare); i > 0 {
		l.counted = slices.Delete(l.counted, 0, i)
	}
}

// decide admits an arrival if its window, counted up to and including its
// own stamp, has room, and counts it.
func (l *limiter) decide(q *quota) {
	n := l.inWindow(q.at)
	q.decided, q.limit = true, l.limit
	if n >= l.limit {
		return
	}
	q.admitted, q.remaining = true, l.limit-n-1
	l.count(q.at)
}

// inWindow is how many counted arrivals share at's window and came no
// later than it.
func (l *limiter) inWindow(at time.Time) int {
	from := at.Add(-time.Second) // sliding: (at-1s, at]
	if l.fixed {
		from = at.Truncate(time.Second).Add(-1) // fixed: [second, at]
	}
	lo := upperBound(l.counted, from)
	hi := upperBound(l.counted, at)
	return hi - lo
}

// count adds an admitted arrival, keeping counted in order.
func (l *limiter) count(at time.Time) {
	l.counted = slices.Insert(l.counted, upperBound(l.counted, at), at)
}

// upperBound is the index of the first time after t.
func upperBound(ts []time.Time, t time.Time) int {
	i, _ := slices.BinarySearchFunc(ts, t, func(e, t time.Time) int {
		if e.After(t) {
			return 1
		}
		return -1
	})
	return i
}

// background counts the other integration's requests up to upTo, each
// admitted or refused like any request: when the window is full, they get
// 429s too and spend nothing.
func (l *limiter) background(upTo time.Time) {
	if l.bgStep == 0 {
		return
	}
	if !l.bgStop.IsZero() && l.bgStop.Before(upTo) {
		upTo = l.bgStop
	}
	// Requests older than keepCounted before upTo cannot reach a window
	// still to be decided: skip them rather than count an idle hour's.
	if skip := int64(upTo.Sub(l.bgStart)-keepCounted) / int64(l.bgStep); skip > l.bgNext {
		l.bgNext = skip
	}
	for {
		at := l.bgStart.Add(time.Duration(l.bgNext) * l.bgStep)
		if at.After(upTo) {
			return
		}
		l.bgNext++
		if l.inWindow(at) < l.limit {
			l.count(at)
		}
	}
}

// backgroundSent is how many requests the other integration sent by now.
func (l *limiter) backgroundSent(now time.Time) int {
	if l.bgStep == 0 {
		return 0
	}
	now = now.Round(0)
	if !l.bgStop.IsZero() && l.bgStop.Before(now) {
		now = l.bgStop
	}
	if now.Before(l.bgStart) {
		return 0
	}
	return int(now.Sub(l.bgStart) / l.bgStep)
}

// stop ends the other integration's requests.
func (l *limiter) stop(now time.Time) {
	if l.bgStop.IsZero() {
		l.bgStop = now.Round(0)
	}
}
