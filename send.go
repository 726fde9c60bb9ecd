package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/sender"
	"github.com/pregon/pregon/sender/sendertest"
	"github.com/pregon/pregon/store"
)

// sendFlags are the options of `pregon send`.
type sendFlags struct {
	campaign      string
	contacts      string
	ledger        string
	baseURL       string
	rate          float64
	concurrency   int
	maxAttempts   int
	timeout       time.Duration
	maxDuration   time.Duration
	notAfter      string
	dryRun        bool
	sandbox       bool
	resendUnknown bool
	retryFailed   bool
	allowChanged  bool
	json          bool
}

const (
	defaultLedger        = "pregon.db"
	defaultSandboxLedger = "pregon-sandbox.db"
	tokenEnv             = "PREGON_TOKEN"
)

func parseSendFlags(args []string, stderr io.Writer) (*sendFlags, error) {
	f := &sendFlags{}
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.campaign, "campaign", "", "campaign `file` (JSON)")
	fs.StringVar(&f.contacts, "contacts", "", "contacts `file` (CSV with a header row)")
	fs.StringVar(&f.ledger, "ledger", "", "ledger `file` (SQLite; default "+defaultLedger+", or "+defaultSandboxLedger+" with -sandbox)")
	fs.StringVar(&f.baseURL, "base-url", "", "API base `URL`, overriding the campaign's baseUrl")
	fs.Float64Var(&f.rate, "rate", 25, "at most this many requests in any one second (0: no limit, for benchmarks only)")
	fs.IntVar(&f.concurrency, "concurrency", 0, "requests in flight at once (default: enough for the full rate at 2.5 s of API latency)")
	fs.IntVar(&f.maxAttempts, "max-attempts", sender.DefaultMaxAttempts, "requests per contact per run when the platform says to retry (429, 503, connection refused)")
	fs.DurationVar(&f.timeout, "timeout", sender.DefaultTimeout, "time limit for one request, answer included")
	fs.DurationVar(&f.maxDuration, "max-duration", 0, "stop gracefully after this long (e.g. 6h); the next run resumes")
	fs.StringVar(&f.notAfter, "not-after", "", "refuse to start after this local `time` (2006-01-02T15:04)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "check everything and show what would be sent; send nothing, no token needed")
	fs.BoolVar(&f.sandbox, "sandbox", false, "send to a built-in fake of the Messages API instead of the platform")
	fs.BoolVar(&f.resendUnknown, "resend-unknown", false, "also send to contacts whose earlier request may or may not have arrived (risks a duplicate)")
	fs.BoolVar(&f.retryFailed, "retry-failed", false, "also send to contacts the platform refused before")
	fs.BoolVar(&f.allowChanged, "allow-changed", false, "continue although the campaign's message changed since the ledger recorded it")
	fs.BoolVar(&f.json, "json", false, "print the end-of-run summary as one JSON object on standard output")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Errorf("send: unexpected argument %q (flags go before it? every option starts with -)", fs.Arg(0))}
	}
	if f.campaign == "" || f.contacts == "" {
		return nil, usageError{errors.New("send: -campaign and -contacts are required")}
	}
	if f.rate < 0 || f.concurrency < 0 || f.maxAttempts < 1 || f.timeout <= 0 || f.maxDuration < 0 {
		return nil, usageError{errors.New("send: -rate, -concurrency and -max-duration cannot be negative; -max-attempts and -timeout must be above 0")}
	}
	if f.ledger == "" {
		f.ledger = defaultLedger
		if f.sandbox {
			f.ledger = defaultSandboxLedger
		}
	}
	return f, nil
}

func runSend(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	f, err := parseSendFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{}))
	if f.notAfter != "" {
		deadline, err := parseLocalTime(f.notAfter)
		if err != nil {
			return usageError{fmt.Errorf("send: -not-after %q: %w", f.notAfter, err)}
		}
		if time.Now().After(deadline) {
			return &outcomeError{code: exitStopped, msg: fmt.Sprintf("it is past -not-after %s: nothing was sent", deadline.Format("2006-01-02 15:04"))}
		}
	}
	c, err := campaign.Load(f.campaign)
	if err != nil {
		return usageError{err}
	}
	if f.dryRun {
		return dryRun(ctx, c, f, stdout)
	}
	token := os.Getenv(tokenEnv)
	base := c.BaseURL
	if f.baseURL != "" {
		base = f.baseURL
	}
	if f.sandbox {
		fake := sendertest.New(sendertest.Config{Latency: 150 * time.Millisecond, Jitter: 0.5})
		defer fake.Close()
		base, token = fake.URL, "sandbox"
		fmt.Fprintf(stderr, "pregon: sandbox: sending to a fake Messages API at %s; nothing leaves this machine\n", fake.URL)
	}
	if token == "" {
		return usageError{fmt.Errorf("send: the API token is missing: set the environment variable %s (or use -dry-run or -sandbox)", tokenEnv)}
	}
	if base == "" {
		return usageError{errors.New(`send: no API address: set "baseUrl" in the campaign or -base-url`)}
	}
	concurrency := f.concurrency
	if concurrency == 0 {
		concurrency = sender.DefaultConcurrency(f.rate)
	}
	client, err := sender.NewClient(base, token, concurrency, f.timeout)
	if err != nil {
		return usageError{err}
	}
	contacts, err := c.Open(f.contacts)
	if err != nil {
		return usageError{err}
	}
	defer contacts.Close()

	ledger, err := store.Open(ctx, f.ledger)
	if err != nil {
		return err
	}
	defer ledger.Close()
	lock, err := store.Acquire(f.ledger, c.Name)
	if err != nil {
		return err
	}
	defer lock.Release()
	id, err := ledger.Register(ctx, c.Name, c.Fingerprint(), f.sandbox, f.allowChanged)
	if err != nil {
		var changed *store.ChangedError
		if errors.As(err, &changed) {
			return usageError{fmt.Errorf("%w:\n%s\nif the change is intended, run again with -allow-changed: contacts not sent yet get the new message",
				err, campaign.DescribeChange(changed.Recorded, changed.Current))}
		}
		return err
	}
	if n, err := ledger.Recover(ctx, id); err != nil {
		return err
	} else if n > 0 {
		log.Warn("an earlier run stopped with requests in flight; those contacts are now unknown", "contacts", n,
			"hint", "see pregon status; -resend-unknown sends them again")
	}
	if contacts.Encoding() != "UTF-8" {
		log.Info("the contacts file is not UTF-8; read it as "+contacts.Encoding(), "file", f.contacts)
	}
	for _, w := range c.Warnings() {
		log.Warn("campaign: " + w)
	}
	runID, err := ledger.StartRun(ctx, id, f.record(concurrency))
	if err != nil {
		return err
	}
	recorded := false // finish records how the run ended; an earlier error is recorded here
	defer func() {
		if err != nil && !recorded {
			ledger.EndRun(context.WithoutCancel(ctx), store.Run{ID: runID, Ended: time.Now(), EndedBy: "error", ExitCode: codeOf(err)})
		}
	}()
	eligible := store.Eligible{RetryFailed: f.retryFailed, ResendUnknown: f.resendUnknown}
	work, err := prepareImport(ctx, ledger, id, contacts, f.contacts, eligible, log)
	if err != nil {
		return err
	}
	defer work.stop()
	sendCtx := ctx
	if f.maxDuration > 0 {
		var cancel context.CancelFunc
		sendCtx, cancel = context.WithTimeout(ctx, f.maxDuration)
		defer cancel()
	}
	progress := newProgress(stderr, work.total, log)
	work.start(ctx, func(total int) {
		progress.setTotal(total)
		oneProcessor(f.rate)
	})
	s := sender.New(client, sender.NewPacer(f.rate), sender.Options{
		Concurrency: concurrency,
		MaxAttempts: f.maxAttempts,
		OnOutcome:   func(_ campaign.Job, o campaign.Outcome) { progress.add(o.State) },
	})
	stopProgress := progress.run(s.Stats)
	start := time.Now()
	sendErr := s.Run(sendCtx, work.queue)
	stopProgress()
	if err := work.stop(); err != nil && sendErr == nil {
		sendErr = err
	}
	recorded = true
	return finish(context.WithoutCancel(ctx), ledger, runID, c.Name, s.Stats(), time.Since(start), sendErr, f.json, stdout)
}

// slowRate is the highest rate (requests a second) that one processor
// serves with room to spare: the pipeline's ceiling on one is thousands.
const slowRate = 100

// oneProcessor gives a paced run one processor once its import is done
// (the import renders rows on every core). At 25 requests a second the
// work is a few hundred microseconds in each second; a second processor
// only adds threads waking each other up, which on a mostly idle machine
// is a good part of what sending costs it (measured: 12% less CPU). An
// unpaced run (-rate 0), a GOMAXPROCS set by the user, and a send run
// inside the tests' process (see wholeProcess) keep theirs.
func oneProcessor(rate float64) {
	if wholeProcess && rate > 0 && rate <= slowRate && os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

// importWork is the import of a run's CSV and the queue the run sends from.
type importWork struct {
	queue *store.Queue
	total int // contacts to send, as far as known before sending
	// start begins a following import (see prepareImport); onDone gets
	// the exact number of contacts to send once the import is done (at
	// once when it was done before sending).
	start func(ctx context.Context, onDone func(total int))
	stop  func() error // ends the import if it still runs; its error
}

// prepareImport brings the CSV into the ledger, or prepares to, and
// returns the run's queue.
//
// A campaign's first import runs while the run already sends: the whole
// file's syntax is checked first (a broken file sends nothing), then the
// queue follows the import batch by batch, so the first message leaves
// within a second even for a file of 100,000 rows. Later imports, which
// may refresh contacts the queue would already have passed, finish here,
// before anything is sent.
func prepareImport(ctx context.Context, ledger *store.Ledger, id store.CampaignID, contacts *campaign.Contacts,
	path string, eligible store.Eligible, log *slog.Logger) (*importWork, error) {
	fresh, err := ledger.Empty(ctx, id)
	if err != nil {
		return nil, err
	}
	var rows int
	if fresh {
		if rows, err = campaign.CheckSyntax(path); err != nil {
			return nil, brokenFile(err)
		}
	}
	imp, err := ledger.Import(ctx, id, contacts.Name(), contacts.Header())
	if err != nil {
		return nil, err
	}
	queue := ledger.Queue(id, imp.Generation(), eligible)
	if !fresh {
		res, err := fill(ctx, imp, contacts, log)
		if err != nil {
			imp.Abort(err)
			return nil, err
		}
		logImport(log, res)
		remaining, err := queue.Remaining(ctx)
		if err != nil {
			return nil, err
		}
		return &importWork{queue: queue, total: remaining,
			start: func(_ context.Context, onDone func(int)) { onDone(remaining) }, stop: func() error { return nil }}, nil
	}
	w := &importWork{queue: queue.Follow(imp), total: rows}
	done := make(chan error, 1)
	cancel := func() {}
	w.start = func(ctx context.Context, onDone func(int)) {
		var importCtx context.Context
		importCtx, cancel = context.WithCancel(ctx)
		go func() {
			res, err := fill(importCtx, imp, contacts, log)
			if err != nil {
				imp.Abort(err)
				done <- err
				return
			}
			logImport(log, res)
			onDone(res.New)
			done <- nil
		}()
	}
	var once sync.Once
	var importErr error
	w.stop = func() error {
		once.Do(func() {
			cancel()
			importErr = <-done
			if errors.Is(importErr, context.Canceled) {
				importErr = nil // the run was stopped; the next run imports again
			}
		})
		return importErr
	}
	return w, nil
}

// fill reads every row of the CSV into the import and finishes it.
func fill(ctx context.Context, imp *store.Importer, contacts *campaign.Contacts, log *slog.Logger) (store.ImportResult, error) {
	shown := 0
	for {
		if err := ctx.Err(); err != nil {
			return store.ImportResult{}, err
		}
		m, err := contacts.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return store.ImportResult{}, brokenFile(err)
		}
		if m.Problem != nil && shown < maxShownProblems {
			shown++
			log.Warn("invalid row, not sent", "problem", m.Problem.Error())
		}
		if err := imp.Add(ctx, m); err != nil {
			return store.ImportResult{}, err
		}
	}
	return imp.Finish(ctx)
}

// brokenFile reports a contacts file that cannot be read to its end.
func brokenFile(err error) error {
	return usageError{fmt.Errorf("%w\nnothing was sent: fix the file and run the same command again", err)}
}

func logImport(log *slog.Logger, res store.ImportResult) {
	log.Info("contacts read", "rows", res.Rows, "new", res.New, "already_done", res.Done,
		"invalid", res.Invalid, "duplicate", res.Duplicate)
	for _, d := range res.Duplicates {
		log.Info("duplicate row, not sent again", "row", d)
	}
	if res.Absent > 0 {
		log.Warn("contacts of this campaign not in this CSV are not sent by this run; a run with a CSV that lists them sends them",
			"contacts", res.Absent)
	}
}

const maxShownProblems = 10

// record is what the ledger keeps of a run's options: the ones that
// matter to judge it, and the files, so status can print the command that
// resumes it.
func (f *sendFlags) record(concurrency int) map[string]any {
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	return map[string]any{
		"campaign_file": abs(f.campaign), "contacts_file": abs(f.contacts), "ledger": abs(f.ledger),
		"rate": f.rate, "concurrency": concurrency, "dry_run": f.dryRun, "sandbox": f.sandbox,
		"resend_unknown": f.resendUnknown, "retry_failed": f.retryFailed, "allow_changed": f.allowChanged,
		"max_duration": f.maxDuration.String(), "not_after": f.notAfter,
	}
}

// summary is the end-of-run report, for people and, with -json, machines.
type summary struct {
	Campaign string          `json:"campaign"`
	EndedBy  string          `json:"ended_by"` // finished, interrupted, deadline, token rejected, error
	ExitCode int             `json:"exit_code"`
	Elapsed  float64         `json:"elapsed_seconds"`
	Run      runCounts       `json:"run"`
	Contacts map[string]int  `json:"contacts"` // every state, and total
	Error    string          `json:"error,omitempty"`
	Reasons  []summaryReason `json:"reasons,omitempty"`
}

type runCounts struct {
	Sent        int64   `json:"sent"`
	Failed      int64   `json:"failed"`
	Unknown     int64   `json:"unknown"`
	Requests    int64   `json:"requests"`
	RateLimited int64   `json:"rate_limited"`
	Rate        float64 `json:"rate"` // requests per second
}

type summaryReason struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// finish records the run's end, prints the summary and decides the exit.
func finish(ctx context.Context, ledger *store.Ledger, runID int64, name string,
	st sender.Stats, elapsed time.Duration, sendErr error, asJSON bool, stdout io.Writer) error {
	sums, err := ledger.Summaries(ctx, name)
	if err != nil || len(sums) != 1 {
		return errors.Join(sendErr, err)
	}
	sum := sums[0]
	endedBy, code := "finished", exitOK
	var stopped *sender.StopError
	switch {
	case errors.As(sendErr, &stopped) && stopped.Problem == sender.TokenRejected:
		endedBy, code = "token rejected", exitStopped
	case errors.As(sendErr, &stopped) && stopped.Problem == sender.Unreachable:
		endedBy, code = "platform unreachable", exitStopped
	case errors.As(sendErr, &stopped):
		endedBy, code = "wrong address", exitStopped
	case errors.Is(sendErr, context.DeadlineExceeded):
		endedBy, code = "deadline", exitStopped
	case errors.Is(sendErr, context.Canceled):
		endedBy, code = "interrupted", exitStopped
	case sendErr != nil:
		endedBy, code = "error", exitStopped
	case sum.Counts[campaign.Failed]+sum.Counts[campaign.Unknown]+sum.Counts[campaign.Invalid]+sum.Counts[campaign.Pending] > 0:
		code = exitIncomplete
	}
	out := summary{Campaign: name, EndedBy: endedBy, ExitCode: code, Elapsed: elapsed.Seconds(),
		Run: runCounts{Sent: st.Sent, Failed: st.Failed, Unknown: st.Unknown, Requests: st.Requests,
			RateLimited: st.RateLimited, Rate: rateOf(st)},
		Contacts: map[string]int{"total": sum.Total}}
	for _, state := range campaign.States {
		out.Contacts[string(state)] = sum.Counts[state]
	}
	for _, r := range sum.Reasons {
		out.Reasons = append(out.Reasons, summaryReason{State: string(r.State), Reason: r.Error, Count: r.Count})
	}
	if sendErr != nil {
		out.Error = sendErr.Error()
	}
	if err := ledger.EndRun(ctx, store.Run{ID: runID, Ended: time.Now(), Sent: int(st.Sent), Failed: int(st.Failed),
		Unknown: int(st.Unknown), Rate: out.Run.Rate, EndedBy: endedBy, ExitCode: code}); err != nil && sendErr == nil {
		// The outcomes are recorded; only the run history misses its end.
		sendErr, endedBy, code = fmt.Errorf("record the end of the run: %w", err), "error", exitStopped
		out.EndedBy, out.ExitCode, out.Error = endedBy, code, sendErr.Error()
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		printSummary(stdout, out, elapsed)
	}
	switch code {
	case exitOK:
		return nil
	case exitIncomplete:
		return &outcomeError{code: code, msg: "some contacts were not sent: see pregon status, fix and run again"}
	}
	if sendErr == nil {
		sendErr = errors.New(endedBy)
	}
	msg := sendErr.Error()
	switch endedBy {
	case "interrupted":
		msg = "interrupted: run the same command again to resume"
	case "deadline":
		msg = "stopped at -max-duration: run the same command again to resume"
	}
	return &outcomeError{code: code, msg: msg}
}

func printSummary(w io.Writer, s summary, elapsed time.Duration) {
	fmt.Fprintf(w, "\nCampaign %q: %s\n", s.Campaign, s.EndedBy)
	fmt.Fprintf(w, "  this run: %d sent, %d failed, %d unknown, %d requests in %s (%.1f requests/s)\n",
		s.Run.Sent, s.Run.Failed, s.Run.Unknown, s.Run.Requests, elapsed.Round(100*time.Millisecond), s.Run.Rate)
	if s.Run.RateLimited > 0 {
		fmt.Fprintf(w, "  the platform asked to slow down %d times (429)\n", s.Run.RateLimited)
	}
	fmt.Fprintf(w, "  all contacts (%d):", s.Contacts["total"])
	for i, state := range campaign.States {
		sep := ","
		if i == len(campaign.States)-1 {
			sep = ""
		}
		fmt.Fprintf(w, " %s %d%s", state, s.Contacts[string(state)], sep)
	}
	fmt.Fprintln(w)
}

// rateOf is the achieved request rate: requests over the time between the
// first and the last.
func rateOf(st sender.Stats) float64 {
	span := st.Last.Sub(st.First).Seconds()
	if st.Requests < 2 || span <= 0 {
		return 0
	}
	return float64(st.Requests-1) / span
}

// dryRun checks every row and shows what would be sent, touching neither
// the platform nor the ledger.
func dryRun(ctx context.Context, c *campaign.Campaign, f *sendFlags, stdout io.Writer) error {
	contacts, err := c.Open(f.contacts)
	if err != nil {
		return usageError{err}
	}
	defer contacts.Close()
	plan, closePlan, err := planFromLedger(ctx, c.Name, f)
	if err != nil {
		return err
	}
	defer closePlan()
	// Identities are remembered by 64-bit hash to find duplicates in a
	// million rows within a few megabytes; a collision is a 1-in-10^7
	// chance at that size, and would only make the count one off.
	seed := maphash.MakeSeed()
	seen := map[uint64]int32{}
	var valid, invalid, dup, done int
	var sample *campaign.Message
	var problems []string
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := contacts.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return usageError{err}
		}
		switch {
		case m.Problem != nil:
			invalid++
			if len(problems) < maxShownProblems {
				problems = append(problems, m.Problem.Error())
			}
		default:
			h := maphash.String(seed, m.Contact)
			if first, ok := seen[h]; ok {
				dup++
				if len(problems) < maxShownProblems {
					problems = append(problems, campaign.DuplicateNote(filepath.Base(f.contacts), m.Line, int(first), m.Contact))
				}
				continue
			}
			seen[h] = int32(m.Line)
			if plan != nil {
				send, err := plan.WouldSend(ctx, m.Contact)
				if err != nil {
					return err
				}
				if !send {
					done++
					continue
				}
			}
			valid++
			if sample == nil {
				sample = &m
			}
		}
	}
	fmt.Fprintf(stdout, "Dry run of campaign %q (%s, %s): nothing was sent.\n", c.Name, f.contacts, contacts.Encoding())
	fmt.Fprintf(stdout, "  would send: %d   invalid: %d   duplicate: %d\n", valid, invalid, dup)
	if done > 0 {
		fmt.Fprintf(stdout, "  not sent again: %d (the ledger %s has them sent, in doubt or refused; see pregon status)\n", done, f.ledger)
	}
	if len(problems) > 0 {
		fmt.Fprintln(stdout, "\nFirst problems:")
		for _, p := range problems {
			fmt.Fprintln(stdout, "  "+p)
		}
	}
	if sample != nil {
		var pretty bytes.Buffer
		_ = json.Indent(&pretty, sample.Payload, "  ", "  ")
		fmt.Fprintf(stdout, "\nFirst message (line %d), POST %s:\n  %s\n", sample.Line, sample.Path, pretty.String())
	}
	code := exitOK
	if invalid > 0 {
		code = exitIncomplete
	}
	if err := recordDryRun(ctx, c.Name, f, code); err != nil {
		return err
	}
	if invalid > 0 {
		return &outcomeError{code: exitIncomplete, msg: fmt.Sprintf("%d rows are invalid and would not be sent", invalid)}
	}
	return nil
}

// planFromLedger opens the plan of a campaign the ledger already has, so
// the dry run counts what this command would really send; nil when there
// is no such ledger or campaign (a dry run never creates either). Call
// the returned function when done.
func planFromLedger(ctx context.Context, name string, f *sendFlags) (*store.Plan, func(), error) {
	none := func() {}
	if _, err := os.Stat(f.ledger); err != nil {
		return nil, none, nil
	}
	ledger, err := store.OpenReadOnly(ctx, f.ledger)
	if err != nil {
		return nil, none, err
	}
	id, ok, err := ledger.Lookup(ctx, name)
	if err != nil || !ok {
		ledger.Close()
		return nil, none, err
	}
	plan, err := ledger.Plan(ctx, id, store.Eligible{RetryFailed: f.retryFailed, ResendUnknown: f.resendUnknown})
	if err != nil {
		ledger.Close()
		return nil, none, err
	}
	return plan, func() { plan.Close(); ledger.Close() }, nil
}

// recordDryRun adds the dry run to the run history of a campaign the
// ledger already has; a dry run never creates a ledger or a campaign.
func recordDryRun(ctx context.Context, name string, f *sendFlags, code int) error {
	if _, err := os.Stat(f.ledger); err != nil {
		return nil
	}
	ledger, err := store.Open(ctx, f.ledger)
	if err != nil {
		return err
	}
	defer ledger.Close()
	id, ok, err := ledger.Lookup(ctx, name)
	if err != nil || !ok {
		return err
	}
	runID, err := ledger.StartRun(ctx, id, f.record(0))
	if err != nil {
		return err
	}
	return ledger.EndRun(ctx, store.Run{ID: runID, Ended: time.Now(), EndedBy: "dry run", ExitCode: code})
}

// parseLocalTime reads a time in the machine's zone: "2026-11-22T07:00",
// "2026-11-22 07:00", or RFC 3339 with its own zone.
func parseLocalTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("want a time like 2026-11-22T07:00")
}
