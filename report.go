package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/outfile"
	"github.com/pregon/pregon/store"
)

//go:embed report.html.tmpl
var reportHTML string

// reportTemplate escapes every value it inserts: a CSV cell or a platform
// message can never become markup in the report.
var reportTemplate = template.Must(template.New("report").Parse(reportHTML))

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ledgerPath := fs.String("ledger", defaultLedger, "ledger `file`")
	name := fs.String("campaign", "", "the campaign to report on: its `name`, or its file (promo.json) (required)")
	outPath := fs.String("o", "", "write the report to this `file` (mode 0600; never the ledger; default standard output)")
	force := fs.Bool("force", false, "replace the -o file if it exists")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" || fs.NArg() > 0 {
		return usageError{errors.New("report: -campaign NAME is required (see pregon status for the names)")}
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
	data, err := loadReport(ctx, ledger, camp.name)
	if err != nil {
		return err
	}
	if *outPath == "" {
		if err := reportTemplate.Execute(stdout, data); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return nil
	}
	err = outfile.Write(*outPath, outfile.Options{Force: *force, Ledgers: []string{*ledgerPath}}, func(w io.Writer) error {
		if err := reportTemplate.Execute(w, data); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return nil
	})
	if err != nil {
		return outputError("report", err)
	}
	fmt.Fprintf(stderr, "pregon: wrote the report of %q to %s\n", camp.name, *outPath)
	return nil
}

// reportData is what the report shows, already in words and pixels.
type reportData struct {
	Name      string
	ExportCmd string // the command that lists the invalid rows
	Total     int
	Sandbox   bool
	Generated string
	States    []reportState
	Chart     chart
	Reasons   []store.Reason
	Invalid   int
	Runs      []reportRun
	Funnel    reportFunnel
}

// reportFunnel is what became of the sent messages, as bars whose widths
// are shares of the sent: delivered and read, and failed after the
// platform accepted them, with the platform's reasons.
type reportFunnel struct {
	V1       bool   // the v1 API tells nothing after acceptance
	TrackCmd string // the command that asks the platform
	Sent     int
	Tracked  int // asked about at least once
	Steps    []funnelStep
	Reasons  []funnelReason
}

type funnelStep struct {
	Class, Label, Percent string
	Count                 int
	Width                 float64 // percent of the sent, for the bar
}

type funnelReason struct {
	Reason string
	Count  int
}

type reportState struct {
	Class, Label, Percent string
	Count                 int
}

type reportRun struct {
	Started, Ended, EndedBy, Rate, Host string
	Sent, Failed, Unknown, PID          int
}

// stateLabels are the states in the users' language.
var stateLabels = map[campaign.State]string{
	campaign.Pending: "pendientes", campaign.Sent: "enviados", campaign.Failed: "fallidos",
	campaign.Unknown: "desconocidos", campaign.Invalid: "inválidos", campaign.Duplicate: "duplicados",
}

var endedLabels = map[string]string{
	"finished": "terminó", "interrupted": "interrumpida", "deadline": "llegó a -max-duration",
	"token rejected": "token rechazado", "error": "error", "dry run": "prueba (-dry-run)",
}

func loadReport(ctx context.Context, ledger *store.Ledger, name string) (*reportData, error) {
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
	d := &reportData{Name: s.Name, Total: s.Total, Sandbox: s.Rehearsal, Reasons: s.Reasons,
		ExportCmd: fmt.Sprintf("pregon export -ledger %s -campaign %s -outcome invalid -o revisar.csv", shellQuote(absPath(ledger.Path())), shellQuote(s.Name)),
		Invalid:   s.Counts[campaign.Invalid], Generated: time.Now().Format("2006-01-02 15:04"), Chart: buildChart(minutes)}
	funnel, err := ledger.Funnel(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	d.Funnel = buildFunnel(funnel, s.Destination.API == "v1",
		fmt.Sprintf("pregon track -ledger %s -campaign %s", shellQuote(absPath(ledger.Path())), shellQuote(s.Name)))
	for _, st := range campaign.States {
		d.States = append(d.States, reportState{Class: string(st), Label: stateLabels[st], Count: s.Counts[st], Percent: percent(s.Counts[st], s.Total)})
	}
	// A probe, never the lock: a send starting now must not find the
	// campaign taken by a reader.
	running, err := store.Probe(ledger.Path(), s.Name)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		rr := reportRun{Started: r.Started.Local().Format("2006-01-02 15:04"), Ended: "—", EndedBy: "no terminó (se detuvo de golpe)",
			Host: r.Host, PID: r.PID, Sent: r.Sent, Failed: r.Failed, Unknown: r.Unknown, Rate: fmt.Sprintf("%.1f/s", r.Rate)}
		switch {
		case r.Ended.IsZero() && running != nil && r.PID == running.PID && r.Host == running.Host:
			rr.EndedBy = "en curso: está enviando ahora"
			running = nil // the newest such run; an older one with that pid was killed
		case !r.Ended.IsZero():
			rr.Ended = r.Ended.Local().Format("2006-01-02 15:04")
			rr.EndedBy = fmt.Sprintf("%s (código %d)", endedLabels[r.EndedBy], r.ExitCode)
		}
		d.Runs = append(d.Runs, rr)
	}
	return d, nil
}

// buildFunnel lays out the delivery funnel: the sent, then the delivered
// (read included), the read, and the failed after acceptance, each as a
// share of the sent; the reasons most frequent first.
func buildFunnel(f store.Funnel, v1 bool, trackCmd string) reportFunnel {
	r := reportFunnel{V1: v1, TrackCmd: trackCmd, Sent: f.Sent, Tracked: f.Tracked}
	step := func(class, label string, n int) funnelStep {
		w := 0.0
		if f.Sent > 0 {
			w = 100 * float64(n) / float64(f.Sent)
		}
		return funnelStep{Class: class, Label: label, Count: n, Percent: percent(n, f.Sent), Width: w}
	}
	r.Steps = []funnelStep{
		step("sent", "enviados (aceptados por la plataforma)", f.Sent),
		step("delivered", "entregados", f.Delivered),
		step("read", "leídos", f.Read),
		step("failed", "fallaron después del envío", f.Failed),
	}
	for reason, n := range f.Reasons {
		if reason == "" {
			reason = "(la plataforma no dio el motivo)"
		}
		r.Reasons = append(r.Reasons, funnelReason{Reason: reason, Count: n})
	}
	slices.SortFunc(r.Reasons, func(a, b funnelReason) int {
		if a.Count != b.Count {
			return b.Count - a.Count
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

func buildChart(minutes []store.Minute) chart {
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
		b := bar{Label: local.Format("2006-01-02 15:04"), Sent: m.Sent, Failed: m.Failed, Unknown: m.Unknown,
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
