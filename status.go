package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/wording"
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

func runStatus(ctx context.Context, tr *i18n.Printer, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(tr, "status")
	ledgerPath := fs.String("ledger", defaultLedger, tr.T("flag.ledger"))
	name := fs.String("campaign", "", tr.T("flag.status.campaign"))
	asJSON := fs.Bool("json", false, tr.T("flag.status.json"))
	if err := parseArgs(tr, fs, args, stderr); err != nil {
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
		fmt.Fprintln(stdout, tr.T("status.empty", *ledgerPath))
		return nil
	}
	for i, s := range list {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		printStatus(tr, stdout, s)
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
func printStatus(tr *i18n.Printer, w io.Writer, s campaignStatus) {
	title := tr.T("status.title", s.Name)
	if s.Rehearsal {
		title = tr.T("status.title_rehearsal", s.Name)
	}
	fmt.Fprintln(w, title)
	if s.Destination != (store.Destination{}) {
		fmt.Fprintf(w, "  %s\n", tr.T("status.sent_to", wording.Destination(tr, s.Destination)))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	states := append([]campaign.State{}, campaign.States...)
	if s.Counts[campaign.Sending] > 0 {
		states = append(states, campaign.Sending)
	}
	for _, st := range states {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t\n", wording.State(tr, st), tr.Int(s.Counts[st]), tr.Percent(s.Counts[st], s.Total))
	}
	fmt.Fprintf(tw, "  %s\t%s\t\t\n", tr.T("status.total"), tr.Int(s.Total))
	tw.Flush()
	switch {
	case s.Running != nil && s.Running.PID == 0:
		fmt.Fprintf(w, "  %s\n", tr.T("status.running_unnamed"))
	case s.Running != nil:
		fmt.Fprintf(w, "  %s\n", tr.T("status.running", s.Running.Host, tr.DateTime(s.Running.Since), strconv.Itoa(s.Running.PID)))
	case len(s.Runs) > 0:
		fmt.Fprintf(w, "  %s\n", tr.T("status.last_run", describeRun(tr, s.Runs[0])))
	}
	if len(s.Runs) > 1 {
		fmt.Fprintf(w, "  %s\n", tr.T("status.runs", len(s.Runs),
			fmt.Sprintf("pregon report -ledger %s -campaign %s -o informe.html", shellQuote(s.Ledger), shellQuote(s.Name))))
	}
	if f := s.Funnel; f.Tracked > 0 {
		line := tr.T("status.after", f.Delivered, f.Read, f.Failed)
		if f.Sent > f.Tracked {
			line += tr.T("status.after_not_asked", f.Sent-f.Tracked)
		}
		fmt.Fprintf(w, "  %s\n", line)
		for _, reason := range byCount(f.Reasons) {
			fmt.Fprintf(w, "    %s\n", tr.T("status.after_reason", f.Reasons[reason], platformWords(tr, reason)))
		}
	}
	if len(s.Reasons) > 0 {
		fmt.Fprintf(w, "  %s\n", tr.T("status.why"))
		for _, r := range s.Reasons {
			fmt.Fprintf(w, "    %s\n", tr.T("status.why_line", r.Count, wording.State(tr, r.State), wording.Stored(tr, r.Why, r.Error)))
		}
	}
	if s.Running == nil {
		for _, line := range nextSteps(tr, s) {
			fmt.Fprintln(w, "  "+line)
		}
	}
}

// platformWords is the platform's reason for a failure after it accepted
// the message, quoted, or that it gave none.
func platformWords(tr *i18n.Printer, reason string) string {
	if strings.TrimSpace(reason) == "" {
		return tr.T("status.no_reason_given")
	}
	return fmt.Sprintf("%q", reason)
}

// percent is n of total as a percentage, in English (for the code that
// is not in the reader's language yet).
func percent(n, total int) string { return i18n.For(i18n.English).Percent(n, total) }

// describeRun says when a run started, where, how it ended and what it
// did.
func describeRun(tr *i18n.Printer, r store.Run) string {
	if r.Ended.IsZero() {
		return tr.T("status.run_killed", tr.DateTime(r.Started), r.Host)
	}
	return tr.T("status.run", tr.DateTime(r.Started), r.Host, wording.Ended(tr, r.EndedBy), tr.Duration(r.Ended.Sub(r.Started)),
		r.Sent, r.Failed, r.Unknown, tr.Float(r.Rate))
}

// nextSteps are the exact commands that would move the campaign on, built
// from the files and destination its last real run used, and the ledger
// status read (the run's recorded path may name another file by now: a
// ledger moved or copied elsewhere).
func nextSteps(tr *i18n.Printer, s campaignStatus) []string {
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
	ledger := s.Ledger // as the user wrote it, as in every command pregon suggests
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
		out = append(out, tr.T("next.pending", n, cmd))
	}
	if n := s.Counts[campaign.Invalid]; n > 0 {
		out = append(out, tr.T("next.invalid", n, fmt.Sprintf("pregon export -ledger %s -campaign %s -outcome invalid -o %s",
			shellQuote(ledger), shellQuote(s.Name), shellQuote(freeName("revisar.csv")))))
	}
	if n := s.Counts[campaign.Failed]; n > 0 {
		out = append(out, tr.T("next.failed", n, cmd+" -retry-failed"))
	}
	if n := s.Counts[campaign.Unknown]; n > 0 && s.Destination.API == "v2" && !s.Destination.Sandbox {
		out = append(out, tr.T("next.reconcile", n, fmt.Sprintf("pregon reconcile -ledger %s -campaign %s", shellQuote(ledger), shellQuote(s.Name))))
	}
	if s.Destination.API == "v2" && !s.Destination.Sandbox && s.Funnel.Sent > 0 {
		out = append(out, tr.T("next.track", s.Funnel.Sent, fmt.Sprintf("pregon track -ledger %s -campaign %s", shellQuote(ledger), shellQuote(s.Name))))
	}
	if n := s.Counts[campaign.Unknown]; n > 0 {
		out = append(out, tr.T("next.resend_unknown", n, cmd+" -resend-unknown"))
	}
	return out
}

// freeName is name, or when a file has it already, the first of name-2,
// name-3… that none has: a suggested -o must not need -force.
func freeName(name string) string {
	ext := filepath.Ext(name)
	for i := 2; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) || i > 99 {
			return name
		}
		name = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(strings.TrimSuffix(name, ext), fmt.Sprintf("-%d", i-1)), i, ext)
	}
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
