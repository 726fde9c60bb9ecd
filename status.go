package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/store"
)

// statusJSON is the machine-readable shape of one campaign in `status -json`.
type statusJSON struct {
	Name      string `json:"name"`
	Total     int    `json:"total"`
	Pending   int    `json:"pending"`
	Sent      int    `json:"sent"`
	Failed    int    `json:"failed"`
	Unknown   int    `json:"unknown"`
	Invalid   int    `json:"invalid"`
	Duplicate int    `json:"duplicate"`
	// InFlight counts requests a running send has under way (shown as
	// unknown by the next run if that run dies).
	InFlight int `json:"in_flight"`
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ledgerPath := fs.String("ledger", defaultLedger, "ledger `file`")
	name := fs.String("campaign", "", "show only this campaign")
	asJSON := fs.Bool("json", false, "print JSON, one object per campaign in an array")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	ledger, err := store.OpenReadOnly(ctx, *ledgerPath)
	if err != nil {
		return usageError{err}
	}
	defer ledger.Close()
	sums, err := ledger.Summaries(ctx, *name)
	if err != nil {
		return err
	}
	if *name != "" && len(sums) == 0 {
		return usageError{fmt.Errorf("status: no campaign %q in %s", *name, *ledgerPath)}
	}
	if *asJSON {
		out := make([]statusJSON, 0, len(sums))
		for _, s := range sums {
			out = append(out, statusJSON{Name: s.Name, Total: s.Total,
				Pending: s.Counts[campaign.Pending], Sent: s.Counts[campaign.Sent], Failed: s.Counts[campaign.Failed],
				Unknown: s.Counts[campaign.Unknown], Invalid: s.Counts[campaign.Invalid],
				Duplicate: s.Counts[campaign.Duplicate], InFlight: s.Counts[campaign.Sending]})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(sums) == 0 {
		fmt.Fprintf(stdout, "No campaigns in %s yet.\n", *ledgerPath)
		return nil
	}
	for i, s := range sums {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		printStatus(stdout, s)
	}
	return nil
}

func printStatus(w io.Writer, s store.Summary) {
	title := fmt.Sprintf("Campaign %q", s.Name)
	if s.Sandbox {
		title += " (sandbox rehearsal)"
	}
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	states := append([]campaign.State{}, campaign.States...)
	if s.Counts[campaign.Sending] > 0 {
		states = append(states, campaign.Sending)
	}
	for _, st := range states {
		pct := 0.0
		if s.Total > 0 {
			pct = 100 * float64(s.Counts[st]) / float64(s.Total)
		}
		fmt.Fprintf(tw, "  %s\t%d\t%.1f%%\t\n", st, s.Counts[st], pct)
	}
	fmt.Fprintf(tw, "  total\t%d\t\t\n", s.Total)
	tw.Flush()
	if r := s.LastRun; r != nil {
		ended := "still running, or stopped without a word (killed)"
		if !r.Ended.IsZero() {
			ended = fmt.Sprintf("%s, exit %d, after %s", r.EndedBy, r.ExitCode, r.Ended.Sub(r.Started).Round(time.Second))
		}
		fmt.Fprintf(w, "  last run: %s on %s (pid %d): %s\n", r.Started.Local().Format("2006-01-02 15:04"), r.Host, r.PID, ended)
	}
	if len(s.Reasons) > 0 {
		fmt.Fprintln(w, "  reasons:")
		for _, r := range s.Reasons {
			fmt.Fprintf(w, "    %s: %s: %d\n", r.State, strings.TrimSpace(r.Error), r.Count)
		}
	}
}
