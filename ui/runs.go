package ui

import (
	"context"
	"sync"
	"time"

	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/sender"
)

// mode says which ledger: the real sends', or the rehearsals'.
type mode string

const (
	real      mode = "real"
	rehearsal mode = "rehearsal"
)

func parseMode(s string) (mode, bool) {
	switch mode(s) {
	case real, rehearsal:
		return mode(s), true
	}
	return "", false
}

func (s *Server) ledgerOf(m mode) string {
	if m == rehearsal {
		return s.o.RehearsalLedger
	}
	return s.o.Ledger
}

// runKey names a campaign in one of the ledgers: what a run holds.
type runKey struct {
	mode     mode
	campaign string
}

// phase is where a run the page started is.
type phase string

const (
	starting phase = "starting" // reading the contacts, checking the address and the template
	sending  phase = "sending"
	stopping phase = "stopping" // Stop was pressed: the requests in flight finish
	ended    phase = "ended"
)

// runs are the sends the page started, the last one of each campaign
// kept after it ended so that its page can say how it went.
type runs struct {
	mu     sync.Mutex
	all    map[runKey]*pageRun
	tracks map[string]*tracking // by campaign, of the real ledger
	wg     sync.WaitGroup
}

func newRuns() *runs { return &runs{all: map[runKey]*pageRun{}, tracks: map[string]*tracking{}} }

// pageRun is one send the page started: engine.Send in a goroutine of
// its own, with a context that Stop cancels as Ctrl-C does.
type pageRun struct {
	cancel context.CancelFunc
	pick   pick // the files it sends: its live page shows them, and a second start is told them

	mu    sync.Mutex
	phase phase
	total int                 // contacts to send, as the engine counts them
	stats func() sender.Stats // the sender's counts, from Sending on
	notes []engine.Note
	res   *engine.Result
	err   error
}

// maxNotes bounds the notes a run keeps for its page.
const maxNotes = 20

// start starts send of the pick for key, unless a run the page started
// holds the campaign already: then it returns that run and false, and
// nothing of this pick is sent (the caller must say so).
func (rs *runs) start(ctx context.Context, key runKey, p pick, send func(context.Context, engine.Events) (*engine.Result, error)) (*pageRun, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if r := rs.all[key]; r != nil && r.view().phase != ended {
		return r, false
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &pageRun{cancel: cancel, pick: p, phase: starting}
	rs.all[key] = r
	rs.wg.Go(func() {
		defer cancel()
		res, err := send(ctx, &runEvents{r: r})
		r.mu.Lock()
		r.res, r.err, r.phase = res, err, ended
		r.mu.Unlock()
	})
	return r, true
}

func (rs *runs) get(key runKey) *pageRun {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.all[key]
}

// stop asks the campaign's run to stop as a first Ctrl-C does: nothing
// new is sent, the requests in flight finish and are recorded.
func (rs *runs) stop(key runKey) {
	r := rs.get(key)
	if r == nil {
		return
	}
	r.mu.Lock()
	if r.phase != ended {
		r.phase = stopping
	}
	r.mu.Unlock()
	r.cancel()
}

// wait waits for every run to end.
func (rs *runs) wait() { rs.wg.Wait() }

// runView is a run's state at one moment.
type runView struct {
	phase phase
	total int
	stats sender.Stats
	has   bool // stats are known
	notes []engine.Note
	res   *engine.Result
	err   error
}

func (r *pageRun) view() runView {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := runView{phase: r.phase, total: r.total, notes: append([]engine.Note(nil), r.notes...), res: r.res, err: r.err}
	if r.stats != nil {
		v.stats, v.has = r.stats(), true
	}
	return v
}

// runEvents keeps what the engine tells of a run for its page.
type runEvents struct {
	engine.Quiet
	r *pageRun
}

func (e *runEvents) Note(n engine.Note) {
	e.r.mu.Lock()
	defer e.r.mu.Unlock()
	if len(e.r.notes) < maxNotes {
		e.r.notes = append(e.r.notes, n)
	}
}

func (e *runEvents) Sending(total int, stats func() sender.Stats) {
	e.r.mu.Lock()
	defer e.r.mu.Unlock()
	e.r.total, e.r.stats = total, stats
	if e.r.phase == starting {
		e.r.phase = sending
	}
}

func (e *runEvents) Total(total int) {
	e.r.mu.Lock()
	defer e.r.mu.Unlock()
	e.r.total = total
}

// tracking is a `pregon track` the page started: engine.Track in a
// goroutine of its own, which the page's results show.
type tracking struct {
	mu    sync.Mutex
	asked int
	done  bool
	res   *engine.TrackResult
	err   error
}

// track starts asking the platform about the campaign's sent messages,
// unless the page is asking already.
func (rs *runs) track(ctx context.Context, name string, track func(ctx context.Context, progress func(int)) (*engine.TrackResult, error)) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if tr := rs.tracks[name]; tr != nil && !tr.view().done {
		return
	}
	tr := &tracking{}
	rs.tracks[name] = tr
	rs.wg.Go(func() {
		res, err := track(ctx, func(n int) {
			tr.mu.Lock()
			tr.asked = n
			tr.mu.Unlock()
		})
		tr.mu.Lock()
		tr.res, tr.err, tr.done = res, err, true
		tr.mu.Unlock()
	})
}

// tracking is the campaign's last tracking the page started; nil when none.
func (rs *runs) tracking(name string) *tracking {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.tracks[name]
}

// trackView is a tracking at one moment.
type trackView struct {
	asked int
	done  bool
	res   *engine.TrackResult
	err   error
}

func (tr *tracking) view() trackView {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return trackView{asked: tr.asked, done: tr.done, res: tr.res, err: tr.err}
}

// rateOver is how far back live progress looks to tell the rate.
const rateOver = 10 * time.Second
