package sender

import (
	"context"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// windowSlack is added to the one-second window the hard limit is checked
// over, so that a request's travel time to the platform, which varies by a
// millisecond or so on a loaded machine, cannot put one request too many
// into the platform's window. It costs rate: 25 requests per 1.003 s is
// 24.93/s, above the 24.9/s target with a little room.
const windowSlack = 3 * time.Millisecond

// Pacer spaces requests so the platform never sees more than max of them
// in any one-second window, and slows down when the platform asks.
//
// Two mechanisms: a token bucket with a burst of 1 (x/time/rate) spaces
// requests evenly at the current rate, before their attempt is recorded;
// a ring of the last max send times is the hard limit, checked at the
// moment each request is about to be written (a bucket alone lets 26
// through in some second when a timer fires late, and the bucket is
// checked before connection set-up, which can take a while).
type Pacer struct {
	max     float64 // requests per second; 0 means no limit (benchmarks)
	limiter *rate.Limiter
	turn    chan struct{} // held by the one request waiting for the window

	maxPause    time.Duration             // the longest Retry-After honoured
	onLongPause func(asked time.Duration) // told of a longer one

	mu          sync.Mutex
	ring        []time.Time // the last len(ring) send times; ring[next] is the oldest
	next        int
	pausedUntil time.Time
	current     float64   // rate now, lowered after a 429
	ceiling     float64   // highest rate believed to work
	lastChange  time.Time // last change of current
	last429     time.Time
}

// NewPacer returns a pacer for at most perSecond requests in any second.
// perSecond 0 means unlimited.
func NewPacer(perSecond float64) *Pacer {
	p := &Pacer{max: perSecond, current: perSecond, ceiling: perSecond, turn: make(chan struct{}, 1)}
	if perSecond > 0 {
		p.limiter = rate.NewLimiter(spaced(perSecond), 1)
		// Floor: a fractional rate (20.5) allows 20 in any one second.
		p.ring = make([]time.Time, int(math.Max(1, math.Floor(perSecond))))
	}
	return p
}

// Wait blocks until the next request may be prepared: after any pause the
// platform asked for, at the current rate. It returns early only when ctx
// is done.
func (p *Pacer) Wait(ctx context.Context) error {
	if p.max == 0 {
		return ctx.Err()
	}
	for {
		if err := sleep(ctx, p.pause()); err != nil {
			return err
		}
		// Not limiter.Wait: it fails at once, with an error that is not the
		// context's, when the context's deadline (-max-duration) comes before
		// the reserved slot, which would end the run as if it had broken.
		r := p.limiter.Reserve()
		if err := sleep(ctx, r.Delay()); err != nil {
			r.Cancel() // give the slot back to the requests still waiting
			return err
		}
		// A 429 may have paused everyone while this slot was awaited.
		if p.pause() <= 0 {
			return nil
		}
	}
}

// pause is how long the platform asked everyone to wait, from now.
func (p *Pacer) pause() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pausedUntil.Sub(time.Now())
}

// admit blocks until a request can be written without putting more than
// max requests into any one-second window, and takes a slot for it; it
// fails, taking nothing, when ctx ends first. Requests are admitted in the
// order they arrive. The caller writes the request and then calls the
// returned function, which moves the slot's time to the end of the write:
// a write delayed after admission (the goroutine waiting for a thread
// while others are in SQLite) then delays the next window too, instead of
// shortening it.
func (p *Pacer) admit(ctx context.Context) (written func(), err error) {
	if p.max == 0 {
		return func() {}, ctx.Err()
	}
	// One request at a time waits for the window; the others queue behind
	// it on the channel, whose waiters are served first come, first served.
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.turn }()
	for {
		p.mu.Lock()
		now := time.Now()
		// The window holds as many requests as the current rate allows,
		// which a 429 or X-RateLimit-Limit may have lowered below max.
		n := min(len(p.ring), max(1, int(p.current)))
		oldest := p.ring[(p.next-n+len(p.ring))%len(p.ring)]
		wait := oldest.Add(time.Second + windowSlack).Sub(now)
		if wait <= 0 {
			slot := p.next
			p.ring[slot] = now
			p.next = (p.next + 1) % len(p.ring)
			p.mu.Unlock()
			return func() {
				p.mu.Lock()
				if t := time.Now(); t.After(p.ring[slot]) {
					p.ring[slot] = t
				}
				p.mu.Unlock()
			}, nil
		}
		p.mu.Unlock()
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// Observe adjusts the pace to an answer: a 429 pauses everyone for its
// Retry-After and lowers the rate; X-RateLimit-Limit caps it; successes
// raise it back gradually, never above the last rate that drew a 429.
func (p *Pacer) Observe(r Response) {
	if p.max == 0 || r.Err != nil {
		return
	}
	now := time.Now()
	if asked := retryAfter(r.Header, now); p.maxPause > 0 && asked > p.maxPause && p.onLongPause != nil {
		p.onLongPause(asked)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if limit := headerInt(r.Header, "X-RateLimit-Limit"); limit > 0 && float64(limit) < p.ceiling {
		p.ceiling = float64(limit)
		p.setRate(math.Min(p.current, p.ceiling), now)
	}
	switch {
	case r.Status == 429 || r.Status == 449:
		if wait := p.retryAfter(r.Header, now); wait > 0 {
			if until := now.Add(wait); until.After(p.pausedUntil) {
				p.pausedUntil = until
			}
		} else if remaining := headerInt(r.Header, "X-RateLimit-Remaining"); remaining == 0 {
			p.pausedUntil = now.Add(time.Second)
		}
		// Answers to requests already in flight arrive together: lower the
		// rate once per burst of 429s, not once per 429.
		if now.Sub(p.last429) < time.Second {
			return
		}
		p.last429 = now
		p.ceiling = math.Max(1, p.current*0.95)
		p.setRate(math.Max(1, p.current*0.8), now)
	case r.Status >= 200 && r.Status < 300:
		if remaining := headerInt(r.Header, "X-RateLimit-Remaining"); remaining == 0 {
			// The platform's window is used up: wait for it to roll over
			// rather than spend a request on a 429.
			if until := now.Add(time.Second / 2); until.After(p.pausedUntil) {
				p.pausedUntil = until
			}
		}
		// Recover: one request per second more every two seconds, up to
		// the ceiling; the ceiling itself creeps back up after a quiet
		// half minute, in case the platform's limit was raised.
		if now.Sub(p.lastChange) >= 2*time.Second && p.current < p.ceiling {
			p.setRate(math.Min(p.ceiling, p.current+1), now)
		}
		if p.ceiling < p.max && now.Sub(p.last429) >= 30*time.Second && now.Sub(p.lastChange) >= 2*time.Second {
			p.ceiling = math.Min(p.max, p.ceiling+1)
		}
	}
}

// retryAfter is the wait the platform asked for, at most maxPause.
func (p *Pacer) retryAfter(h http.Header, now time.Time) time.Duration {
	d := retryAfter(h, now)
	if p.maxPause > 0 && d > p.maxPause {
		return p.maxPause
	}
	return d
}

func (p *Pacer) setRate(r float64, now time.Time) {
	if r == p.current {
		return
	}
	p.current = r
	p.lastChange = now
	p.limiter.SetLimitAt(now, spaced(r))
}

// spaced is the even pace for r requests per second under the hard
// window: r per (1 s + windowSlack). At exactly r per second the ring would
// hold every request back a few milliseconds, which costs a second wake-up
// per request and makes the rate depend on timer lateness.
func spaced(r float64) rate.Limit {
	return rate.Limit(r * float64(time.Second) / float64(time.Second+windowSlack))
}

// Rate is the current pace in requests per second (0: unlimited).
func (p *Pacer) Rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
