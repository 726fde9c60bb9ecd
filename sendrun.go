package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/sender"
	"github.com/pregon/pregon/store"
)

func runSend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseSendFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{}))
	var notAfter time.Time
	if f.notAfter != "" {
		if notAfter, err = parseNotAfter(f.notAfter, time.Now()); err != nil {
			return usageError{fmt.Errorf("send: -not-after %q: %w", f.notAfter, err)}
		}
		if !time.Now().Before(notAfter) {
			return &outcomeError{code: exitStopped, msg: fmt.Sprintf("it is past -not-after %s: nothing was sent", notAfter.Format("2006-01-02 15:04"))}
		}
	}
	c, err := campaign.Load(f.campaign)
	if err != nil {
		return usageError{err}
	}
	eligible := store.Eligible{RetryFailed: f.retryFailed, ResendUnknown: f.resendUnknown}
	if f.dryRun {
		d, err := engine.Check(ctx, c, engine.DryRunOptions{Contacts: f.contacts, Ledger: f.ledger, Eligible: eligible, Record: f.record(0),
			BaseURL: f.baseURL, Token: os.Getenv(tokenEnv), Timeout: f.timeout, Sandbox: f.sandbox,
			Insecure: f.insecure, AllProblems: f.json})
		if err != nil {
			return sendError(err, f.ledger, f.campaign)
		}
		return printDryRun(stdout, c, f, d)
	}
	token := os.Getenv(tokenEnv)
	if token == "" && !f.sandbox {
		return usageError{fmt.Errorf("send: the API token is missing: set the environment variable %s (or use -dry-run or -sandbox)", tokenEnv)}
	}
	concurrency := f.concurrency
	if concurrency == 0 {
		concurrency = sender.DefaultConcurrency(f.rate)
	}
	ev := &logEvents{log: log, stderr: stderr, rate: f.rate, statusCmd: statusCommand(f.ledger, c.Name)}
	res, err := engine.Send(ctx, c, engine.SendOptions{
		Contacts: f.contacts, Ledger: f.ledger, BaseURL: f.baseURL, Token: token,
		Sandbox: f.sandbox, Insecure: f.insecure,
		Rate: f.rate, Concurrency: concurrency, MaxAttempts: f.maxAttempts, Timeout: f.timeout, MaxDuration: f.maxDuration, NotAfter: notAfter,
		Eligible: eligible, AllowChanged: f.allowChanged, Record: f.record(concurrency), Events: ev,
	})
	if err != nil {
		return sendError(err, f.ledger, f.campaign)
	}
	return printResult(res, f, stdout)
}

// sendError adds to an error that stopped a send before it started what
// the user can do about it.
func sendError(err error, ledger, campaignFile string) error {
	var input *engine.InputError
	var changed *store.ChangedError
	var dest *store.DestinationError
	var unfilled *engine.UnfilledError
	switch {
	case errors.As(err, &unfilled):
		return usageError{errors.New(unfilledMessage(campaignFile, unfilled.Values))}
	case errors.As(err, &changed):
		return usageError{fmt.Errorf("%w:\n%s\nif the change is intended, run again with -allow-changed: contacts not sent yet get the new message",
			err, campaign.DescribeChange(changed.Recorded, changed.Current))}
	case errors.As(err, &dest):
		return usageError{fmt.Errorf("%w\nnothing was sent. %s", err, destinationHint(dest, ledger))}
	case errors.As(err, &input):
		return usageError{fmt.Errorf("send: %w", input.Err)}
	}
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// statusCommand is the status command for a campaign in a ledger.
func statusCommand(ledger, name string) string {
	return fmt.Sprintf("pregon status -ledger %s -campaign %s", shellQuote(ledger), shellQuote(name))
}

// destinationHint says what to do when the ledger has sent the campaign
// elsewhere.
func destinationHint(e *store.DestinationError, ledger string) string {
	switch {
	case e.Movable:
		return "If the platform moved to the new address, run again with -allow-changed: contacts sent at the old one are not sent again. " +
			"If the old address was not the platform (a wrong baseUrl), nobody got its messages: run again with -allow-changed, " +
			"and add -resend-unknown for the contacts it left unknown. Otherwise check baseUrl in the campaign and -base-url."
	case e.Recorded.Rehearsal:
		return fmt.Sprintf("%s holds a rehearsal of this campaign, whose messages nobody received: for the real send, use another ledger "+
			"(-ledger real.db), or move %s aside. Rehearse with -sandbox, or with a ledger of its own (-ledger ensayo.db).", ledger, ledger)
	}
	return fmt.Sprintf("%s holds real sends of this campaign: rehearse with -sandbox, or with a ledger of its own (-ledger ensayo.db).", ledger)
}

// logEvents shows a run's events as log lines, and its progress as a bar on
// a terminal or a log line every few seconds under cron.
type logEvents struct {
	log       *slog.Logger
	stderr    io.Writer
	rate      float64
	progress  *progress
	statusCmd string // the status command for this run's ledger and campaign
}

func (e *logEvents) Note(n engine.Note) {
	switch n.Kind {
	case engine.NoteEncoding:
		e.log.Info("the contacts file is not UTF-8; read it as " + n.Text)
	case engine.NoteWarning:
		e.log.Warn("campaign: " + n.Text)
	case engine.NoteRecovered:
		e.log.Warn("an earlier run stopped with requests in flight; those contacts are now unknown", "contacts", n.Count,
			"hint", "see "+e.statusCmd+"; -resend-unknown sends them again")
	case engine.NoteRehearsal:
		e.log.Warn("the address answers as a pregon sandbox: this run is a rehearsal, and nobody receives these messages", "address", n.Text)
	case engine.NoteSharing:
		if n.Count == 0 {
			e.log.Info("no other run shares the rate any more", "rate", fmt.Sprintf("%g/s", e.rate))
		} else {
			e.log.Info(fmt.Sprintf("sharing %g/s with %d other %s: %s", e.rate, n.Count, plural(n.Count, "run", "runs"), n.Text))
		}
	case engine.NoteTemplateUnchecked:
		e.log.Warn("the platform does not list this channel's templates: the template was not checked before sending")
	case engine.NoteReconciled:
		r := n.Reconciled
		e.log.Info("asked the platform about the unknown contacts", "found_sent", r.Found, "absent_sent_again", r.Absent, "still_unknown", r.Still)
	case engine.NoteWarnings:
		w := n.Warning
		first := make([]string, len(w.First))
		for i, ex := range w.First {
			first[i] = warningExample(ex)
		}
		e.log.Warn(warningSummary(w.Code), "count", w.Count, "first", strings.Join(first, "; "))
	case engine.NoteSandbox:
		fmt.Fprintf(e.stderr, "pregon: sandbox: sending to a fake Messages API at %s; nothing leaves this machine\n", n.Text)
	}
}

func (e *logEvents) InvalidRow(problem error) {
	e.log.Warn("invalid row, not sent", "problem", problem.Error())
}

func (e *logEvents) Imported(res store.ImportResult) {
	e.log.Info("contacts read", "rows", res.Rows, "new", res.New, "already_done", res.Done,
		"fixed_elsewhere", res.Fixed, "invalid", res.Invalid, "duplicate", res.Duplicate, "empty", res.Empty)
	if res.Empty > 0 {
		e.log.Info("empty rows skipped", "rows", res.Empty)
	}
	for _, d := range res.Duplicates {
		e.log.Info("duplicate row, not sent again", "row", d)
	}
	for _, f := range res.FixedRows {
		e.log.Info("broken row whose contact was fixed in another file, not counted again", "row", f)
	}
	if res.Absent > 0 {
		e.log.Warn("contacts of this campaign not in this CSV are not sent by this run; a run with a CSV that lists them sends them",
			"contacts", res.Absent)
	}
}

func (e *logEvents) Sending(total int, stats func() sender.Stats) {
	e.progress = newProgress(e.stderr, total, e.log)
	e.progress.start(stats)
}

func (e *logEvents) Total(total int) {
	e.progress.setTotal(total)
	oneProcessor(e.rate)
}

func (e *logEvents) Outcome(_ campaign.Job, o campaign.Outcome) { e.progress.add(o.State) }

func (e *logEvents) Paused(asked, max time.Duration) {
	e.log.Warn("the platform asked to wait longer than pregon waits; it waits the shorter time, then tries again",
		"asked", asked.String(), "waited", max.String())
}

func (e *logEvents) Done() {
	if e.progress != nil {
		e.progress.stop()
	}
}

// summary is the end-of-run report, for people and, with -json, machines.
type summary struct {
	Campaign string          `json:"campaign"`
	EndedBy  string          `json:"ended_by"` // finished, interrupted, deadline, token rejected, wrong address, platform unreachable, error
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

// printResult prints the end-of-run summary and decides the exit.
func printResult(res *engine.Result, f *sendFlags, stdout io.Writer) error {
	st, sum := res.Stats, res.Summary
	out := summary{Campaign: res.Campaign, EndedBy: string(res.EndedBy), ExitCode: int(res.Code), Elapsed: res.Elapsed.Seconds(),
		Run: runCounts{Sent: st.Sent, Failed: st.Failed, Unknown: st.Unknown, Requests: st.Requests,
			RateLimited: st.RateLimited, Rate: st.Rate()},
		Contacts: map[string]int{"total": sum.Total}}
	for _, state := range campaign.States {
		out.Contacts[string(state)] = sum.Counts[state]
	}
	for _, r := range sum.Reasons {
		out.Reasons = append(out.Reasons, summaryReason{State: string(r.State), Reason: r.Error, Count: r.Count})
	}
	if res.Err != nil {
		out.Error = res.Err.Error()
	}
	if f.json {
		if err := json.NewEncoder(stdout).Encode(out); err != nil {
			return err
		}
	} else {
		printSummary(stdout, out, res.Elapsed)
	}
	switch res.Code {
	case engine.Complete:
		return nil
	case engine.Incomplete:
		return &outcomeError{code: exitIncomplete, msg: "some contacts were not sent: see " + statusCommand(f.ledger, res.Campaign) + ", fix and run again"}
	}
	msg := string(res.EndedBy)
	if res.Err != nil {
		msg = res.Err.Error()
	}
	switch res.EndedBy {
	case engine.Interrupted:
		msg = "interrupted: run the same command again to resume"
	case engine.Deadline:
		msg = "stopped at -max-duration: run the same command again to resume"
	case engine.NotAfter:
		msg = "stopped at -not-after " + f.notAfter + ": run the same command again (before that time) to resume"
	}
	return &outcomeError{code: exitStopped, msg: msg}
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
