//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pregon/pregon/sender/sendertest"
	"github.com/pregon/pregon/store"
)

func (b *bencher) ceiling(n int) (result, error) {
	r := result{what: fmt.Sprintf("pipeline ceiling: %d messages, -rate 0, zero-latency fake, ledger on", n), target: "≥ 5,000/s"}
	fake := sendertest.New(sendertest.Config{})
	defer fake.Close()
	if _, err := b.send("ceiling", n, fake, "-rate", "0"); err != nil {
		return r, err
	}
	reqs, err := received(fake, n)
	if err != nil {
		return r, err
	}
	r.got = fmt.Sprintf("%.0f/s", meanRate(reqs))
	return r, nil
}

func (b *bencher) firstMessage(n int) (result, error) {
	r := result{what: fmt.Sprintf("time from start to first message, %d-row campaign", n), target: "≤ 2 s"}
	fake := sendertest.New(sendertest.Config{})
	defer fake.Close()
	c, err := b.send("first", n, fake, "-max-duration", "1s")
	if err != nil {
		return r, err
	}
	reqs := fake.Messages()
	if len(reqs) == 0 {
		return r, errors.New("no message arrived")
	}
	r.got = fmt.Sprintf("%.2f s", reqs[0].At.Sub(c.started).Seconds())
	return r, nil
}

func (b *bencher) dryRun(n int) (result, error) {
	r := result{what: fmt.Sprintf("%d-row CSV: send -dry-run", n), target: "≤ 15 s, peak RSS ≤ 100 MB"}
	camp, csv, err := b.files("dry", n, 0)
	if err != nil {
		return r, err
	}
	c, err := b.run("send", "-dry-run", "-campaign", camp, "-contacts", csv)
	if err != nil {
		return r, err
	}
	if c.code != exitOK {
		return r, fmt.Errorf("dry run exit %d: %s", c.code, c.stderr)
	}
	r.got = fmt.Sprintf("%.1f s, %d MB (%.1f s CPU)", c.wall.Seconds(), c.maxRSS>>20, c.cpu.Seconds())
	return r, nil
}

func (b *bencher) importRun(n int) (result, error) {
	r := result{what: fmt.Sprintf("%d-row CSV: import into the ledger", n), target: "≤ 30 s, peak RSS ≤ 150 MB, ledger ≤ 2× payloads"}
	fake := sendertest.New(sendertest.Config{})
	defer fake.Close()
	camp, csv, err := b.files("import", n, 0)
	if err != nil {
		return r, err
	}
	ledger := filepath.Join(b.dir, "import.db")
	// The first import of a campaign is sent while it runs; the import is
	// done when send logs its contacts_read event (the stable key of a log
	// line, whatever the language). Then the child is stopped.
	c, imported, err := b.runUntil(`event=contacts_read`, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL)
	if err != nil {
		return r, err
	}
	if imported == 0 {
		return r, fmt.Errorf("the import did not finish: %s", c.stderr)
	}
	size, payloads, err := ledgerSizes(b.ctx, ledger)
	if err != nil {
		return r, err
	}
	r.got = fmt.Sprintf("%.1f s, %d MB, ledger %d MB = %.2f× payloads (%d MB)", imported.Seconds(),
		c.maxRSS>>20, size>>20, float64(size)/float64(payloads), payloads>>20)
	return r, nil
}

// ledgerSizes returns the ledger's size on disk (WAL checkpointed) and the
// total size of the payloads it holds.
func ledgerSizes(ctx context.Context, path string) (size, payloads int64, err error) {
	l, err := store.Open(ctx, path)
	if err != nil {
		return 0, 0, err
	}
	payloads, err = l.PayloadBytes(ctx)
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	return fi.Size(), payloads, nil
}
