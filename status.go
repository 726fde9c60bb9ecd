package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/engine"
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
	// Destination is where the campaign's messages went ("" before any
	// send recorded it); Rehearsal, that it went to a pregon sandbox.
	Destination string `json:"destination"`
	API         string `json:"api,omitempty"`
	BaseURL     string `json:"base_url,omitempty"`
	Rehearsal   bool   `json:"rehearsal"`
	// Delivery is what became of the sent messages, as far as
	// `pregon track` has asked the platform (v2).
	Delivery deliveryJSON `json:"delivery"`
	Runs     []runJSON    `json:"runs"`
}

type deliveryJSON struct {
	Tracked     int            `json:"tracked"` // sent messages asked about at least once
	Delivered   int            `json:"delivered"`
	Read        int            `json:"read"`
	FailedAfter int            `json:"failed_after_sent"`
	Reasons     map[string]int `json:"failure_reasons,omitempty"`
}

type runJSON struct {
	Started  time.Time      `json:"started"`
	Ended    *time.Time     `json:"ended"` // null: still running, or killed
	Host     string         `json:"host"`
	PID      int            `json:"pid"`
	Flags    map[string]any `json:"flags"`
	Sent     int            `json:"sent"`
	Failed   int            `json:"failed"`
	Unknown  int            `json:"unknown"`
	Rate     float64        `json:"rate"`
	EndedBy  string         `json:"ended_by"`
	ExitCode *int           `json:"exit_code"`
}

// campaignStatus is everything status shows about one campaign.
type campaignStatus struct {
	store.Summary
	Runs    []store.Run
	Running *store.Holder // the run holding the campaign now, if any
	Ledger  string
	Funnel  store.Funnel
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ledgerPath := fs.String("ledger", defaultLedger, "ledger `file`")
	name := fs.String("campaign", "", "show only this campaign: its `name`, or its file (promo.json)")
	asJSON := fs.Bool("json", false, "print JSON: an array with one object per campaign")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	camp, err := readCampaignArg("status", *name)
	if err != nil {
		return err
	}
	ledger, err := openToRead(ctx, "status", *ledgerPath, camp)
	if err != nil {
		return err
	}
	defer ledger.Close()
	list, err := loadStatus(ctx, ledger, *ledgerPath, camp.name)
	if err != nil {
		return err
	}
	if camp.name != "" && len(list) == 0 {
		return noCampaign(ctx, ledger, "status", *ledgerPath, camp)
	}
	if *asJSON {
		return printStatusJSON(stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintf(stdout, "No campaigns in %s yet.\n", *ledgerPath)
		return nil
	}
	for i, s := range list {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		printStatus(stdout, s)
	}
	return nil
}

func loadStatus(ctx context.Context, ledger *store.Ledger, path, name string) ([]campaignStatus, error) {
	list, err := engine.Status(ctx, ledger, name)
	if err != nil {
		return nil, err
	}
	out := make([]campaignStatus, len(list))
	for i, s := range list {
		out[i] = campaignStatus{Summary: s.Summary, Runs: s.Runs, Running: s.Running, Ledger: path, Funnel: s.Funnel}
	}
	return out, nil
}

func printStatusJSON(w io.Writer, list []campaignStatus) error {
	out := make([]statusJSON, 0, len(list))
	for _, s := range list {
		j := statusJSON{Name: s.Name, Total: s.Total,
			Pending: s.Counts[campaign.Pending], Sent: s.Counts[campaign.Sent], Failed: s.Counts[campaign.Failed],
			Unknown: s.Counts[campaign.Unknown], Invalid: s.Counts[campaign.Invalid],
			Duplicate: s.Counts[campaign.Duplicate], InFlight: s.Counts[campaign.Sending], Runs: []runJSON{},
			API: s.Destination.API, BaseURL: s.Destination.BaseURL, Rehearsal: s.Rehearsal,
			Delivery: deliveryJSON{Tracked: s.Funnel.Tracked, Delivered: s.Funnel.Delivered, Read: s.Funnel.Read,
				FailedAfter: s.Funnel.Failed, Reasons: s.Funnel.Reasons}}
		if s.Destination != (store.Destination{}) {
			j.Destination = s.Destination.String()
		}
		for _, r := range s.Runs {
			rj := runJSON{Started: r.Started, Host: r.Host, PID: r.PID, Flags: r.Flags, Sent: r.Sent, Failed: r.Failed,
				Unknown: r.Unknown, Rate: r.Rate, EndedBy: r.EndedBy}
			if !r.Ended.IsZero() {
				ended, code := r.Ended, r.ExitCode
				rj.Ended, rj.ExitCode = &ended, &code
			}
			j.Runs = append(j.Runs, rj)
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// printStatus writes one campaign's table, last run, failure reasons and
// the commands that would resume or retry it.
func printStatus(w io.Writer, s campaignStatus) {
	title := fmt.Sprintf("Campaign %q", s.Name)
	if s.Rehearsal {
		title += " (rehearsal: nobody received these messages)"
	}
	fmt.Fprintln(w, title)
	if s.Destination != (store.Destination{}) {
		fmt.Fprintf(w, "  sent to %s\n", s.Destination)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	states := append([]campaign.State{}, campaign.States...)
	if s.Counts[campaign.Sending] > 0 {
		states = append(states, campaign.Sending)
	}
	for _, st := range states {
		fmt.Fprintf(tw, "  %s\t%d\t%s\t\n", st, s.Counts[st], percent(s.Counts[st], s.Total))
	}
	fmt.Fprintf(tw, "  total\t%d\t\t\n", s.Total)
	tw.Flush()
	switch {
	case s.Running != nil && s.Running.PID == 0:
		fmt.Fprintln(w, "  running now: another pregon run (it did not say which)")
	case s.Running != nil:
		fmt.Fprintf(w, "  running now: pid %d on %s, since %s\n", s.Running.PID, s.Running.Host, s.Running.Since.Local().Format("2006-01-02 15:04"))
	case len(s.Runs) > 0:
		fmt.Fprintf(w, "  last run: %s\n", describeRun(s.Runs[0]))
	}
	if len(s.Runs) > 1 {
		fmt.Fprintf(w, "  runs: %d (pregon report -ledger %s -campaign %s -o informe.html lists them all)\n",
			len(s.Runs), shellQuote(s.Ledger), shellQuote(s.Name))
	}
	if f := s.Funnel; f.Tracked > 0 {
		fmt.Fprintf(w, "  after sending: %d delivered (%d read), %d failed", f.Delivered, f.Read, f.Failed)
		if f.Sent > f.Tracked {
			fmt.Fprintf(w, ", %d not asked about yet", f.Sent-f.Tracked)
		}
		fmt.Fprintln(w)
		for _, reason := range byCount(f.Reasons) {
			fmt.Fprintf(w, "    failed after sending: %s: %d\n", reason, f.Reasons[reason])
		}
	}
	if len(s.Reasons) > 0 {
		fmt.Fprintln(w, "  why not sent:")
		for _, r := range s.Reasons {
			fmt.Fprintf(w, "    %s: %s: %d\n", r.State, strings.TrimSpace(r.Error), r.Count)
		}
	}
	if s.Running == nil {
		for _, line := range nextSteps(s) {
			fmt.Fprintln(w, "  "+line)
		}
	}
}

func percent(n, total int) string {
	if total == 0 {
		return "0.0%"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(total))
}

func describeRun(r store.Run) string {
	when := fmt.Sprintf("%s on %s (pid %d)", r.Started.Local().Format("2006-01-02 15:04"), r.Host, r.PID)
	if r.Ended.IsZero() {
		return when + ": stopped without a word (killed, or the machine went down); the next run marks its in-flight contacts unknown"
	}
	return fmt.Sprintf("%s: %s, exit %d, %d sent, %d failed, %d unknown in %s (%.1f/s)", when, r.EndedBy, r.ExitCode,
		r.Sent, r.Failed, r.Unknown, r.Ended.Sub(r.Started).Round(time.Second), r.Rate)
}

// nextSteps are the exact commands that would move the campaign on, built
// from the files and destination its last real run used, and the ledger
// status read (the run's recorded path may name another file by now: a
// ledger moved or copied elsewhere).
func nextSteps(s campaignStatus) []string {
	var last *store.Run
	for i := range s.Runs {
		if dry, _ := s.Runs[i].Flags["dry_run"].(bool); !dry {
			last = &s.Runs[i]
			break
		}
	}
	if last == nil {
		return nil
	}
	str := func(k string) string { v, _ := last.Flags[k].(string); return v }
	ledger := absPath(s.Ledger)
	cmd := fmt.Sprintf("pregon send -campaign %s -contacts %s -ledger %s", shellQuote(str("campaign_file")),
		shellQuote(str("contacts_file")), shellQuote(ledger))
	// Every flag that decides where the messages go and which ledger
	// records them: the command must reach the same destination.
	if sb, _ := last.Flags["sandbox"].(bool); sb {
		cmd += " -sandbox"
	} else if base := str("base_url"); base != "" {
		cmd += " -base-url " + shellQuote(base)
	}
	if insecure, _ := last.Flags["insecure"].(bool); insecure {
		cmd += " -insecure"
	}
	var out []string
	if n := s.Counts[campaign.Pending]; n > 0 {
		out = append(out, fmt.Sprintf("to send the %d pending: %s", n, cmd))
	}
	if n := s.Counts[campaign.Invalid]; n > 0 {
		out = append(out, fmt.Sprintf("to fix the %d invalid rows: pregon export -ledger %s -campaign %s -outcome invalid -o revisar.csv",
			n, shellQuote(ledger), shellQuote(s.Name)))
	}
	if n := s.Counts[campaign.Failed]; n > 0 {
		out = append(out, fmt.Sprintf("to retry the %d failed (refused ones too): %s -retry-failed", n, cmd))
	}
	if n := s.Counts[campaign.Unknown]; n > 0 && s.Destination.API == "v2" && !s.Destination.Sandbox {
		out = append(out, fmt.Sprintf("to ask the platform about the %d unknown (no duplicate): pregon reconcile -ledger %s -campaign %s",
			n, shellQuote(ledger), shellQuote(s.Name)))
	}
	if s.Destination.API == "v2" && !s.Destination.Sandbox && s.Funnel.Sent > 0 {
		out = append(out, fmt.Sprintf("to see what became of the %d sent: pregon track -ledger %s -campaign %s",
			s.Funnel.Sent, shellQuote(ledger), shellQuote(s.Name)))
	}
	if n := s.Counts[campaign.Unknown]; n > 0 {
		out = append(out, fmt.Sprintf("to send again to the %d unknown (each may get it twice): %s -resend-unknown", n, cmd))
	}
	return out
}

// byCount is the keys of counts, the largest count first.
func byCount(counts map[string]int) []string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := counts[b] - counts[a]; c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return keys
}

// absPath is path made absolute, so that a suggested command works from
// any folder.
func absPath(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}

// shellQuote quotes a word for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:=,@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
