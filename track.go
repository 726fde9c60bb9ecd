package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/sender"
)

// readFlags are the options of `pregon track` and `pregon reconcile`.
type readFlags struct {
	campaign string
	ledger   string
	rate     float64
	timeout  time.Duration
	log      string
}

func parseReadFlags(tr *i18n.Printer, cmd string, args []string, stderr io.Writer) (*readFlags, error) {
	f := &readFlags{}
	fs := newFlags(tr, cmd)
	fs.StringVar(&f.campaign, "campaign", "", tr.T("flag.read.campaign"))
	fs.StringVar(&f.ledger, "ledger", defaultLedger, tr.T("flag.ledger"))
	fs.Float64Var(&f.rate, "rate", 25, tr.T("flag.read.rate"))
	fs.DurationVar(&f.timeout, "timeout", sender.DefaultTimeout, tr.T("flag.timeout"))
	fs.StringVar(&f.log, "log", "auto", tr.T("flag.log"))
	if err := parseArgs(tr, fs, args, stderr); err != nil {
		return nil, err
	}
	if f.campaign == "" || fs.NArg() > 0 {
		return nil, usageError{say("error.campaign_required", cmd, f.ledger)}
	}
	if _, err := os.Stat(f.ledger); err != nil {
		return nil, usageError{err}
	}
	if f.rate <= 0 {
		return nil, usageError{say("error.rate_above_0")}
	}
	return f, nil
}

func (f *readFlags) options(tr *i18n.Printer, log *slog.Logger) engine.ReadOptions {
	last := time.Now()
	return engine.ReadOptions{Ledger: f.ledger, Campaign: f.campaign, Token: os.Getenv(tokenEnv), Rate: f.rate, Timeout: f.timeout,
		Progress: func(done int) {
			if time.Since(last) >= logEvery {
				last = time.Now()
				log.Info(tr.T("log.asked", done), "event", "asked", "messages", done)
			}
		}}
}

// runTrack asks the platform what became of each sent message (v2).
func runTrack(ctx context.Context, tr *i18n.Printer, args []string, stdout, stderr io.Writer) error {
	f, err := parseReadFlags(tr, "track", args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(f.log, stderr)
	if err != nil {
		return usageError{err}
	}
	res, err := engine.Track(ctx, f.options(tr, log))
	if res != nil {
		fr := res.Funnel
		fmt.Fprintln(stdout, tr.T("track.asked", f.campaign, res.Asked, res.Moved, res.Missing))
		fmt.Fprintf(stdout, "  %s\n", tr.T("track.funnel", fr.Sent, fr.Delivered, fr.Read, fr.Failed, fr.Sent-fr.Tracked))
		for _, reason := range byCount(fr.Reasons) {
			fmt.Fprintf(stdout, "    %s\n", tr.T("track.reason", fr.Reasons[reason], platformWords(tr, reason)))
		}
	}
	return readError(tr, "track", err)
}

// runReconcile settles the campaign's unknown contacts by asking the
// platform (v2).
func runReconcile(ctx context.Context, tr *i18n.Printer, args []string, stdout, stderr io.Writer) error {
	f, err := parseReadFlags(tr, "reconcile", args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(f.log, stderr)
	if err != nil {
		return usageError{err}
	}
	res, err := engine.Reconcile(ctx, f.options(tr, log))
	if res != nil {
		fmt.Fprintln(stdout, tr.T("reconcile.result", f.campaign, res.Found, res.Absent, res.Still))
	}
	return readError(tr, "reconcile", err)
}

// readError turns a read command's error into what main reports.
func readError(tr *i18n.Printer, cmd string, err error) error {
	var input *engine.InputError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &input):
		return usageError{input}
	case errors.Is(err, context.Canceled):
		return &outcomeError{code: exitStopped, msg: tr.T("read.interrupted")}
	}
	return &outcomeError{code: exitStopped, msg: tr.T("read.stopped", describe(tr, err))}
}
