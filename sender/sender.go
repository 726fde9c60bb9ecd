package sender

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pregon/pregon/campaign"
)

// Queue is the ledger as the sender needs it: the contacts to send, and a
// durable record of each attempt and outcome.
type Queue interface {
	// Next returns up to n more contacts; none means the queue is empty.
	Next(ctx context.Context, n int) ([]campaign.Job, error)
	// Attempt durably records that a request is about to be made for the
	// contact. If it fails, the request must not be made.
	Attempt(ctx context.Context, id int64) error
	// Record records the outcome of the contact's request. It must
	// survive the process being killed once it returns; it may reach the
	// disk with the next Attempt.
	Record(ctx context.Context, id int64, o campaign.Outcome) error
}

// RejectedError stops a run: the platform refused the token or the
// endpoint, so no other request can succeed either.
type RejectedError struct {
	Status int
	Reason string
}

func (e *RejectedError) Error() string {
	if e.Status == 401 {
		return "the platform rejected the token (401): check PREGON_TOKEN; nothing more was sent"
	}
	return fmt.Sprintf("the platform rejected the request (%s): check the base URL and the api version; nothing more was sent", e.Reason)
}

// LedgerError stops a run: an attempt or an outcome could not be recorded,
// and no request is ever made whose attempt is not on record.
type LedgerError struct{ Err error }

func (e *LedgerError) Error() string {
	return "the ledger cannot be written (" + e.Err.Error() + "): sending stopped, so that no message goes out unrecorded; " +
		"free disk space or release the file, then run the same command again"
}
func (e *LedgerError) Unwrap() error { return e.Err }

// Options tune a Sender. The zero value of a field means its default.
type Options struct {
	// Concurrency is how many requests may be in flight at once.
	Concurrency int
	// MaxAttempts bounds the requests made for one contact in one run when
	// the platform asks to retry (429, 503, connection refused).
	MaxAttempts int
	// Backoff is the first retry's wait; it doubles per attempt, with
	// jitter, up to a minute.
	Backoff time.Duration
	// OnOutcome, if set, is called after each outcome is recorded.
	OnOutcome func(campaign.Job, campaign.Outcome)
}

// Defaults for Options.
const (
	DefaultMaxAttempts = 5
	DefaultBackoff     = 500 * time.Millisecond
	// DefaultTimeout bounds one request, answer included.
	DefaultTimeout = 30 * time.Second
)

// DefaultConcurrency allows the full rate with up to 2.5 seconds of API
// latency: requests in flight = rate × latency.
func DefaultConcurrency(perSecond float64) int {
	return max(64, int(perSecond*2.5)+1)
}

// Sender delivers the contacts of a Queue.
type Sender struct {
	client *Client
	pacer  *Pacer
	opts   Options
	mu     sync.Mutex // guards stats
	stats  Stats
}

// Stats counts what a run did.
type Stats struct {
	Requests    int64 // HTTP requests made
	Sent        int64
	Failed      int64
	Unknown     int64
	RateLimited int64     // requests answered 429
	First, Last time.Time // the first and the last request's start
}

// New returns a Sender that sends through client at the pace of pacer.
func New(client *Client, pacer *Pacer, opts Options) *Sender {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency(pacer.max)
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	client.gate = pacer.admit
	return &Sender{client: client, pacer: pacer, opts: opts}
}

// Stats returns the counts so far; safe to call while Run runs.
func (s *Sender) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *Sender) update(fn func(*Stats)) {
	s.mu.Lock()
	fn(&s.stats)
	s.mu.Unlock()
}

// Run sends every contact the queue hands out, and returns when the queue
// is empty, or when ctx is done (then no new request starts, and those in
// flight finish and are recorded before Run returns ctx's error), or when
// the run must stop (*RejectedError, *LedgerError).
func (s *Sender) Run(ctx context.Context, q Queue) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.Concurrency)
	var readErr error
	for gctx.Err() == nil {
		jobs, err := q.Next(gctx, 2*s.opts.Concurrency)
		if err != nil {
			if gctx.Err() == nil {
				readErr = &LedgerError{Err: err}
			}
			break
		}
		if len(jobs) == 0 {
			break
		}
		for _, j := range jobs {
			if gctx.Err() != nil { // Go keeps starting tasks after cancellation
				break
			}
			g.Go(func() error { return s.deliver(gctx, q, j) })
		}
	}
	err := g.Wait()
	if err == nil {
		err = readErr
	}
	if err == nil {
		err = ctx.Err()
	}
	// A task stopped by the cancellation returns the context's error; the
	// cause the caller cares about is the one that cancelled it.
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = ctx.Err()
	}
	return err
}

// deliver sends one contact's message, retrying what is safe to retry.
// It returns an error only when the whole run must stop.
func (s *Sender) deliver(ctx context.Context, q Queue, job campaign.Job) error {
	// Outcomes are recorded even after a stop was asked for: the platform
	// has already acted on those requests.
	record := context.WithoutCancel(ctx)
	for try := 1; ; try++ {
		if err := s.pacer.Wait(ctx); err != nil {
			return err // not attempted: the contact stays as it was
		}
		if err := q.Attempt(ctx, job.ID); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &LedgerError{Err: err}
		}
		// The request is not cancelled by a stop: cutting it after it was
		// written would make its outcome unknown. The client's timeout
		// bounds it.
		s.started()
		resp := s.client.Send(record, job.Path, job.Payload)
		s.count(resp)
		s.pacer.Observe(resp)
		v := Classify(resp)
		o := v.Outcome
		o.At = time.Now()
		if v.Retry && try < s.opts.MaxAttempts && ctx.Err() == nil {
			if err := q.Record(record, job.ID, o); err != nil {
				return &LedgerError{Err: err}
			}
			if err := sleep(ctx, s.backoff(try, resp)); err != nil {
				return err
			}
			continue
		}
		if v.Retry {
			if ctx.Err() != nil {
				o.Error += "; run stopped before the retry"
			} else {
				o.State = campaign.Failed
				o.Error = fmt.Sprintf("gave up after %d attempts: %s", try, o.Error)
			}
		}
		if err := q.Record(record, job.ID, o); err != nil {
			return &LedgerError{Err: err}
		}
		s.tally(o)
		if s.opts.OnOutcome != nil {
			s.opts.OnOutcome(job, o)
		}
		if v.Stop {
			return &RejectedError{Status: resp.Status, Reason: o.Error}
		}
		return nil
	}
}

// backoff is the wait before retry number try+1: exponential with full
// jitter, and never shorter than the platform's Retry-After.
func (s *Sender) backoff(try int, r Response) time.Duration {
	d := s.opts.Backoff << (try - 1)
	if d > time.Minute || d <= 0 {
		d = time.Minute
	}
	d = d/2 + rand.N(d/2+1)
	if ra := retryAfter(r.Header, time.Now()); ra > d {
		d = ra
	}
	return d
}

func (s *Sender) count(r Response) {
	if r.Status == 429 {
		s.update(func(st *Stats) { st.RateLimited++ })
	}
}

// started counts a request as it starts: the achieved rate is measured
// over request starts, not over answers, which latency scatters.
func (s *Sender) started() {
	now := time.Now()
	s.update(func(st *Stats) {
		st.Requests++
		if st.First.IsZero() {
			st.First = now
		}
		st.Last = now
	})
}

func (s *Sender) tally(o campaign.Outcome) {
	s.update(func(st *Stats) {
		switch o.State {
		case campaign.Sent:
			st.Sent++
		case campaign.Failed:
			st.Failed++
		case campaign.Unknown:
			st.Unknown++
		}
	})
}
