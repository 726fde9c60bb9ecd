package main

import (
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/outfile"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/wording"
)

//go:embed report.html.tmpl
var reportHTML string

// reportTemplate escapes every value it inserts: a CSV cell or a platform
// message can never become markup in the report. Its words come from T,
// given the reader's printer at each run (see renderReport).
var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"T": func(string, ...any) string { return "" },
}).Parse(reportHTML))

// renderReport writes the report in tr's language.
func renderReport(tr *i18n.Printer, w io.Writer, data *reportData) error {
	t, err := reportTemplate.Clone()
	if err != nil {
		return err
	}
	t.Funcs(template.FuncMap{"T": tr.T})
	if err := t.Execute(w, data); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

func runReport(ctx context.Context, tr *i18n.Printer, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(tr, "report")
	ledgerPath := fs.String("ledger", defaultLedger, tr.T("flag.ledger"))
	name := fs.String("campaign", "", tr.T("flag.report.campaign"))
	outPath := fs.String("o", "", tr.T("flag.report.o"))
	force := fs.Bool("force", false, tr.T("flag.force"))
	if err := parseArgs(tr, fs, args, stderr); err != nil {
		return err
	}
	if *name == "" || fs.NArg() > 0 {
		return usageError{say("error.campaign_required", "report", *ledgerPath)}
	}
	camp, err := readCampaignArg("report", *name)
	if err != nil {
		return err
	}
	ledger, err := openToRead(ctx, "report", *ledgerPath, camp)
	if err != nil {
		return err
	}
	defer ledger.Close()
	if _, ok, err := ledger.Lookup(ctx, camp.name); err != nil {
		return err
	} else if !ok {
		return noCampaign(ctx, ledger, "report", *ledgerPath, camp)
	}
	data, err := loadReport(ctx, tr, ledger, camp.name)
	if err != nil {
		return err
	}
	if *outPath == "" {
		return renderReport(tr, stdout, data)
	}
	err = outfile.Write(*outPath, outfile.Options{Force: *force, Ledgers: []string{*ledgerPath}}, func(w io.Writer) error {
		return renderReport(tr, w, data)
	})
	if err != nil {
		return outputError("report", err)
	}
	fmt.Fprintln(stderr, "pregon: "+tr.T("report.wrote", camp.name, *outPath))
	return nil
}

// reportData is what the report shows, already in words and pixels.
type reportData struct {
	Lang      string // the page's language, for its lang attribute
	Name      string
	ExportCmd string // the command that lists the invalid rows
	Total     int
	Sandbox   bool
	Generated string
	States    []reportState
	Sample    *reportSample
	Chart     chart
	Reasons   []reportReason
	Invalid   int
	Runs      []reportRun
	Funnel    reportFunnel
}

// reportSample is one contact's message as the platform got it.
type reportSample struct {
	Lines []string // what the customer reads, line by line
	Meta  string   // which message it is, and whose
}

type reportReason struct {
	State, Reason, Count string
}

// reportFunnel is what became of the sent messages, as bars whose widths
// are shares of the sent: delivered and read, and failed after the
// platform accepted them, with the platform's reasons.
type reportFunnel struct {
	V1       bool   // the v1 API tells nothing after acceptance
	Sandbox  bool   // the built-in sandbox forgot its messages when the run ended
	TrackCmd string // the command that asks the platform
	Sent     int
	Tracked  int // asked about at least once
	Steps    []funnelStep
	Reasons  []funnelReason
}

type funnelStep struct {
	Class, Label, Percent, Count string
	Width                        float64 // percent of the sent, for the bar
}

type funnelReason struct {
	Reason string
	Count  string
	n      int
}

type reportState struct {
	Class, Label, Percent, Count string
}

type reportRun struct {
	Started, Ended, EndedBy, Rate, Host string
	Sent, Failed, Unknown               string
}

func loadReport(ctx context.Context, tr *i18n.Printer, ledger *store.Ledger, name string) (*reportData, error) {
	sums, err := ledger.Summaries(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(sums) == 0 {
		return nil, noCampaign(ctx, ledger, "report", ledger.Path(), campaignArg{arg: name, name: name})
	}
	s := sums[0]
	minutes, err := ledger.Timeline(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	runs, err := ledger.Runs(ctx, s.ID, 0)
	if err != nil {
		return nil, err
	}
	d := &reportData{Lang: string(tr.Lang()), Name: s.Name, Total: s.Total, Sandbox: s.Rehearsal,
		ExportCmd: fmt.Sprintf("pregon export -ledger %s -campaign %s -outcome invalid -o revisar.csv", shellQuote(absPath(ledger.Path())), shellQuote(s.Name)),
		Invalid:   s.Counts[campaign.Invalid], Generated: tr.DateTime(time.Now()), Chart: buildChart(tr, minutes)}
	for _, r := range s.Reasons {
		d.Reasons = append(d.Reasons, reportReason{State: wording.StateOne(tr, r.State), Reason: wording.Stored(tr, r.Why, r.Error), Count: tr.Int(r.Count)})
	}
	funnel, err := ledger.Funnel(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	d.Funnel = buildFunnel(tr, funnel, s.Destination.API == "v1",
		fmt.Sprintf("pregon track -ledger %s -campaign %s", shellQuote(absPath(ledger.Path())), shellQuote(s.Name)))
	d.Funnel.Sandbox = s.Destination.Sandbox
	for _, st := range campaign.States {
		d.States = append(d.States, reportState{Class: string(st), Label: wording.State(tr, st), Count: tr.Int(s.Counts[st]), Percent: tr.Percent(s.Counts[st], s.Total)})
	}
	sample, ok, err := ledger.Sample(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	if ok {
		d.Sample = &reportSample{Lines: readable(tr, sample.Payload),
			Meta: tr.T("report.sample_other", wording.StateOne(tr, sample.State))}
		if sample.State == campaign.Sent {
			d.Sample.Meta = tr.T("report.sample_sent")
		}
	}
	// A probe, never the lock: a send starting now must not find the
	// campaign taken by a reader.
	running, err := store.Probe(ledger.Path(), s.Name)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		rr := reportRun{Started: tr.DateTime(r.Started), Ended: "—", EndedBy: tr.T("report.run_killed"),
			Host: r.Host, Sent: tr.Int(r.Sent), Failed: tr.Int(r.Failed), Unknown: tr.Int(r.Unknown), Rate: tr.T("report.rate", tr.Float(r.Rate))}
		switch {
		case r.Ended.IsZero() && running != nil && r.PID == running.PID && r.Host == running.Host:
			rr.EndedBy = tr.T("report.run_now")
			running = nil // the newest such run; an older one with that pid was killed
		case !r.Ended.IsZero():
			rr.Ended = tr.DateTime(r.Ended)
			rr.EndedBy = wording.Ended(tr, r.EndedBy)
		}
		d.Runs = append(d.Runs, rr)
	}
	return d, nil
}

// buildFunnel lays out the delivery funnel: the sent, then the delivered
// (read included), the read, and the failed after acceptance, each as a
// share of the sent; the reasons most frequent first.
func buildFunnel(tr *i18n.Printer, f store.Funnel, v1 bool, trackCmd string) reportFunnel {
	r := reportFunnel{V1: v1, TrackCmd: trackCmd, Sent: f.Sent, Tracked: f.Tracked}
	step := func(class, label string, n int) funnelStep {
		w := 0.0
		if f.Sent > 0 {
			w = 100 * float64(n) / float64(f.Sent)
		}
		return funnelStep{Class: class, Label: label, Count: tr.Int(n), Percent: tr.Percent(n, f.Sent), Width: w}
	}
	r.Steps = []funnelStep{
		step("sent", tr.T("report.funnel.sent"), f.Sent),
		step("delivered", tr.T("report.funnel.delivered"), f.Delivered),
		step("read", tr.T("report.funnel.read"), f.Read),
		step("failed", tr.T("report.funnel.failed"), f.Failed),
	}
	for reason, n := range f.Reasons {
		if reason == "" {
			reason = tr.T("report.funnel.no_reason")
		}
		r.Reasons = append(r.Reasons, funnelReason{Reason: reason, Count: tr.Int(n), n: n})
	}
	slices.SortFunc(r.Reasons, func(a, b funnelReason) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	return r
}

// chart is a stacked bar per minute with activity, drawn as inline SVG so
// the report needs no script to show it.
type chart struct {
	Width, Height, Base, LabelY, Max int
	Bars                             []bar
	Ticks                            []tick
}

type bar struct {
	Label                          string
	Sent, Failed, Unknown          int
	X, W                           float64
	SentY, SentH, FailedY, FailedH float64
	UnknownY, UnknownH             float64
}

type tick struct {
	X     float64
	Label string
}

func buildChart(tr *i18n.Printer, minutes []store.Minute) chart {
	c := chart{Width: 940, Height: 240, Base: 210, LabelY: 228}
	if len(minutes) == 0 {
		return c
	}
	for _, m := range minutes {
		c.Max = max(c.Max, m.Sent+m.Failed+m.Unknown)
	}
	plotW, plotH := float64(c.Width-50), float64(c.Base-10)
	// A short campaign has few minutes: keep its bars bar-shaped.
	step := min(plotW/float64(len(minutes)), 36)
	scale := plotH / float64(c.Max)
	every := max(1, len(minutes)/8)
	for i, m := range minutes {
		local := m.At.Local()
		b := bar{Label: tr.DateTime(local), Sent: m.Sent, Failed: m.Failed, Unknown: m.Unknown,
			X: 45 + float64(i)*step, W: max(1, step*0.8)}
		y := float64(c.Base)
		b.SentH = float64(m.Sent) * scale
		y -= b.SentH
		b.SentY = y
		b.FailedH = float64(m.Failed) * scale
		y -= b.FailedH
		b.FailedY = y
		b.UnknownH = float64(m.Unknown) * scale
		y -= b.UnknownH
		b.UnknownY = y
		c.Bars = append(c.Bars, b)
		if i%every == 0 {
			c.Ticks = append(c.Ticks, tick{X: b.X + b.W/2, Label: local.Format("15:04")})
		}
	}
	return c
}
