package main

import (
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/sender"
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
	insecure      bool
	json          bool
	log           string // how to log: auto, text or json (see newLogger)
}

const (
	defaultLedger        = "pregon.db"
	defaultSandboxLedger = "pregon-sandbox.db"
	tokenEnv             = "PREGON_TOKEN"
)

func parseSendFlags(tr *i18n.Printer, args []string, stderr io.Writer) (*sendFlags, error) {
	f := &sendFlags{}
	fs := newFlags(tr, "send")
	fs.StringVar(&f.campaign, "campaign", "", tr.T("flag.send.campaign"))
	fs.StringVar(&f.contacts, "contacts", "", tr.T("flag.send.contacts"))
	fs.StringVar(&f.ledger, "ledger", "", tr.T("flag.send.ledger", defaultLedger, defaultSandboxLedger))
	fs.StringVar(&f.baseURL, "base-url", "", tr.T("flag.send.base_url"))
	fs.Float64Var(&f.rate, "rate", 25, tr.T("flag.send.rate"))
	fs.IntVar(&f.concurrency, "concurrency", 0, tr.T("flag.send.concurrency"))
	fs.IntVar(&f.maxAttempts, "max-attempts", sender.DefaultMaxAttempts, tr.T("flag.send.max_attempts"))
	fs.DurationVar(&f.timeout, "timeout", sender.DefaultTimeout, tr.T("flag.timeout"))
	fs.DurationVar(&f.maxDuration, "max-duration", 0, tr.T("flag.send.max_duration"))
	fs.StringVar(&f.notAfter, "not-after", "", tr.T("flag.send.not_after"))
	fs.BoolVar(&f.dryRun, "dry-run", false, tr.T("flag.send.dry_run"))
	fs.BoolVar(&f.sandbox, "sandbox", false, tr.T("flag.send.sandbox"))
	fs.BoolVar(&f.resendUnknown, "resend-unknown", false, tr.T("flag.send.resend_unknown"))
	fs.BoolVar(&f.retryFailed, "retry-failed", false, tr.T("flag.send.retry_failed"))
	fs.BoolVar(&f.allowChanged, "allow-changed", false, tr.T("flag.send.allow_changed"))
	fs.BoolVar(&f.insecure, "insecure", false, tr.T("flag.send.insecure"))
	fs.BoolVar(&f.json, "json", false, tr.T("flag.send.json"))
	fs.StringVar(&f.log, "log", "auto", tr.T("flag.log"))
	if err := parseArgs(tr, fs, args, stderr); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usageError{say("send.error.argument", fs.Arg(0))}
	}
	switch {
	case f.campaign == "" && f.contacts == "":
		return nil, usageError{say("send.error.required")}
	case f.campaign == "":
		return nil, usageError{say("send.error.no_campaign")}
	case f.contacts == "":
		return nil, usageError{say("send.error.no_contacts")}
	}
	if f.rate < 0 || f.concurrency < 0 || f.maxAttempts < 1 || f.timeout <= 0 || f.maxDuration < 0 {
		return nil, usageError{say("send.error.negative")}
	}
	if f.ledger == "" {
		f.ledger = defaultLedger
		if f.sandbox {
			f.ledger = defaultSandboxLedger
		}
	}
	return f, nil
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

// record is what the ledger keeps of a run's options: the ones that
// matter to judge it, and the files, so status can print the command that
// resumes it.
func (f *sendFlags) record(concurrency int) map[string]any {
	return engine.Record{CampaignFile: f.campaign, ContactsFile: f.contacts, Ledger: f.ledger,
		Rate: f.rate, Concurrency: concurrency, DryRun: f.dryRun, Sandbox: f.sandbox,
		ResendUnknown: f.resendUnknown, RetryFailed: f.retryFailed, AllowChanged: f.allowChanged,
		MaxDuration: f.maxDuration, NotAfter: f.notAfter, BaseURL: f.baseURL, Insecure: f.insecure}.Map()
}

// lateStart is how long after a time of day (-not-after 07:00) a start
// still counts as late for that time rather than early for the next
// day's: a nightly 01:00 job that starts at 07:30 is late, and must not
// send all day until tomorrow's 07:00.
const lateStart = 6 * time.Hour

// parseNotAfter reads -not-after in the machine's zone, relative to now:
// a time of day alone ("07:00") is the next 07:00 after now, or the last
// one when it passed less than lateStart ago (then nothing may be sent);
// a date and time ("2026-11-22T07:00", "2026-11-22 07:00") or RFC 3339
// with its own zone is that moment.
func parseNotAfter(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"15:04", "15:04:05"} {
		if tod, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			y, m, d := now.Date()
			t := time.Date(y, m, d, tod.Hour(), tod.Minute(), tod.Second(), 0, time.Local)
			if !t.After(now) && now.Sub(t) >= lateStart {
				t = t.AddDate(0, 0, 1)
			}
			return t, nil
		}
	}
	return time.Time{}, errors.New("want a time like 07:00, or a date and time like 2026-11-22T07:00")
}
