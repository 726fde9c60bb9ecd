package sender

import (
	"context"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter paces a run's requests: Wait before a request is prepared (its
// attempt recorded), Admit at the moment it is written, Observe each
// answer. Pacer is the implementation; the sender takes any.
type Limiter interface {
	// Wait blocks until the next request may be prepared; it fails only
	// when ctx ends.
	Wait(ctx context.Context) error
	// Admit blocks until a request may be written, takes its slot, and
	// returns the function to call once it is written, which says how
	// many sends the window then holds; it fails, taking nothing, when ctx
	// ends first.
	Admit(ctx context.Context) (written func() int, err error)
	// Observe adjusts the pace to an answer.
	Observe(r Response)
}

var _ Limiter = (*Pacer)(nil)

// Pacer spaces requests so the platform never sees more than the limit in
// any one-second window, and follows what the platform says.
//
// Two mechanisms agree on the number of requests per window: a token
// bucket with a burst of 1 (x/time/rate) spaces requests evenly, before
// their attempt is recorded, so that requests do not pile up at the hard
// limit with their attempt on record; the hard limit is a Window of recent
// send times, checked at the moment each request is about to be written
// (a bucket alone lets 26 through in some second when a timer fires late).
// The window may be shared by every run on the machine that sends to the
// same API: the bucket then paces this run at its share.
//
// What the platform says: a 429 pauses every request for its Retry-After
// (at most maxPause) and lowers the rate, which recovers gradually;
// X-RateLimit-Limit caps it; and X-RateLimit-Remaining, compared with the
// sends the window explains, tells how much of the organization's quota
// someone else is spending: the pace leaves them that much, and climbs
// back when they stop. A success with Remaining 0 is no reason to pause:
// at the limit, many answers carry it.
type Pacer struct {
	max     float64 // requests per second; 0 means no limit (benchmarks)
	limiter *rate.Limiter
	window  Window
	turn    chan struct{} // held by the one request waiting for the window
	// wait is held by the requests waiting for the bucket, two at most:
	// a rate change (a run that ends gives its share back) then applies
	// within two requests, instead of after reservations that dozens of
	// waiting requests made at the old rate; two, so that a timer that
	// fires late does not delay the next reservation (with one waiter, each
	// wake-up's lateness was lost: 24.6/s instead of 24.9).
	wait chan struct{}

	maxPause    time.Duration             // the longest Retry-After honoured
	onLongPause func(asked time.Duration) // told of a longer one

	mu          sync.Mutex
	pausedUntil time.Time
	current     float64   // rate now, lowered after a 429
	ceiling     float64   // highest rate believed to work
	lastChange  time.Time // last change of current
	last429     time.Time
	limit       int      // the platform's X-RateLimit-Limit; 0 until seen
	others      []sample // what others spent of the quota, per answer
	bucket      rate.Limit
}

// sample is one answer's view of the quota others spent.
type sample struct {
	at     time.Time
	others int
}

// othersMemory is how long an answer's view of others' spending counts:
// long enough to cover a whole window, short enough to climb back within
// two seconds once they stop.
const othersMemory = 1200 * time.Millisecond

// PacerOptions tune a Pacer. The zero value of a field means its default.
type PacerOptions struct {
	// Window is where the hard limit is checked: a LocalWindow of the
	// pacer's own by default, or one shared with other runs.
	Window Window
	// MaxPause bounds a wait the platform asks for (Retry-After);
	// DefaultMaxPause by default.
	MaxPause time.Duration
	// OnLongPause, if set, is told when the platform asked to wait longer
	// than MaxPause, which is waited instead.
	OnLongPause func(asked time.Duration)
}

// NewPacer returns a pacer for at most perSecond requests in any second;
// perSecond 0 means unlimited.
func NewPacer(perSecond float64, o PacerOptions) *Pacer {
	if o.Window == nil {
		o.Window = &LocalWindow{}
	}
	if o.MaxPause <= 0 {
		o.MaxPause = DefaultMaxPause
	}
	p := &Pacer{max: perSecond, current: perSecond, ceiling: perSecond, window: o.Window, turn: make(chan struct{}, 1),
		wait: make(chan struct{}, 2), maxPause: o.MaxPause, onLongPause: o.OnLongPause}
	if perSecond > 0 {
		p.limiter = rate.NewLimiter(0, 1)
		p.mu.Lock()
		p.repace(time.Now())
		p.mu.Unlock()
	}
	return p
}

// Wait blocks until the next request may be prepared: after any pause the
// platform asked for, at this run's pace. It returns early only when ctx
// is done.
func (p *Pacer) Wait(ctx context.Context) error {
	if p.max == 0 {
		return ctx.Err()
	}
	select {
	case p.wait <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.wait }()
	for {
		if err := sleep(ctx, p.pause()); err != nil {
			return err
		}
		p.mu.Lock()
		p.repace(time.Now()) // another run may have started or ended
		p.mu.Unlock()
		// Not limiter.Wait: it fails at once, with an error that is not the
		// context's, when the context's deadline comes before the reserved
		// slot, which would end the run as if it had broken.
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

// Admit blocks until a request can be written without putting more than
// the limit into any one-second window of the Window, and takes a slot for
// it; it fails, taking nothing, when ctx ends first. Requests are admitted
// in the order they arrive. The caller writes the request and then calls
// the returned function, which moves the slot's time to the end of the
// write: a write delayed after admission (the goroutine waiting for a
// thread while others are in SQLite) then delays the next window too,
// instead of shortening it.
func (p *Pacer) Admit(ctx context.Context) (written func() int, err error) {
	if p.max == 0 || ctx.Err() != nil {
		return func() int { return 0 }, ctx.Err()
	}
	// One request at a time waits for the window; the others queue behind
	// it on the channel, whose waiters are served first come, first served.
	// (A select picks at random among ready cases: ctx is checked again
	// once the turn is taken.)
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.turn }()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		slot, wait, err := p.window.Take(time.Now(), p.perWindow())
		if err != nil {
			return nil, err
		}
		if wait <= 0 {
			return func() int { return p.window.Written(slot, time.Now()) }, nil
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// perWindow is how many requests one window may hold now, for every run
// that shares it.
func (p *Pacer) perWindow() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(1, int(math.Floor(p.effective(time.Now()))))
}

// effective is the rate all runs sharing the window may send at now: the
// current rate, at most the platform's limit less what others spend.
func (p *Pacer) effective(now time.Time) float64 {
	r := p.current
	if p.limit > 0 && float64(p.limit) < r {
		r = float64(p.limit)
	}
	return math.Max(math.Min(r, 1), r-float64(p.othersNow(now)))
}

// othersNow estimates how many requests of the window others spend: the
// upper quartile of what the answers of the last othersMemory saw (one
// answer can see a request too many, when it arrived a little later than
// it was written, and a per-second window shows others' spending growing
// through each second), and nothing below 2 for the same reason.
func (p *Pacer) othersNow(now time.Time) int {
	var seen []int
	for _, s := range p.others {
		if now.Sub(s.at) <= othersMemory {
			seen = append(seen, s.others)
		}
	}
	if len(seen) < 3 {
		return 0
	}
	slices.Sort(seen)
	if q := seen[len(seen)*3/4]; q >= 2 {
		return q
	}
	return 0
}

// repace sets the bucket to this run's share of the effective rate, never
// more than the window holds (a fractional 23.75 after a 429 is 23 a
// second, so that requests do not wait at the window with their attempt
// on record).
func (p *Pacer) repace(now time.Time) {
	e := p.effective(now)
	r := p.window.Share(math.Min(e, math.Max(1, math.Floor(e))))
	if l := spaced(r); l != p.bucket {
		p.bucket = l
		p.limiter.SetLimitAt(now, l)
	}
}

// Observe adjusts the pace to an answer: a 429 pauses everyone for its
// Retry-After and lowers the rate; X-RateLimit-Limit caps it, and
// X-RateLimit-Remaining tells what others spend; successes raise the rate
// back gradually, never above the last rate that drew a 429.
func (p *Pacer) Observe(r Response) {
	if p.max == 0 || r.Err != nil {
		return
	}
	now := time.Now()
	if asked := retryAfter(r.Header, now); p.maxPause > 0 && asked > p.maxPause && p.onLongPause != nil {
		p.onLongPause(asked)
	}
	limit, remaining := headerInt(r.Header, "X-RateLimit-Limit"), headerInt(r.Header, "X-RateLimit-Remaining")
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.repace(now)
	if limit > 0 {
		p.limit = limit
		// Only an answer that took the request says what the window held
		// at it: a 429's Remaining 0 would count our own refusal as others'
		// spending, and then no 429 would lower the rate.
		if remaining >= 0 && r.InWindow > 0 && r.Status >= 200 && r.Status < 300 {
			p.others = append(keepRecent(p.others, now), sample{at: now, others: limit - remaining - r.InWindow})
		}
	}
	switch {
	case r.Status == 429 || r.Status == 449:
		if wait := p.retryAfter(r.Header, now); wait > 0 {
			if until := now.Add(wait); until.After(p.pausedUntil) {
				p.pausedUntil = until
			}
		} else if remaining == 0 {
			p.pausedUntil = now.Add(time.Second)
		}
		// Answers to requests already in flight arrive together: lower the
		// rate once per burst of 429s, not once per 429. A 429 that others'
		// spending explains (see othersNow) is already paid for by leaving
		// them their share: lowering the rate too would pay for it twice.
		if now.Sub(p.last429) < time.Second || p.othersNow(now) > 0 {
			return
		}
		p.last429 = now
		p.ceiling = math.Max(1, p.current*0.95)
		p.setRate(math.Max(1, p.current*0.8), now)
	case r.Status >= 200 && r.Status < 300:
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

// keepRecent is the samples still within othersMemory.
func keepRecent(s []sample, now time.Time) []sample {
	out := s[:0:0]
	for _, x := range s {
		if now.Sub(x.at) <= othersMemory {
			out = append(out, x)
		}
	}
	return out
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
}

// spaced is the even pace for r requests per second under the hard
// window: r per (1 s + windowSlack). At exactly r per second the window
// would hold every request back a few milliseconds, which costs a second
// wake-up per request and makes the rate depend on timer lateness.
func spaced(r float64) rate.Limit {
	return rate.Limit(r * float64(time.Second) / float64(time.Second+windowSlack))
}

// Rate is the current pace of all runs sharing the window, in requests
// per second (0: unlimited).
func (p *Pacer) Rate() float64 {
	if p.max == 0 {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.effective(time.Now())
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
