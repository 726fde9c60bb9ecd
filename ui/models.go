package ui

import (
	"cmp"
	"context"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/wording"
)

// checkView is a dry run as the Prepare and Send pages show it.
type checkView struct {
	Name, Encoding                             string
	WouldSend, Invalid, Duplicate, Done, Empty int
	Destination                                string             // where the messages go, in words
	Host                                       string             // the API's host; "" for the sandbox or no address
	camp                                       *campaign.Campaign // the campaign as checked
	Template                                   string             // what became of the template check, in words
	TextUnknown                                string             // why a template's text is not shown, in words
	Problems                                   []problemView
	More                                       int // problems not listed
	Unfilled                                   []string
	Warnings                                   []warningView
	Previews                                   []campaign.Preview
	CanSend                                    bool
}

type problemView struct {
	Line                        int
	File, Column, Value, Reason string
	Duplicate                   bool
}

type warningView struct {
	Text     string
	Count    int
	Examples []string
}

func (s *Server) newCheckView(tr *i18n.Printer, c *campaign.Campaign, d *engine.DryRun) *checkView {
	v := &checkView{camp: c, Name: c.Name, Encoding: d.Encoding, WouldSend: d.Valid, Invalid: d.Invalid, Duplicate: d.Duplicate,
		Done: d.Done, Empty: d.Empty, Previews: d.Previews, Template: wording.TemplateCheck(tr, d.Template, tokenEnv),
		More: d.Invalid + d.Duplicate - len(d.Problems)}
	for _, p := range d.Previews {
		if p.Template != nil && !p.Template.TextKnown {
			v.TextUnknown = wording.TextUnknown(tr, d.Template, tokenEnv)
		}
	}
	v.CanSend = d.Code() != engine.BadInput && d.Valid > 0
	switch dest := d.Destination; {
	case dest.Sandbox:
		v.Destination = tr.T("ui.check.to_sandbox")
	case dest.URL == "":
		v.Destination = tr.T("ui.check.to_nowhere")
	default:
		v.Destination = dest.URL
		if u, err := url.Parse(dest.URL); err == nil {
			v.Host = u.Host
		}
	}
	for _, p := range d.Problems {
		pv := problemView{Line: p.Line, File: p.File}
		if p.State == campaign.Duplicate {
			pv.Duplicate, pv.Value, pv.Reason = true, wording.Contact(tr, p.Contact), wording.Reason(tr, campaign.DuplicateReason(p.FirstLine))
		} else {
			pv.Column, pv.Value, pv.Reason = p.Row.Column, p.Row.Value, wording.CellReason(tr, p.Row)
		}
		v.Problems = append(v.Problems, pv)
	}
	for _, u := range d.Unfilled {
		v.Unfilled = append(v.Unfilled, wording.Unfilled(tr, u))
	}
	for _, cw := range d.CampaignWarnings {
		v.Warnings = append(v.Warnings, warningView{Text: cw, Count: 1})
	}
	for _, w := range d.Warnings {
		wv := warningView{Text: wording.Warning(tr, w.Code), Count: w.Count}
		for _, ex := range w.First {
			wv.Examples = append(wv.Examples, wording.WarningExample(tr, ex))
		}
		v.Warnings = append(v.Warnings, wv)
	}
	return v
}

// tokenEnv is the environment variable that holds the API token, as the
// command line reads it.
const tokenEnv = "PREGON_TOKEN"

// campaignState is one campaign of a ledger as the Results page shows it.
type campaignState struct {
	Name, Mode  string
	Rehearsal   bool
	Destination string
	Total       int
	States      []stateRow
	Running     string // who sends it now, in words; "" when nobody does
	Reasons     []reasonRow
	Funnel      *funnelView // nil before anything was tracked
	Runs        []runRow
	Sent        int
	// CanTrack: the page can ask the platform about the sent messages
	// (API v2, a real address, a token); Tracking says how the page's
	// asking goes or went.
	CanTrack bool
	Tracking string
	ToFix    int          // invalid and failed: what the export lists
	Query    template.URL // mode and campaign, for the links
}

type stateRow struct {
	State, Label, Percent string
	Count                 int
}

type reasonRow struct {
	State, Text string
	Count       int
}

type funnelView struct {
	Sent, Tracked, Delivered, Read, Failed, NotAsked int
	Reasons                                          []reasonRow
}

type runRow struct {
	Started, Ended, How, Rate, Where string
	Sent, Failed, Unknown            int
}

// trackingOf says how the page's asking the platform about the campaign
// goes, and whether it may ask.
func (s *Server) trackingOf(tr *i18n.Printer, v *campaignState) {
	v.CanTrack = v.CanTrack && s.o.Token != ""
	tk := s.runs.tracking(v.Name)
	if tk == nil || v.Mode != string(real) {
		return
	}
	t := tk.view()
	switch {
	case !t.done:
		v.Tracking, v.CanTrack = tr.T("ui.track.asking", t.asked), false
	case t.err != nil && t.res == nil:
		v.Tracking = s.describe(tr, t.err)
	default:
		v.Tracking = tr.T("ui.track.done", t.res.Asked, t.res.Moved, t.res.Missing)
		if t.err != nil {
			v.Tracking += " " + s.describe(tr, t.err)
		}
	}
}

// states reads the campaigns of a ledger, or the one named.
func (s *Server) states(ctx context.Context, tr *i18n.Printer, m mode, name string) ([]campaignState, error) {
	ledger, err := s.openLedger(ctx, m)
	if err != nil {
		return nil, err
	}
	defer ledger.Close()
	list, err := engine.Status(ctx, ledger, name)
	if err != nil {
		return nil, err
	}
	out := make([]campaignState, 0, len(list))
	for _, cs := range list {
		out = append(out, newCampaignState(tr, m, cs))
	}
	return out, nil
}

// stateOf is one campaign's state; nil when the ledger does not have it.
func (s *Server) stateOf(ctx context.Context, tr *i18n.Printer, m mode, name string) *campaignState {
	list, err := s.states(ctx, tr, m, name)
	if err != nil || len(list) == 0 {
		return nil
	}
	return &list[0]
}

func newCampaignState(tr *i18n.Printer, m mode, cs engine.CampaignStatus) campaignState {
	v := campaignState{Name: cs.Name, Mode: string(m), Rehearsal: cs.Rehearsal, Total: cs.Total,
		Sent: cs.Counts[campaign.Sent], ToFix: cs.Counts[campaign.Invalid] + cs.Counts[campaign.Failed],
		Query: template.URL(runKey{mode: m, campaign: cs.Name}.query())}
	if cs.Destination != (store.Destination{}) {
		v.Destination = wording.Destination(tr, cs.Destination)
	}
	for _, st := range campaign.States {
		v.States = append(v.States, stateRow{State: string(st), Label: wording.State(tr, st), Count: cs.Counts[st], Percent: tr.Percent(cs.Counts[st], cs.Total)})
	}
	if cs.Running != nil {
		v.Running = holderText(tr, cs.Running)
	}
	v.CanTrack = m == real && cs.Destination.API == "v2" && !cs.Destination.Sandbox && cs.Destination.BaseURL != "" && cs.Funnel.Sent > 0
	for _, r := range cs.Reasons {
		v.Reasons = append(v.Reasons, reasonRow{State: wording.State(tr, r.State), Text: wording.Stored(tr, r.Why, r.Error), Count: r.Count})
	}
	if f := cs.Funnel; f.Tracked > 0 {
		fv := &funnelView{Sent: f.Sent, Tracked: f.Tracked, Delivered: f.Delivered, Read: f.Read, Failed: f.Failed, NotAsked: f.Sent - f.Tracked}
		for reason, n := range f.Reasons {
			if reason == "" {
				reason = tr.T("ui.results.no_reason")
			}
			fv.Reasons = append(fv.Reasons, reasonRow{Text: reason, Count: n})
		}
		// The most frequent first.
		slices.SortFunc(fv.Reasons, func(a, b reasonRow) int {
			return cmp.Or(b.Count-a.Count, strings.Compare(a.Text, b.Text))
		})
		v.Funnel = fv
	}
	running := cs.Running
	for _, r := range cs.Runs {
		if dry, _ := r.Flags["dry_run"].(bool); dry {
			continue
		}
		row := runRow{Started: when(tr, r.Started), Ended: when(tr, r.Ended), Rate: tr.T("ui.live.per_second", tr.Float(r.Rate)),
			Where: tr.T("ui.results.where", strconv.Itoa(r.PID), r.Host), Sent: r.Sent, Failed: r.Failed, Unknown: r.Unknown}
		switch {
		case r.Ended.IsZero() && running != nil && running.PID == r.PID && running.Host == r.Host:
			row.How = tr.T("ui.results.running_now")
			running = nil // the newest such run; an older one with that pid was killed
		case r.Ended.IsZero():
			row.How = tr.T("ui.results.killed")
		default:
			row.How = wording.Ended(tr, r.EndedBy)
		}
		v.Runs = append(v.Runs, row)
	}
	return v
}
