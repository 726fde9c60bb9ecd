package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
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

// StopError stops a run: no further request can succeed (the token or the
// address is wrong, or the platform cannot be reached). The contacts not
// delivered stay pending.
type StopError struct {
	Problem Problem
	Base    string // the base URL the run sends to
	Status  int    // the answer's status; 0 when none came
	Reason  string // what came back, or the connection's error
	// Cause, when set, is what came back as a reason to put in words: no
	// answer (and why), or a sandbox's answer.
	Cause *campaign.Reason
}

func (e *StopError) Error() string {
	switch e.Problem {
	case TokenRejected:
		return fmt.Sprintf("the platform rejected the token (%s): check PREGON_TOKEN (v1 takes the channel's token, v2 the workspace's); nothing more was sent", e.Reason)
	case WrongAddress:
		return fmt.Sprintf("%s answered %s: wrong address or API version: check baseUrl and api in the campaign (or -base-url); nothing more was sent", e.Base, e.Reason)
	case NotTheAPI:
		return fmt.Sprintf("%s is not answering as the Messages API (%s): check baseUrl in the campaign (or -base-url); nothing more was sent", e.Base, e.Reason)
	case SandboxMismatch:
		return fmt.Sprintf("%s changed between a pregon sandbox and the platform during the run (%s): a rehearsal and a real send never share a ledger; nothing more was sent", e.Base, e.Reason)
	}
	return fmt.Sprintf("cannot reach the platform at %s (%s): check the address, the network and any proxy or firewall; the contacts not sent stay pending, run the same command again", e.Base, e.Reason)
}

// unreachableAfter is how many requests in a row may fail without an answer
// from the API before a run stops, when the API has not answered yet in
// the run. A wrong address fails every request the same way, so a few
// suffice; three let a single dropped connection at the start pass, and
// cost nothing when the address is right: the contacts stay pending.
const unreachableAfter = 3

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
	// OnDrained, if set, is called once when every contact of the queue
	// has had its request written (retries may follow): a run sharing the
	// rate can give its share back then, not after the last answers.
	OnDrained func()
	// Rehearsal says the address is a pregon sandbox (see Probe and
	// SandboxHeader). An answer that says otherwise stops the run: a
	// rehearsal's ledger never records a real send, nor the reverse.
	Rehearsal bool
	// MaxPause bounds the wait before a retry that the platform asks
	// for (Retry-After); DefaultMaxPause by default. The limiter bounds
	// its own pauses (PacerOptions).
	MaxPause time.Duration
}

// Defaults for Options.
const (
	DefaultMaxAttempts = 5
	// DefaultRate is the platform's documented limit, requests a second.
	DefaultRate    = 25
	DefaultBackoff = 500 * time.Millisecond
	// DefaultTimeout bounds one request, answer included.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxPause bounds a wait the platform asks for (Retry-After):
	// a run holds its campaign while it waits, and a day-long pause is a
	// misconfigured proxy, not a rate limit. After it the request is
	// tried again, within MaxAttempts.
	DefaultMaxPause = time.Minute
)

// DefaultConcurrency allows the full rate with up to 2.5 seconds of API
// latency: requests in flight = rate × latency.
func DefaultConcurrency(perSecond float64) int {
	return max(64, int(perSecond*2.5)+1)
}

// Sender delivers the contacts of a Queue.
type Sender struct {
	client *Client
	pacer  Limiter
	opts   Options

	// slow lets one request at a time go until the API has answered in
	// its own shape (then opened is closed, and every request goes): a
	// wrong address then costs one request, not a second's worth in
	// flight.
	slow   chan struct{}
	opened chan struct{}

	unsent  atomic.Int64 // contacts handed out whose first request is not written yet
	drained atomic.Bool  // the queue is empty
	drain   sync.Once

	mu       sync.Mutex // guards stats and the two below
	stats    Stats
	answered bool // the API has answered in this run
	failures int  // requests in a row without an answer from the API
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

// New returns a Sender that sends through client at the pace of limiter,
// which admits each request at the moment it is written.
func New(client *Client, limiter Limiter, opts Options) *Sender {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency(0)
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxPause <= 0 {
		opts.MaxPause = DefaultMaxPause
	}
	client.gate = limiter.Admit
	return &Sender{client: client, pacer: limiter, opts: opts, slow: make(chan struct{}, 1), opened: make(chan struct{})}
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
// the run must stop (*StopError, *LedgerError).
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
			s.unsent.Add(1)
			g.Go(func() error { return s.deliver(gctx, q, j) })
		}
	}
	if readErr == nil && gctx.Err() == nil {
		s.drained.Store(true)
		s.checkDrained()
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
	written := sync.OnceFunc(func() { s.unsent.Add(-1); s.checkDrained() })
	defer written()
	for try := 1; ; try++ {
		if err := s.pacer.Wait(ctx); err != nil {
			return err // not attempted: the contact stays as it was
		}
		release, err := s.slowStart(ctx)
		if err != nil {
			return err
		}
		if err := q.Attempt(ctx, job.ID); err != nil {
			release()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &LedgerError{Err: err}
		}
		// A stop ends the request only while it waits for its slot:
		// cutting it after it was written would make its outcome unknown.
		// The client's timeout bounds it.
		s.started()
		resp := s.client.Send(ctx, job.Path, job.Payload)
		written()
		s.count(resp)
		s.pacer.Observe(resp)
		v := s.judge(Classify(resp), resp)
		release()
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
			switch {
			case ctx.Err() != nil:
				cause := o.Reason
				o.Reason = campaign.Reason{Code: campaign.StoppedAtRetry, Cause: &cause}
			case resp.Err != nil:
				// Never a failure of the contact: the platform was not
				// reached, and the next run sends it.
				v.Stop = Unreachable
			default:
				o.State = campaign.Failed
				cause := o.Reason
				o.Reason = campaign.Reason{Code: campaign.GaveUp, Args: []any{try}, Cause: &cause}
			}
		}
		if err := q.Record(record, job.ID, o); err != nil {
			return &LedgerError{Err: err}
		}
		s.tally(o)
		if s.opts.OnOutcome != nil {
			s.opts.OnOutcome(job, o)
		}
		if v.Stop != NoProblem {
			return &StopError{Problem: v.Stop, Base: s.client.base.Redacted(), Status: resp.Status, Reason: stopReason(resp, o), Cause: stopCause(resp)}
		}
		return nil
	}
}

// judge adds to a verdict what only the run knows: an answer that is not
// the API's before the API has answered at all means a wrong address, and
// so do unreachableAfter requests in a row that got no answer; a sandbox's
// answer to a real send, or the platform's to a rehearsal, stops the run.
func (s *Sender) judge(v Verdict, r Response) Verdict {
	if r.Err == nil && r.FromSandbox() != s.opts.Rehearsal {
		if !s.opts.Rehearsal {
			// The sandbox delivers nothing: the contact is still to send.
			v.Outcome = campaign.Outcome{State: campaign.Pending, HTTPStatus: r.Status, Reason: campaign.Reason{Code: campaign.SandboxAnswer}}
		}
		v.Retry, v.Stop = false, SandboxMismatch
		return v
	}
	if r.Held {
		return v // it never left: it says nothing about the platform
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v.Platform {
		if !s.answered {
			close(s.opened)
		}
		s.answered, s.failures = true, 0
		return v
	}
	if s.answered || v.Outcome.State == campaign.Sent {
		return v
	}
	s.failures++
	switch {
	case v.Stop != NoProblem:
	case v.Outcome.HTTPStatus != 0 && !v.Retry:
		v.Stop = NotTheAPI // an error page where the API should be
	case s.failures >= unreachableAfter && v.Outcome.HTTPStatus != 0:
		v.Stop, v.Retry = NotTheAPI, false
	case s.failures >= unreachableAfter:
		v.Stop, v.Retry = Unreachable, false
	}
	return v
}

// checkDrained calls OnDrained once the queue is empty and every request
// handed out was written.
func (s *Sender) checkDrained() {
	if s.opts.OnDrained != nil && s.drained.Load() && s.unsent.Load() == 0 {
		s.drain.Do(s.opts.OnDrained)
	}
}

// slowStart holds a request while another is in flight and the API has
// not answered yet; the returned function lets the next one go.
func (s *Sender) slowStart(ctx context.Context) (release func(), err error) {
	s.mu.Lock()
	answered := s.answered
	s.mu.Unlock()
	if answered {
		return func() {}, nil
	}
	select {
	case s.slow <- struct{}{}:
		return func() { <-s.slow }, nil
	case <-s.opened:
		return func() {}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// stopReason says, for a StopError, what came back.
func stopReason(r Response, o campaign.Outcome) string {
	if r.Err == nil && r.FromSandbox() {
		return fmt.Sprintf("%d from a pregon sandbox", r.Status)
	}
	if r.Err != nil {
		return transportReason(r.Err)
	}
	if r.Status >= 300 && r.Status < 400 {
		return fmt.Sprintf("%d, a redirect to %q", r.Status, r.Header.Get("Location"))
	}
	if shape := shapeOf(r.Body); shape == errorShape(r.API) {
		return fmt.Sprintf("%d %s", r.Status, platformMessage(r, shape))
	}
	return fmt.Sprintf("%d, %s", r.Status, describeBody(r))
}

// stopCause is what came back, for a StopError, when it is not the
// platform's or a server's words: no answer, or a sandbox's.
func stopCause(r Response) *campaign.Reason {
	switch {
	case r.Err != nil:
		c := transportCause(r.Err)
		return &c
	case r.FromSandbox():
		return &campaign.Reason{Code: campaign.SandboxAnswer}
	}
	return nil
}

// backoff is the wait before retry number try+1: exponential with full
// jitter, and never shorter than the platform's Retry-After.
func (s *Sender) backoff(try int, r Response) time.Duration {
	d := s.opts.Backoff << (try - 1)
	if d > time.Minute || d <= 0 {
		d = time.Minute
	}
	d = d/2 + rand.N(d/2+1)
	if ra := min(retryAfter(r.Header, time.Now()), s.opts.MaxPause); ra > d {
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

// Rate is the achieved request rate: requests over the time between the
// first and the last request's start.
func (st Stats) Rate() float64 {
	span := st.Last.Sub(st.First).Seconds()
	if st.Requests < 2 || span <= 0 {
		return 0
	}
	return float64(st.Requests-1) / span
}

// probeTries is how many times Probe asks an address that does not answer
// before it gives up: a connection refused once at the start of a nightly
// run should not cost the night.
const probeTries = 3

// Probe asks the address once before any message (Client.Probe) and
// learns whether a pregon sandbox answers there, which from then on it
// expects of every answer (Options.Rehearsal). An address that cannot be
// reached stops the run before any contact is attempted, and so does a
// token the API refuses (v2): a *StopError. An answer in the API's own
// shape lets every message go at once (see slowStart).
func (s *Sender) Probe(ctx context.Context, api string) (rehearsal bool, err error) {
	for try := 1; ; try++ {
		r := s.client.Probe(ctx, api)
		if r.Err == nil {
			s.opts.Rehearsal = r.FromSandbox()
			if api == "v2" {
				r.API = "v2"
				switch v := Classify(r); {
				case v.Stop == TokenRejected:
					return false, &StopError{Problem: TokenRejected, Base: s.client.base.Redacted(), Status: r.Status, Reason: stopReason(r, v.Outcome)}
				case isList(r.Body) || shapeOf(r.Body) == v2Error:
					s.judge(Verdict{Platform: true}, r)
				}
			}
			return s.opts.Rehearsal, nil
		}
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if unreachable(r.Err) || try == probeTries {
			return false, &StopError{Problem: Unreachable, Base: s.client.base.Redacted(), Reason: transportReason(r.Err)}
		}
		if err := sleep(ctx, s.opts.Backoff<<(try-1)); err != nil {
			return false, err
		}
	}
}

// isList reports a v2 list answer: an object with an items array.
func isList(body []byte) bool {
	var v struct {
		Items *[]json.RawMessage `json:"items"`
	}
	return json.Unmarshal(body, &v) == nil && v.Items != nil
}
