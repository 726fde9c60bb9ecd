package main

import (
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/sender"
)

// logEvery is how often progress is logged when stderr is not a terminal.
var logEvery = 5 * time.Second

// drawEvery is how often the bar is drawn on a terminal.
const drawEvery = 200 * time.Millisecond

// progress shows how a run is going: a bar on a terminal; under cron, where
// a bar would write a redraw per message into the mail, a log line every
// few seconds.
type progress struct {
	bar   *progressbar.ProgressBar // nil when not on a terminal
	w     io.Writer                // where the bar is drawn
	log   *slog.Logger
	tr    *i18n.Printer
	stats func() sender.Stats // the counts; set by start
	stop  func()              // ends the display; set by start
	mu    sync.Mutex          // guards total and the counts the bar shows
	total int
	// What the bar shows, counted as it moves, so that its words and its
	// count agree: the sender's own stats run ahead of the outcomes
	// reported so far.
	sent, failed, unknown int
}

// newProgress shows the run's progress: as a bar when bar allows it and
// stderr is a terminal (not under -log text or json, whose readers want
// records only), else as log records.
func newProgress(stderr io.Writer, total int, log *slog.Logger, tr *i18n.Printer, bar bool) *progress {
	p := &progress{log: log, tr: tr, total: total, w: stderr}
	if bar && realTerminal(stderr) && total > 0 {
		p.bar = newBar(total, tr)
	}
	return p
}

// newBar is the bar a terminal shows. It draws into nothing: progress
// writes its frame (String) every drawEvery, words and count from one
// reading of its counts. The bar's own Add and Describe each draw a frame
// at once (or not, throttled), which showed a count one off its words and
// could leave the last frame at 299/300.
func newBar(total int, tr *i18n.Printer) *progressbar.ProgressBar {
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(io.Discard),
		progressbar.OptionSetDescription(tr.T("progress.bar", 0, 0, 0)),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(tr.T("progress.unit")),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(30),
	)
}

// setTotal corrects the number of contacts to send, once an import that
// ran alongside the sending has counted them.
func (p *progress) setTotal(n int) {
	p.mu.Lock()
	p.total = n
	p.mu.Unlock()
	if p.bar != nil {
		p.bar.ChangeMax(n)
	}
}

// count is the number of contacts to send, as known now; an import running
// alongside may still correct it (setTotal).
func (p *progress) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// add counts one contact with a final outcome (a contact left pending
// by a stop is not done).
func (p *progress) add(s campaign.State) {
	if p.bar == nil || s == campaign.Pending {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch s {
	case campaign.Sent:
		p.sent++
	case campaign.Failed:
		p.failed++
	default:
		p.unknown++
	}
}

// draw shows the counts so far: one frame, its words and its count from
// the same moment, over the line the last one took.
func (p *progress) draw() (done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	done = min(p.sent+p.failed+p.unknown, p.total)
	p.bar.Describe(p.tr.T("progress.bar", p.sent, p.failed, p.unknown))
	_ = p.bar.Set(done)
	_, _ = io.WriteString(p.w, "\r"+strings.TrimLeft(p.bar.String(), "\r")+"\x1b[K")
	return done, p.total
}

// start starts the display: the bar drawn every drawEvery on a terminal,
// else a log line every logEvery; stop ends it, the bar showing the last
// counts.
func (p *progress) start(stats func() sender.Stats) {
	p.stats = stats
	done := make(chan struct{})
	var wg sync.WaitGroup
	every := func(d time.Duration, tick func()) {
		wg.Go(func() {
			t := time.NewTicker(d)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					tick()
				}
			}
		})
	}
	if p.bar != nil {
		every(drawEvery, func() { p.draw() })
	} else {
		p.log.Info(p.tr.T("progress.start", p.count()), "event", "sending", "contacts", p.count())
		every(logEvery, func() {
			st := stats()
			n := int(st.Sent + st.Failed + st.Unknown)
			p.log.Info(p.tr.T("progress.line", n, p.count(), int(st.Sent), int(st.Failed), int(st.Unknown), p.tr.Float(st.Rate())),
				"event", "progress", "done", n, "of", p.count(),
				"sent", st.Sent, "failed", st.Failed, "unknown", st.Unknown, "rate", st.Rate())
		})
	}
	p.stop = func() {
		close(done)
		wg.Wait()
		if p.bar == nil {
			return
		}
		if n, total := p.draw(); n == total {
			_ = p.bar.Finish()
		} else {
			_ = p.bar.Exit()
		}
		_, _ = io.WriteString(p.w, "\n")
	}
}
