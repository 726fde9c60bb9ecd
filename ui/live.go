package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/store"
)

// snapshot is a campaign's live progress, in the reader's words: what
// the live page shows and every server-sent event carries.
type snapshot struct {
	Phase   string   `json:"phase"` // starting, sending, stopping, ended, elsewhere, idle
	Status  string   `json:"status"`
	Message string   `json:"message"` // how the page's run ended, or what stopped it
	Sent    string   `json:"sent"`
	Failed  string   `json:"failed"`
	Unknown string   `json:"unknown"`
	Pending string   `json:"pending"`
	Rate    string   `json:"rate"`
	Left    string   `json:"left"`
	CanStop bool     `json:"can_stop"`
	Notes   []string `json:"notes"`
}

// phaseKeys say where a run the page started is.
var phaseKeys = map[phase]string{starting: i18n.K("ui.live.phase.starting"), sending: i18n.K("ui.live.phase.sending"),
	stopping: i18n.K("ui.live.phase.stopping"), ended: i18n.K("ui.live.phase.ended")}

// watcher reads a campaign's progress from the ledger, wherever its run
// was started: the page's own runs, and the command line's (cron), which
// it learns of from the campaign's lock.
type watcher struct {
	s       *Server
	key     runKey
	tr      *i18n.Printer
	ledger  *store.Ledger
	samples []sample
}

type sample struct {
	at   time.Time
	done int
}

func (s *Server) watch(key runKey, tr *i18n.Printer) *watcher {
	return &watcher{s: s, key: key, tr: tr}
}

func (w *watcher) close() {
	if w.ledger != nil {
		w.ledger.Close()
	}
}

// counts reads the campaign's contacts by state and the run holding it;
// zero counts while the ledger or the campaign does not exist yet.
func (w *watcher) counts(ctx context.Context) (map[campaign.State]int, *store.Holder, *store.Run, error) {
	path := w.s.ledgerOf(w.key.mode)
	if w.ledger == nil {
		if _, err := os.Stat(path); err != nil {
			return map[campaign.State]int{}, nil, nil, nil
		}
		l, err := store.OpenReadOnly(ctx, path)
		if err != nil {
			return nil, nil, nil, err
		}
		w.ledger = l
	}
	holder, err := store.Probe(w.ledger.Path(), w.key.campaign)
	if err != nil {
		return nil, nil, nil, err
	}
	sums, err := w.ledger.Summaries(ctx, w.key.campaign)
	if err != nil || len(sums) == 0 {
		return map[campaign.State]int{}, holder, nil, err
	}
	runs, err := w.ledger.Runs(ctx, sums[0].ID, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	return sums[0].Counts, holder, lastSend(runs), nil
}

// lastSend is the newest of runs that was not a dry run; nil when none.
func lastSend(runs []store.Run) *store.Run {
	for i := range runs {
		if dry, _ := runs[i].Flags["dry_run"].(bool); !dry {
			return &runs[i]
		}
	}
	return nil
}

// snapshot is the campaign's progress now.
func (w *watcher) snapshot(ctx context.Context) snapshot {
	tr := w.tr
	snap := snapshot{Notes: []string{}, Rate: "—", Left: "—"}
	counts, holder, last, err := w.counts(ctx)
	if err != nil {
		snap.Phase, snap.Status = "idle", tr.T("ui.live.unreadable", w.s.describe(tr, err))
		return snap
	}
	done := counts[campaign.Sent] + counts[campaign.Failed] + counts[campaign.Unknown]
	snap.Sent, snap.Failed, snap.Unknown = tr.Int(counts[campaign.Sent]), tr.Int(counts[campaign.Failed]), tr.Int(counts[campaign.Unknown])
	snap.Pending = tr.Int(counts[campaign.Pending] + counts[campaign.Sending])
	remaining := counts[campaign.Pending] + counts[campaign.Sending]

	var run *runView
	if r := w.s.runs.get(w.key); r != nil {
		v := r.view()
		run = &v
		for _, n := range v.notes {
			snap.Notes = append(snap.Notes, noteText(tr, n))
		}
	}
	switch {
	case run != nil && run.phase != ended:
		snap.Phase, snap.Status = string(run.phase), tr.T(phaseKeys[run.phase])
		snap.CanStop = run.phase != stopping
		if run.has {
			// This run's own work, not the campaign's contacts that
			// its file does not list.
			remaining = max(0, run.total-int(run.stats.Sent+run.stats.Failed+run.stats.Unknown))
		}
	case holder != nil:
		snap.Phase, snap.Status = "elsewhere", holderText(tr, holder)
		if run != nil {
			// What became of the page's own run: often, that this one
			// held the campaign when it tried to start.
			snap.Message = w.s.endText(tr, run.res, run.err)
		}
	case run != nil:
		snap.Phase, snap.Status = string(ended), tr.T(phaseKeys[ended])
		snap.Message = w.s.endText(tr, run.res, run.err)
	default:
		snap.Phase, snap.Status = "idle", tr.T("ui.live.idle")
		if last != nil {
			snap.Message = lastRunText(tr, *last)
		}
	}
	if snap.Phase == string(sending) || snap.Phase == string(stopping) || snap.Phase == "elsewhere" {
		if rate, ok := w.rate(done); ok {
			snap.Rate = tr.T("ui.live.per_second", tr.Float(rate))
			if rate > 0 && remaining > 0 {
				snap.Left = tr.Duration(time.Duration(float64(remaining) / rate * float64(time.Second)))
			}
		}
	} else {
		w.samples = nil
	}
	return snap
}

// rate is the contacts done per second over the last rateOver, from the
// ledger's counts: the same for a run of the page and one of cron.
func (w *watcher) rate(done int) (float64, bool) {
	now := time.Now()
	w.samples = append(w.samples, sample{at: now, done: done})
	for len(w.samples) > 2 && now.Sub(w.samples[1].at) >= rateOver {
		w.samples = w.samples[1:]
	}
	first := w.samples[0]
	span := now.Sub(first.at).Seconds()
	if span < 1 {
		return 0, false
	}
	return float64(done-first.done) / span, true
}

// events streams the campaign's progress as server-sent events, one
// snapshot a Poll, until the browser leaves or the server stops.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	key, ok := s.keyOf(r.URL.Query())
	if !ok {
		http.NotFound(w, r)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	wt := s.watch(key, s.printer(r))
	defer wt.close()
	tick := time.NewTicker(s.o.Poll)
	defer tick.Stop()
	for {
		b, err := json.Marshal(wt.snapshot(r.Context()))
		if err != nil {
			return
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

// keyOf reads which campaign of which ledger a request is about.
func (s *Server) keyOf(q url.Values) (runKey, bool) {
	m, ok := parseMode(q.Get("mode"))
	name := q.Get("name")
	return runKey{mode: m, campaign: name}, ok && name != ""
}

// query names the campaign of the ledger in a query string.
func (k runKey) query() string {
	return url.Values{"mode": {string(k.mode)}, "name": {k.campaign}}.Encode()
}

// liveURL is the live page of a campaign, carrying the files picked.
func liveURL(key runKey, p pick) string {
	u := "/live?" + key.query()
	if q := p.Query(); q != "" {
		u += "&" + string(q)
	}
	return u
}

// liveData is what the live page shows before its events arrive.
type liveData struct {
	Mode     string
	Campaign string
	Events   template.URL // where the events come from
	Snap     snapshot
}

func (s *Server) live(w http.ResponseWriter, r *http.Request) {
	key, ok := s.keyOf(r.URL.Query())
	if !ok {
		http.Redirect(w, r, "/results", http.StatusSeeOther)
		return
	}
	wt := s.watch(key, s.printer(r))
	defer wt.close()
	nav := "send"
	if key.mode == rehearsal {
		nav = "rehearse"
	}
	// The run's own files, not what the address carries: the page shows
	// what is being sent.
	pk := s.pickOf(r.URL.Query())
	if run := s.runs.get(key); run != nil {
		pk = run.pick
	}
	s.render(w, r, "live", &page{Nav: nav, Pick: pk, Back: liveURL(key, pk), Data: liveData{Mode: string(key.mode), Campaign: key.campaign,
		Events: template.URL("/events?" + key.query()), Snap: wt.snapshot(r.Context())}})
}

func (s *Server) stop(w http.ResponseWriter, r *http.Request) {
	key, ok := s.keyOf(r.Form)
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.runs.stop(key)
	pk := s.pickOf(r.Form)
	if run := s.runs.get(key); run != nil {
		pk = run.pick
	}
	http.Redirect(w, r, liveURL(key, pk), http.StatusSeeOther)
}
