package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/rateshare"
	"github.com/pregon/pregon/sender"
	"github.com/pregon/pregon/sender/sendertest"
	"github.com/pregon/pregon/store"
)

// SendOptions are what a send needs besides the campaign.
type SendOptions struct {
	Contacts string // the contacts CSV
	Ledger   string // the ledger file
	BaseURL  string // overrides the campaign's baseUrl; ignored with Sandbox
	Token    string
	// Sandbox sends to a built-in fake of the API instead of the platform.
	Sandbox bool
	// Insecure allows an http:// base URL for a host that is not this
	// machine, which carries the token across the network in clear.
	Insecure     bool
	Rate         float64 // requests a second at most; 0: no limit
	Concurrency  int     // requests in flight; 0: enough for Rate
	MaxAttempts  int
	Timeout      time.Duration // one request, answer included
	MaxDuration  time.Duration // the send stops gracefully after it; 0: none
	NotAfter     time.Time     // the send stops gracefully then; zero: none
	Eligible     store.Eligible
	AllowChanged bool
	// Record is what the run history keeps of the options (status builds
	// the command that resumes the run from it).
	Record map[string]any
	Events Events // nil: Quiet
	// StateDir is where runs on this machine share the rate of one API
	// (see rateshare); "" is rateshare.Dir().
	StateDir string
}

// InputError is a problem with the input or the options: nothing was sent.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputError(err error) error { return &InputError{Err: err} }

// EndedBy says how a run ended.
type EndedBy string

// How a run can end.
const (
	Finished      EndedBy = "finished"       // the queue is empty
	Interrupted   EndedBy = "interrupted"    // asked to stop (Ctrl-C, SIGTERM)
	Deadline      EndedBy = "deadline"       // MaxDuration passed
	NotAfter      EndedBy = "not after"      // the NotAfter time came
	TokenRejected EndedBy = "token rejected" // 401
	WrongAddress  EndedBy = "wrong address"  // 405, a redirect, or not the API answering
	Unreachable   EndedBy = "platform unreachable"
	Broken        EndedBy = "error" // the ledger could not be written, or another error
)

// Code classes a run's end the way exit codes do.
type Code int

// The codes.
const (
	Complete   Code = 0 // every contact is sent
	Incomplete Code = 1 // the run went to the end; some contacts are failed, unknown, invalid or pending
	BadInput   Code = 2 // the input or the options are wrong; nothing was sent
	Stopped    Code = 3 // stopped early with work left
)

// Result is how a run ended.
type Result struct {
	Campaign string
	EndedBy  EndedBy
	Code     Code
	Stats    sender.Stats
	Elapsed  time.Duration // of the send itself
	Summary  store.Summary // the campaign's contacts after the run
	// Err is what ended the run early; nil when it went to the end.
	Err error
}

// Send runs the campaign: the whole of `pregon send` but its flags and its
// words. An error means the run could not start or its end could not be
// told (then nothing, or only what is recorded in the ledger, was sent); a
// run that started returns a Result, whatever stopped it.
func Send(ctx context.Context, c *campaign.Campaign, o SendOptions) (res *Result, err error) {
	ev := o.Events
	if ev == nil {
		ev = Quiet{}
	}
	if u := unfilled(c, o.BaseURL, o.Sandbox); len(u) > 0 {
		return nil, &UnfilledError{Values: u}
	}
	l, err := connect(c, o, ev)
	if err != nil {
		return nil, err
	}
	defer l.close()
	contacts, err := c.Open(o.Contacts)
	if err != nil {
		return nil, inputError(err)
	}
	defer contacts.Close()

	ledger, err := store.Open(ctx, o.Ledger)
	if err != nil {
		return nil, err
	}
	defer ledger.Close()
	// The lock of the file just opened, whatever name led to it.
	lock, err := store.Acquire(ledger.Path(), c.Name)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	// Before anything is recorded: is the address reachable, and is it a
	// pregon sandbox? A rehearsal and a real send never share a campaign.
	if !o.Sandbox {
		if l.dest.Rehearsal, err = l.sender.Probe(ctx, c.API); err != nil {
			return nil, err
		}
		if l.dest.Rehearsal {
			ev.Note(Note{Kind: NoteRehearsal, Text: l.dest.BaseURL})
		}
	}
	switch _, err := checkTemplate(ctx, l.sender, c); {
	case errors.Is(err, ErrTemplatesUnlisted):
		ev.Note(Note{Kind: NoteTemplateUnchecked})
	case err != nil:
		var te *TemplateError
		if errors.As(err, &te) {
			return nil, inputError(err)
		}
		return nil, err
	}
	id, err := ledger.Register(ctx, c.Name, c.Fingerprint(), l.dest, o.AllowChanged)
	if err != nil {
		return nil, err
	}
	if n, err := ledger.Recover(ctx, id); err != nil {
		return nil, err
	} else if n > 0 {
		ev.Note(Note{Kind: NoteRecovered, Count: n})
	}
	// Before any new message: ask the platform about the contacts in
	// doubt (v2 can list a contact's messages; the built-in sandbox
	// forgets everything between runs).
	if c.API == "v2" && !o.Sandbox {
		r, err := reconcile(ctx, ledger, id, l.sender, o.Timeout, nil)
		if err != nil {
			return nil, err
		}
		if r.Found+r.Absent+r.Still > 0 {
			ev.Note(Note{Kind: NoteReconciled, Reconciled: r})
		}
	}
	if contacts.Encoding() != "UTF-8" {
		ev.Note(Note{Kind: NoteEncoding, Text: contacts.Encoding()})
	}
	for _, w := range c.Warnings() {
		ev.Note(Note{Kind: NoteWarning, Text: w})
	}
	var ws warnings
	ws.add(contacts.Warnings()...)
	noteWarnings(ev, ws)
	runID, err := ledger.StartRun(ctx, id, o.Record)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil { // finish records how a run that got that far ended
			code, input := Stopped, (*InputError)(nil)
			if errors.As(err, &input) {
				code = BadInput
			}
			ledger.EndRun(context.WithoutCancel(ctx), store.Run{ID: runID, Ended: time.Now(), EndedBy: string(Broken), ExitCode: int(code)})
		}
	}()
	work, err := prepareImport(ctx, ledger, id, contacts, o.Contacts, o.Eligible, ev)
	if err != nil {
		return nil, err
	}
	defer work.stop()
	sendCtx, stop := withLimits(ctx, o)
	defer stop()
	ev.Sending(work.total, l.sender.Stats)
	work.start(ctx, ev.Total)
	start := time.Now()
	sendErr := l.sender.Run(sendCtx, work.queue)
	if cause := context.Cause(sendCtx); errors.Is(sendErr, context.Canceled) && ctx.Err() == nil && (cause == errMaxDuration || cause == errNotAfter) {
		sendErr = cause
	}
	ev.Done()
	if err := work.stop(); err != nil && sendErr == nil {
		sendErr = err
	}
	return finish(context.WithoutCancel(ctx), ledger, runID, c.Name, l.sender.Stats(), time.Since(start), sendErr)
}

// link is the way to the platform: where, the client and the sender.
type link struct {
	dest   store.Destination
	sender *sender.Sender
	close  func()
}

// connect checks the destination and builds the sender, pacing with the
// other runs on this machine that send to the same API.
func connect(c *campaign.Campaign, o SendOptions, ev Events) (*link, error) {
	base, token := c.BaseURL, o.Token
	if o.BaseURL != "" {
		base = o.BaseURL
	}
	l := &link{dest: store.Destination{API: c.API}}
	var closers []func()
	l.close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	if o.Sandbox {
		// The built-in sandbox answers as the platform does: its limit,
		// counted at arrival, and the quota on every answer.
		fake := sendertest.New(sendertest.Config{Latency: 150 * time.Millisecond, Jitter: 0.5, Sandbox: true, PerSecond: 25})
		closers = append(closers, fake.Close)
		base, token = fake.URL, "sandbox"
		l.dest.Sandbox, l.dest.Rehearsal = true, true
		ev.Note(Note{Kind: NoteSandbox, Text: fake.URL})
	}
	if err := checkDestination(base, token, o.Insecure); err != nil {
		l.close()
		return nil, err
	}
	if !o.Sandbox {
		u, _ := sender.ParseBaseURL(base)
		l.dest.BaseURL = u.String()
	}
	concurrency := o.Concurrency
	if concurrency == 0 {
		concurrency = sender.DefaultConcurrency(o.Rate)
	}
	client, err := sender.NewClient(base, token, concurrency, o.Timeout)
	if err != nil {
		l.close()
		return nil, inputError(err)
	}
	pacerOpts := sender.PacerOptions{
		OnLongPause: func(asked time.Duration) { ev.Paused(asked, sender.DefaultMaxPause) },
	}
	var drained func()
	if o.Rate > 0 {
		if w, err := shareRate(o.StateDir, base, c.Name, ev); err != nil {
			ev.Note(Note{Kind: NoteWarning, Text: err.Error() + "; this run paces alone"})
		} else {
			closers = append(closers, func() { w.Close() })
			pacerOpts.Window = w
			drained = func() { w.Leave() } // the last request left: its share is the others'
		}
	}
	l.sender = sender.New(client, sender.NewPacer(o.Rate, pacerOpts), sender.Options{
		Concurrency: concurrency,
		MaxAttempts: o.MaxAttempts,
		OnOutcome:   ev.Outcome,
		OnDrained:   drained,
		Rehearsal:   o.Sandbox,
	})
	return l, nil
}

// withLimits is ctx ended gracefully by whichever of MaxDuration and
// NotAfter comes first; its cause says which.
func withLimits(ctx context.Context, o SendOptions) (context.Context, func()) {
	sendCtx, cancel := context.WithCancelCause(ctx)
	var timers []*time.Timer
	if o.MaxDuration > 0 {
		timers = append(timers, time.AfterFunc(o.MaxDuration, func() { cancel(errMaxDuration) }))
	}
	if !o.NotAfter.IsZero() {
		timers = append(timers, time.AfterFunc(time.Until(o.NotAfter), func() { cancel(errNotAfter) }))
	}
	return sendCtx, func() {
		for _, t := range timers {
			t.Stop()
		}
		cancel(nil)
	}
}

// shareRate joins the runs on this machine that send to the same API, so
// that together they hold the platform's limit; ev hears who else sends.
func shareRate(dir, base, campaign string, ev Events) (*rateshare.Window, error) {
	if dir == "" {
		var err error
		if dir, err = rateshare.Dir(); err != nil {
			return nil, err
		}
	}
	host, _ := os.Hostname()
	run := rateshare.Run{PID: os.Getpid(), Host: host, Campaign: campaign, Started: time.Now()}
	return rateshare.Open(dir, rateshare.Key(base), run, func(others []rateshare.Run) {
		ev.Note(Note{Kind: NoteSharing, Count: len(others), Text: describeRuns(others), Names: campaignsOf(others)})
	})
}

// describeRuns names other runs for a Note: "campaign promo-b (pid 4242)".
func describeRuns(runs []rateshare.Run) string {
	parts := make([]string, len(runs))
	for i, r := range runs {
		parts[i] = fmt.Sprintf("campaign %s (pid %d)", r.Campaign, r.PID)
	}
	return strings.Join(parts, ", ")
}

// campaignsOf names the campaigns of other runs.
func campaignsOf(runs []rateshare.Run) []string {
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = r.Campaign
	}
	return names
}

// The causes of a graceful stop that the run's own limits make.
var (
	errMaxDuration = errors.New("the run's -max-duration passed")
	errNotAfter    = errors.New("the run's -not-after time came")
)

// The destinations no request goes to.
var (
	ErrNoToken   = errors.New("the API token is missing")
	ErrNoAddress = errors.New(`no API address: set "baseUrl" in the campaign or -base-url`)
)

// InsecureError is plain http to another machine without -insecure.
type InsecureError struct{ URL string }

func (e *InsecureError) Error() string {
	return e.URL + " is plain http to another machine: the token would cross the network unencrypted; use https, or -insecure if this network is yours"
}

// checkDestination refuses, before anything is opened, a destination no
// request could reach safely.
func checkDestination(base, token string, insecure bool) error {
	if token == "" {
		return inputError(ErrNoToken)
	}
	if err := sender.CheckToken(token); err != nil {
		return inputError(err)
	}
	if base == "" {
		return inputError(ErrNoAddress)
	}
	u, err := sender.ParseBaseURL(base)
	if err != nil {
		return inputError(err)
	}
	if sender.Insecure(u) && !insecure {
		return inputError(&InsecureError{URL: u.Redacted()})
	}
	return nil
}

// finish records the run's end and says how it went.
func finish(ctx context.Context, ledger *store.Ledger, runID int64, name string,
	st sender.Stats, elapsed time.Duration, sendErr error) (*Result, error) {
	sums, err := ledger.Summaries(ctx, name)
	if err != nil || len(sums) != 1 {
		if err == nil {
			err = fmt.Errorf("campaign %q is not in the ledger any more", name)
		}
		return nil, errors.Join(sendErr, err)
	}
	res := &Result{Campaign: name, EndedBy: Finished, Code: Complete, Stats: st, Elapsed: elapsed, Summary: sums[0], Err: sendErr}
	var stopped *sender.StopError
	switch {
	case errors.As(sendErr, &stopped):
		res.EndedBy, res.Code = endedBy(stopped.Problem), Stopped
	case errors.Is(sendErr, errMaxDuration):
		res.EndedBy, res.Code = Deadline, Stopped
	case errors.Is(sendErr, errNotAfter):
		res.EndedBy, res.Code = NotAfter, Stopped
	case errors.Is(sendErr, context.Canceled):
		res.EndedBy, res.Code = Interrupted, Stopped
	case sendErr != nil:
		res.EndedBy, res.Code = Broken, Stopped
	default:
		for _, s := range []campaign.State{campaign.Failed, campaign.Unknown, campaign.Invalid, campaign.Pending} {
			if res.Summary.Counts[s] > 0 {
				res.Code = Incomplete
			}
		}
	}
	if err := ledger.EndRun(ctx, store.Run{ID: runID, Ended: time.Now(), Sent: int(st.Sent), Failed: int(st.Failed),
		Unknown: int(st.Unknown), Rate: st.Rate(), EndedBy: string(res.EndedBy), ExitCode: int(res.Code)}); err != nil && sendErr == nil {
		// The outcomes are recorded; only the run history misses its end.
		res.EndedBy, res.Code, res.Err = Broken, Stopped, fmt.Errorf("record the end of the run: %w", err)
	}
	return res, nil
}

func endedBy(p sender.Problem) EndedBy {
	switch p {
	case sender.TokenRejected:
		return TokenRejected
	case sender.Unreachable:
		return Unreachable
	}
	return WrongAddress
}
