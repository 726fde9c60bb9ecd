package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/sender"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/wording"
)

func runSend(ctx context.Context, tr *i18n.Printer, args []string, stdout, stderr io.Writer) error {
	f, err := parseSendFlags(tr, args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(f.log, stderr)
	if err != nil {
		return usageError{err}
	}
	var notAfter time.Time
	if f.notAfter != "" {
		if notAfter, err = parseNotAfter(f.notAfter, time.Now()); err != nil {
			return usageError{say("send.error.not_after", f.notAfter)}
		}
		if !time.Now().Before(notAfter) {
			return &outcomeError{code: exitStopped, msg: tr.T("send.past_not_after", tr.DateTime(notAfter))}
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
			Insecure: f.insecure, AllowChanged: f.allowChanged, AllProblems: f.json})
		if err != nil {
			return sendError(err, f.ledger, f.campaign)
		}
		return printDryRun(tr, stdout, c, f, d)
	}
	token := os.Getenv(tokenEnv)
	if token == "" && !f.sandbox {
		return usageError{say("send.error.no_token", tokenEnv)}
	}
	concurrency := f.concurrency
	if concurrency == 0 {
		concurrency = sender.DefaultConcurrency(f.rate)
	}
	ev := &logEvents{log: log, tr: tr, stderr: stderr, rate: f.rate, statusCmd: statusCommand(f.ledger, c.Name),
		bar: f.log == "auto" || f.log == ""}
	res, err := engine.Send(ctx, c, engine.SendOptions{
		Contacts: f.contacts, Ledger: f.ledger, BaseURL: f.baseURL, Token: token,
		Sandbox: f.sandbox, Insecure: f.insecure,
		Rate: f.rate, Concurrency: concurrency, MaxAttempts: f.maxAttempts, Timeout: f.timeout, MaxDuration: f.maxDuration, NotAfter: notAfter,
		Eligible: eligible, AllowChanged: f.allowChanged, Record: f.record(concurrency), Events: ev,
	})
	if err != nil {
		return sendError(err, f.ledger, f.campaign)
	}
	return printResult(tr, res, f, stdout)
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
		return usageError{&unfilledError{file: campaignFile, values: unfilled.Values}}
	case errors.As(err, &changed):
		return usageError{say("send.error.changed", changed, campaign.DescribeChange(changed.Recorded, changed.Current))}
	case errors.As(err, &dest):
		return usageError{say("send.error.destination", dest, destinationHint(dest, ledger))}
	case errors.As(err, &input):
		return usageError{input}
	}
	return err
}

// statusCommand is the status command for a campaign in a ledger.
func statusCommand(ledger, name string) string {
	return fmt.Sprintf("pregon status -ledger %s -campaign %s", shellQuote(ledger), shellQuote(name))
}

// destinationHint says what to do when the ledger has sent the campaign
// elsewhere.
func destinationHint(e *store.DestinationError, ledger string) error {
	switch {
	case e.Movable:
		return say("send.hint.moved")
	case e.Recorded.Rehearsal:
		return say("send.hint.rehearsal_ledger", ledger)
	}
	return say("send.hint.real_ledger", ledger)
}

// logEvents shows a run's events as log lines, and its progress as a bar on
// a terminal or a log line every few seconds under cron. Each line is a
// sentence in the reader's words, with an event name and values that stay
// the same in every language, for the programs that read logs.
type logEvents struct {
	log       *slog.Logger
	tr        *i18n.Printer
	stderr    io.Writer
	rate      float64
	progress  *progress
	statusCmd string // the status command for this run's ledger and campaign
	bar       bool   // a bar may be drawn (on a terminal): -log did not ask for records only
}

func (e *logEvents) info(event, msg string, attrs ...any) {
	e.log.Info(msg, append([]any{"event", event}, attrs...)...)
}

func (e *logEvents) warn(event, msg string, attrs ...any) {
	e.log.Warn(msg, append([]any{"event", event}, attrs...)...)
}

func (e *logEvents) Note(n engine.Note) {
	tr := e.tr
	switch n.Kind {
	case engine.NoteEncoding:
		e.info("encoding", tr.T("log.encoding", n.Text), "encoding", n.Text)
	case engine.NoteWarning:
		e.warn("campaign_warning", tr.T("log.campaign_warning", n.Text), "warning", n.Text)
	case engine.NoteRecovered:
		e.warn("recovered", tr.T("log.recovered", n.Count, e.statusCmd), "contacts", n.Count)
	case engine.NoteRehearsal:
		e.warn("rehearsal", tr.T("log.rehearsal", n.Text), "address", n.Text)
	case engine.NoteSharing:
		if n.Count == 0 {
			e.info("sharing", tr.T("log.sharing_alone", tr.Number(e.rate)), "rate", e.rate, "others", 0)
		} else {
			e.info("sharing", tr.T("log.sharing", tr.Number(e.rate), n.Count, tr.List(quoteAll(n.Names))),
				"rate", e.rate, "others", n.Count, "runs", n.Text)
		}
	case engine.NoteTemplateUnchecked:
		e.warn("template_unchecked", tr.T("log.template_unchecked"))
	case engine.NoteReconciled:
		r := n.Reconciled
		e.info("reconciled", tr.T("log.reconciled", r.Found, r.Absent, r.Still),
			"found_sent", r.Found, "absent_sent_again", r.Absent, "still_unknown", r.Still)
	case engine.NoteWarnings:
		w := n.Warning
		first, firstEN := make([]string, len(w.First)), make([]string, len(w.First))
		en := i18n.For(i18n.English)
		for i, ex := range w.First {
			first[i], firstEN[i] = wording.WarningExample(tr, ex), wording.WarningExample(en, ex)
		}
		e.warn("warning", tr.T("log.warning", wording.Warning(tr, w.Code), w.Count, strings.Join(first, "; ")),
			"code", string(w.Code), "count", w.Count, "first", strings.Join(firstEN, "; "))
	case engine.NoteSandbox:
		e.info("sandbox", tr.T("log.sandbox", n.Text), "address", n.Text)
	}
}

// quoteAll puts each name in quotes.
func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}

func (e *logEvents) InvalidRow(problem error) {
	var row *campaign.RowError
	if errors.As(problem, &row) {
		e.warn("row_invalid", e.tr.T("log.row_invalid", rowPlace(e.tr, row.File, row.Line), wording.Reason(e.tr, row.Reason())),
			"file", row.File, "line", row.Line, "problem", problem.Error())
		return
	}
	e.warn("row_invalid", e.tr.T("log.row_invalid", "", describe(e.tr, problem)), "problem", problem.Error())
}

func (e *logEvents) Imported(res store.ImportResult) {
	tr := e.tr
	var parts []string
	for _, p := range []struct {
		key string
		n   int
	}{{i18n.K("log.read.new"), res.New}, {i18n.K("log.read.done_sent"), res.DoneSent},
		{i18n.K("log.read.done_unknown"), res.DoneUnknown}, {i18n.K("log.read.done_refused"), res.DoneRefused}, {i18n.K("log.read.fixed"), res.Fixed},
		{i18n.K("log.read.invalid"), res.Invalid}, {i18n.K("log.read.duplicate"), res.Duplicate}, {i18n.K("log.read.empty"), res.Empty}} {
		if p.n > 0 {
			parts = append(parts, tr.T(p.key, p.n))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, tr.T("summary.none"))
	}
	e.info("contacts_read", tr.T("log.read", res.Rows, tr.List(parts)), "rows", res.Rows, "new", res.New, "already_done", res.Done,
		"fixed_elsewhere", res.Fixed, "invalid", res.Invalid, "duplicate", res.Duplicate, "empty", res.Empty)
	if res.Empty > 0 {
		e.info("empty_rows", tr.T("log.empty_rows", res.Empty), "rows", res.Empty)
	}
	for _, d := range res.Duplicates {
		e.info("duplicate_row", tr.T("log.duplicate_row", rowPlace(tr, d.File, d.Line), strconv.Itoa(d.FirstLine), wording.Contact(tr, d.Contact)),
			"file", d.File, "line", d.Line, "first_line", d.FirstLine)
	}
	for _, f := range res.FixedRows {
		e.info("fixed_row", tr.T("log.fixed_row", rowPlace(tr, f.File, f.Line), f.Via, wording.Contact(tr, f.Contact), wording.StateOne(tr, f.State)),
			"file", f.File, "line", f.Line, "via", f.Via, "state", string(f.State))
	}
	if res.Absent > 0 {
		e.warn("absent", tr.T("log.absent", res.Absent), "contacts", res.Absent)
	}
}

func (e *logEvents) Sending(total int, stats func() sender.Stats) {
	e.progress = newProgress(e.stderr, total, e.log, e.tr, e.bar)
	e.progress.start(stats)
}

func (e *logEvents) Total(total int) {
	e.progress.setTotal(total)
	oneProcessor(e.rate)
}

func (e *logEvents) Outcome(_ campaign.Job, o campaign.Outcome) { e.progress.add(o.State) }

func (e *logEvents) Paused(asked, max time.Duration) {
	e.warn("paused", e.tr.T("log.paused", e.tr.Duration(asked), e.tr.Duration(max)), "asked", asked.String(), "waited", max.String())
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

// summaryReason is a reason and how many it hit. Reason is in English, for
// programs; Code is its code (empty for a ledger's older records).
type summaryReason struct {
	State  string `json:"state"`
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// printResult prints the end-of-run summary and decides the exit.
func printResult(tr *i18n.Printer, res *engine.Result, f *sendFlags, stdout io.Writer) error {
	st, sum := res.Stats, res.Summary
	out := summary{Campaign: res.Campaign, EndedBy: string(res.EndedBy), ExitCode: int(res.Code), Elapsed: res.Elapsed.Seconds(),
		Run: runCounts{Sent: st.Sent, Failed: st.Failed, Unknown: st.Unknown, Requests: st.Requests,
			RateLimited: st.RateLimited, Rate: st.Rate()},
		Contacts: map[string]int{"total": sum.Total}}
	for _, state := range campaign.States {
		out.Contacts[string(state)] = sum.Counts[state]
	}
	en := i18n.For(i18n.English)
	for _, r := range sum.Reasons {
		out.Reasons = append(out.Reasons, summaryReason{State: string(r.State), Code: string(r.Why.Code),
			Reason: wording.Stored(en, r.Why, r.Error), Count: r.Count})
	}
	if res.Err != nil {
		out.Error = describe(en, res.Err)
	}
	if f.json {
		if err := json.NewEncoder(stdout).Encode(out); err != nil {
			return err
		}
	} else {
		printSummary(tr, stdout, res, f)
	}
	switch res.Code {
	case engine.Complete:
		return nil
	case engine.Incomplete:
		return &outcomeError{code: exitIncomplete, msg: tr.T("send.incomplete", statusCommand(f.ledger, res.Campaign))}
	}
	msg := wording.Ended(tr, string(res.EndedBy))
	if res.Err != nil {
		msg = describe(tr, res.Err)
	}
	switch res.EndedBy {
	case engine.Interrupted:
		msg = tr.T("send.stopped.interrupted")
	case engine.Deadline:
		msg = tr.T("send.stopped.deadline")
	case engine.NotAfter:
		msg = tr.T("send.stopped.not_after", f.notAfter)
	}
	return &outcomeError{code: exitStopped, msg: msg}
}

// printSummary says what the run did, where the campaign stands, and what
// to do next, in sentences.
func printSummary(tr *i18n.Printer, w io.Writer, res *engine.Result, f *sendFlags) {
	st, sum := res.Stats, res.Summary
	fmt.Fprintf(w, "\n%s\n", tr.T("summary.title", res.Campaign, wording.Ended(tr, string(res.EndedBy))))
	switch {
	case st.Requests == 0 && res.EndedBy == engine.Finished && sum.Counts[campaign.Pending] == 0:
		fmt.Fprintf(w, "  %s\n", tr.T("progress.nothing"))
	case st.Requests < 2 || res.Elapsed < 2*time.Second:
		// Too few, or too short, for a rate to mean anything.
		fmt.Fprintf(w, "  %s\n", tr.T("summary.run_short", int(st.Sent), int(st.Failed), int(st.Unknown), int(st.Requests),
			tr.Duration(res.Elapsed)))
	default:
		fmt.Fprintf(w, "  %s\n", tr.T("summary.run", int(st.Sent), int(st.Failed), int(st.Unknown), int(st.Requests),
			tr.Duration(res.Elapsed), tr.Float(st.Rate())))
	}
	if st.RateLimited > 0 {
		fmt.Fprintf(w, "  %s\n", tr.T("summary.rate_limited", int(st.RateLimited)))
	}
	var parts []string
	for _, state := range campaign.States {
		switch n := sum.Counts[state]; {
		case n == 1:
			parts = append(parts, tr.Int(n)+" "+wording.StateOne(tr, state))
		case n > 1:
			parts = append(parts, tr.Int(n)+" "+wording.State(tr, state))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, tr.T("summary.none"))
	}
	fmt.Fprintf(w, "  %s\n", tr.T("summary.all", sum.Total, strings.Join(parts, ", ")))
	for _, line := range summaryNext(tr, res, f) {
		// A command goes on a line of its own, under its sentence.
		fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(line, "\n", "\n    "))
	}
}

// summaryNext says what to do next, by what is left.
func summaryNext(tr *i18n.Printer, res *engine.Result, f *sendFlags) []string {
	c := res.Summary.Counts
	ledger := shellQuote(f.ledger) // as the user wrote it, as in every command pregon suggests
	name := shellQuote(res.Campaign)
	if res.Code == engine.Complete {
		return []string{tr.T("summary.next.done")}
	}
	var out []string
	if n := c[campaign.Pending]; n > 0 && res.Code == engine.Stopped {
		out = append(out, tr.T("summary.next.pending", n))
	}
	if n := c[campaign.Invalid]; n > 0 {
		out = append(out, tr.T("summary.next.invalid", n, fmt.Sprintf("pregon export -ledger %s -campaign %s -outcome invalid -o %s", ledger, name, shellQuote(freeName("revisar.csv")))))
	}
	if n := c[campaign.Failed]; n > 0 {
		out = append(out, tr.T("summary.next.failed", n, statusCommand(f.ledger, res.Campaign)))
	}
	if n := c[campaign.Unknown]; n > 0 {
		out = append(out, tr.T("summary.next.unknown", n, fmt.Sprintf("pregon reconcile -ledger %s -campaign %s", ledger, name)))
	}
	return out
}
