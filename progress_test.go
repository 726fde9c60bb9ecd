package main

import (
	"bytes"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/sender"
)

// Every frame of the bar counts what its words count, and the last one
// shows every contact done: the counter ran one ahead of the bar and
// could end at 99% (299/300).
func TestProgressBarFramesAgree(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.English, i18n.Spanish} {
		var out bytes.Buffer
		tr := i18n.For(lang)
		const total = 300
		p := &progress{tr: tr, total: total, w: &out, bar: newBar(total, tr), log: slog.New(slog.DiscardHandler)}
		p.start(func() sender.Stats { return sender.Stats{} })
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range total / 4 {
					switch {
					case w == 0 && i%10 == 0:
						p.add(campaign.Failed)
					case w == 1 && i == 7:
						p.add(campaign.Unknown)
					default:
						p.add(campaign.Sent)
					}
				}
			})
		}
		wg.Wait()
		p.stop()
		frame := regexp.MustCompile(`(\d+)\D+(\d+)\D+(\d+)\s+(\d+)% \|[^|]*\| \((\d+)/(\d+)`)
		var frames []string
		for _, f := range strings.Split(out.String(), "\r") {
			if f = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f), "\x1b[K")); f != "" {
				frames = append(frames, f)
			}
		}
		if len(frames) == 0 {
			t.Fatalf("%s: no frame drawn: %q", lang, out.String())
		}
		for _, f := range frames {
			m := frame.FindStringSubmatch(f)
			if m == nil {
				t.Fatalf("%s: a frame that is not a bar: %q", lang, f)
			}
			n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
			if n(1)+n(2)+n(3) != n(5) || n(6) != total || n(4) != 100*n(5)/total {
				t.Errorf("%s: the words and the count disagree: %q", lang, f)
			}
		}
		last := frames[len(frames)-1]
		want := tr.T("progress.bar", 291, 8, 1)
		if !strings.HasPrefix(last, want) || !strings.Contains(last, "100% |") || !strings.Contains(last, "(300/300") {
			t.Errorf("%s: the last frame is %q, want %q at 100%% (300/300)", lang, last, want)
		}
	}
}
