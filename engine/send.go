package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pregon/pregon/campaign"
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
	Eligible     store.Eligible
	AllowChanged bool
	// Record is what the run history keeps of the options (status builds
	// the command that resumes the run from it).
	Record map[string]any
	Events Events // nil: Quiet
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
	base, token := c.BaseURL, o.Token
	if o.BaseURL != "" {
		base = o.BaseURL
	}
	dest := store.Destination{API: c.API}
	if o.Sandbox {
		fake := sendertest.New(sendertest.Config{Latency: 150 * time.Millisecond, Jitter: 0.5, Sandbox: true})
		defer fake.Close()
		base, token = fake.URL, "sandbox"
		dest.Sandbox = true
		ev.Note(Note{Kind: NoteSandbox, Text: fake.URL})
	}
	if err := checkDestination(base, token, o.Insecure); err != nil {
		return nil, err
	}
	if !o.Sandbox {
		u, _ := sender.ParseBaseURL(base)
		dest.BaseURL = u.String()
	}
	concurrency := o.Concurrency
	if concurrency == 0 {
		concurrency = sender.DefaultConcurrency(o.Rate)
	}
	client, err := sender.NewClient(base, token, concurrency, o.Timeout)
	if err != nil {
		return nil, inputError(err)
	}
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
	id, err := ledger.Register(ctx, c.Name, c.Fingerprint(), dest, o.AllowChanged)
	if err != nil {
		return nil, err
	}
	if n, err := ledger.Recover(ctx, id); err != nil {
		return nil, err
	} else if n > 0 {
		ev.Note(Note{Kind: NoteRecovered, Count: n})
	}
	if contacts.Encoding() != "UTF-8" {
		ev.Note(Note{Kind: NoteEncoding, Text: contacts.Encoding()})
	}
	for _, w := range c.Warnings() {
		ev.Note(Note{Kind: NoteWarning, Text: w})
	}
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
	sendCtx := ctx
	if o.MaxDuration > 0 {
		var cancel context.CancelFunc
		sendCtx, cancel = context.WithTimeout(ctx, o.MaxDuration)
		defer cancel()
	}
	opts := sender.Options{
		Concurrency: concurrency,
		MaxAttempts: o.MaxAttempts,
		OnOutcome:   ev.Outcome,
		OnLongPause: func(asked time.Duration) { ev.Paused(asked, sender.DefaultMaxPause) },
	}
	if !o.Sandbox {
		// The address answered as a pregon sandbox: a rehearsal, which
		// never shares a campaign with real sends in one ledger.
		opts.OnSandbox = func(ctx context.Context) error {
			if err := ledger.MarkRehearsal(ctx, id); err != nil {
				return err
			}
			ev.Note(Note{Kind: NoteRehearsal, Text: dest.BaseURL})
			return nil
		}
	}
	s := sender.New(client, sender.NewPacer(o.Rate), opts)
	ev.Sending(work.total, s.Stats)
	work.start(ctx, ev.Total)
	start := time.Now()
	sendErr := s.Run(sendCtx, work.queue)
	ev.Done()
	if err := work.stop(); err != nil && sendErr == nil {
		sendErr = err
	}
	return finish(context.WithoutCancel(ctx), ledger, runID, c.Name, s.Stats(), time.Since(start), sendErr)
}

// checkDestination refuses, before anything is opened, a destination no
// request could reach safely.
func checkDestination(base, token string, insecure bool) error {
	if token == "" {
		return inputError(errors.New("the API token is missing"))
	}
	if err := sender.CheckToken(token); err != nil {
		return inputError(err)
	}
	if base == "" {
		return inputError(errors.New(`no API address: set "baseUrl" in the campaign or -base-url`))
	}
	u, err := sender.ParseBaseURL(base)
	if err != nil {
		return inputError(err)
	}
	if sender.Insecure(u) && !insecure {
		return inputError(fmt.Errorf("%s is plain http to another machine: the token would cross the network unencrypted; use https, or -insecure if this network is yours", u.Redacted()))
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
	case errors.Is(sendErr, store.ErrRealSends):
		res.EndedBy, res.Code = WrongAddress, Stopped
	case errors.Is(sendErr, context.DeadlineExceeded):
		res.EndedBy, res.Code = Deadline, Stopped
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
