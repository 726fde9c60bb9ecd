package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/pregon/pregon/engine"
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
	fs.StringVar(&f.notAfter, "not-after", "", "send nothing after this local `time`: 07:00 (the next 07:00), or 2026-11-22T07:00; the run stops then, and a later start sends nothing")
	fs.BoolVar(&f.dryRun, "dry-run", false, "check everything and show what would be sent; send nothing, no token needed")
	fs.BoolVar(&f.sandbox, "sandbox", false, "send to a built-in fake of the Messages API instead of the platform")
	fs.BoolVar(&f.resendUnknown, "resend-unknown", false, "also send to contacts whose earlier request may or may not have arrived (risks a duplicate)")
	fs.BoolVar(&f.retryFailed, "retry-failed", false, "also send to contacts the platform refused before")
	fs.BoolVar(&f.allowChanged, "allow-changed", false, "continue although the campaign's message, or the platform's address, changed since the ledger recorded it")
	fs.BoolVar(&f.insecure, "insecure", false, "allow an http:// base URL for another machine (the token then crosses the network unencrypted)")
	fs.BoolVar(&f.json, "json", false, "print the end-of-run summary (with -dry-run, what the dry run found) as one JSON object on standard output")
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
