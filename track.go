package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/sender"
)

// readFlags are the options of `pregon track` and `pregon reconcile`.
type readFlags struct {
	campaign string
	ledger   string
	rate     float64
	timeout  time.Duration
}

func parseReadFlags(cmd string, args []string, stderr io.Writer) (*readFlags, error) {
	f := &readFlags{}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.campaign, "campaign", "", "the campaign's `name` in the ledger (required)")
	fs.StringVar(&f.ledger, "ledger", defaultLedger, "ledger `file`")
	fs.Float64Var(&f.rate, "rate", 25, "at most this many requests in any one second, shared with any send to the same API on this machine")
	fs.DurationVar(&f.timeout, "timeout", sender.DefaultTimeout, "time limit for one request, answer included")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if f.campaign == "" || fs.NArg() > 0 {
		return nil, usageError{fmt.Errorf("%s: -campaign NAME is required (see pregon status -ledger %s for the names)", cmd, f.ledger)}
	}
	if _, err := os.Stat(f.ledger); err != nil {
		return nil, usageError{fmt.Errorf("%s: %w", cmd, err)}
	}
	if f.rate <= 0 {
		return nil, usageError{fmt.Errorf("%s: -rate must be above 0", cmd)}
	}
	return f, nil
}

func (f *readFlags) options(log *slog.Logger) engine.ReadOptions {
	last := time.Now()
	return engine.ReadOptions{Ledger: f.ledger, Campaign: f.campaign, Token: os.Getenv(tokenEnv), Rate: f.rate, Timeout: f.timeout,
		Progress: func(done int) {
			if time.Since(last) >= logEvery {
				last = time.Now()
				log.Info("asked", "messages", done)
			}
		}}
}

// runTrack asks the platform what became of each sent message (v2).
func runTrack(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseReadFlags("track", args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	res, err := engine.Track(ctx, f.options(log))
	if res != nil {
		fr := res.Funnel
		fmt.Fprintf(stdout, "Campaign %q: asked about %d messages: %d delivered, read or failed by now, %d not known to the platform\n",
			f.campaign, res.Asked, res.Moved, res.Missing)
		fmt.Fprintf(stdout, "  sent %d → delivered %d → read %d; failed after sending %d; not asked yet %d\n",
			fr.Sent, fr.Delivered, fr.Read, fr.Failed, fr.Sent-fr.Tracked)
		for reason, n := range fr.Reasons {
			fmt.Fprintf(stdout, "    failed: %s: %d\n", reason, n)
		}
	}
	return readError("track", err)
}

// runReconcile settles the campaign's unknown contacts by asking the
// platform (v2).
func runReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseReadFlags("reconcile", args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	res, err := engine.Reconcile(ctx, f.options(log))
	if res != nil {
		fmt.Fprintf(stdout, "Campaign %q: %d found on the platform (now sent), %d not there (now pending: the next run sends them once), %d still unknown\n",
			f.campaign, res.Found, res.Absent, res.Still)
	}
	return readError("reconcile", err)
}

// readError turns a read command's error into what main reports.
func readError(cmd string, err error) error {
	var input *engine.InputError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &input):
		return usageError{fmt.Errorf("%s: %w", cmd, input.Err)}
	case errors.Is(err, context.Canceled):
		return &outcomeError{code: exitStopped, msg: "interrupted: run the same command again to go on"}
	}
	return &outcomeError{code: exitStopped, msg: fmt.Sprintf("%s: %v: run the same command again to go on", cmd, err)}
}
