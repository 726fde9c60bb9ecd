//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/pregon/pregon/sender/sendertest"
)

// floor measures what this machine charges for the least a paced send can
// do per message, one durable write and one HTTP request, in a minimal Go
// loop run as a child like the rate runs: this program again, with
// -floor-url. The CPU of the rate rows is read against it: what they
// spend above it is pregon's own.
func (b *bencher) floor(n int, latency time.Duration) (result, error) {
	r := result{what: fmt.Sprintf("floor: %d × (4 KB write + fsync, HTTP POST) at 25/s, %v latency, minimal Go loop: CPU", n, latency),
		target: "none: the machine's, for the CPU rows"}
	self, err := os.Executable()
	if err != nil {
		return r, err
	}
	fake := sendertest.New(sendertest.Config{Latency: latency, Jitter: 0.2})
	defer fake.Close()
	c, _, err := b.runExe(self, "", "-floor-url", fake.URL, "-floor-n", fmt.Sprint(n))
	if err != nil {
		return r, err
	}
	if c.code != exitOK {
		return r, fmt.Errorf("floor loop exit %d: %s", c.code, c.stderr)
	}
	if _, err := received(fake, n); err != nil {
		return r, err
	}
	b.floorCPU = c.share()
	r.got = c.cpuShare()
	return r, nil
}

// floorLoop is the floor's child: n times, 25 a second, it writes and
// syncs 4 KB of a file, then posts a message-sized body to url, on one
// processor as a paced send runs.
func floorLoop(ctx context.Context, url string, n int) error {
	runtime.GOMAXPROCS(1)
	dir, err := os.MkdirTemp("", "pregon-floor-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	f, err := os.OpenFile(filepath.Join(dir, "floor.dat"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	page := make([]byte, 4096)
	body := `{"text":"` + strings.Repeat("x", 600) + `"}`
	// Connections kept for reuse as pregon keeps them: as many as are in
	// flight (the default client keeps 2, and dials the rest anew).
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	tick := time.NewTicker(time.Second / 25)
	defer tick.Stop()
	errs := make(chan error, n)
	for i := range n {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		if _, err := f.WriteAt(page, int64(i%256)*4096); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		go func() { errs <- floorPost(ctx, client, url, body) }()
	}
	for range n {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

func floorPost(ctx context.Context, client *http.Client, url, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v2/contact/phone:+593990000001/message", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer bench")
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}
