package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
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
	bar     *progressbar.ProgressBar // nil when not on a terminal
	log     *slog.Logger
	mu      sync.Mutex // guards total
	total   int
	sent    atomic.Int64
	failed  atomic.Int64
	unknown atomic.Int64
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

func (p *progress) add(s campaign.State) {
	switch s {
	case campaign.Sent:
		p.sent.Add(1)
	case campaign.Failed:
		p.failed.Add(1)
	case campaign.Unknown:
		p.unknown.Add(1)
	default:
		return // pending again (stopped before its turn): not done
	}
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("sent %d · failed %d · unknown %d", p.sent.Load(), p.failed.Load(), p.unknown.Load()))
		_ = p.bar.Add(1)
	}
}

// run starts the periodic log lines (off a terminal) and returns the
// function that ends the display.
func (p *progress) run(stats func() sender.Stats) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	if p.bar == nil {
		p.log.Info("sending", "contacts", p.total)
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
					p.mu.Lock()
					total := p.total
					p.mu.Unlock()
					p.log.Info("progress", "done", p.sent.Load()+p.failed.Load()+p.unknown.Load(), "of", total,
						"sent", p.sent.Load(), "failed", p.failed.Load(), "unknown", p.unknown.Load(),
						"rate", fmt.Sprintf("%.1f/s", rateOf(st)))
				}
			}
		}()
	}
	return func() {
		close(done)
		wg.Wait()
		if p.bar != nil {
			_ = p.bar.Finish()
		}
	}
}
