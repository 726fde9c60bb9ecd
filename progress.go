package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/sender"
)

// logEvery is how often progress is logged when stderr is not a terminal.
const logEvery = 5 * time.Second

// progress shows how a run is going: a bar on a terminal; under cron, where
// a bar would write a redraw per message into the mail, a log line every
// few seconds.
type progress struct {
	bar   *progressbar.ProgressBar // nil when not on a terminal
	log   *slog.Logger
	stats func() sender.Stats // the counts; set by start
	stop  func()              // ends the display; set by start
	mu    sync.Mutex          // guards total
	total int
}

func newProgress(stderr io.Writer, total int, log *slog.Logger) *progress {
	p := &progress{log: log, total: total}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && total > 0 {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("sending"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("msg"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetWidth(30),
		)
	}
	return p
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

// add moves the bar on by one contact with a final outcome (a contact
// left pending by a stop is not done).
func (p *progress) add(s campaign.State) {
	if p.bar == nil || s == campaign.Pending {
		return
	}
	st := p.stats()
	p.bar.Describe(fmt.Sprintf("sent %d · failed %d · unknown %d", st.Sent, st.Failed, st.Unknown))
	_ = p.bar.Add(1)
}

// start starts the periodic log lines (off a terminal); stop ends the
// display.
func (p *progress) start(stats func() sender.Stats) {
	p.stats = stats
	done := make(chan struct{})
	var wg sync.WaitGroup
	if p.bar == nil {
		p.log.Info("sending", "contacts", p.count())
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(logEvery)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					st := stats()
					p.log.Info("progress", "done", st.Sent+st.Failed+st.Unknown, "of", p.count(),
						"sent", st.Sent, "failed", st.Failed, "unknown", st.Unknown,
						"rate", fmt.Sprintf("%.1f/s", st.Rate()))
				}
			}
		}()
	}
	p.stop = func() {
		close(done)
		wg.Wait()
		if p.bar != nil {
			_ = p.bar.Finish()
		}
	}
}
