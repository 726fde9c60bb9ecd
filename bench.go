package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pregon/pregon/sender/sendertest"
	"github.com/pregon/pregon/store"
)

// `pregon bench` (not listed in the usage: it is for maintainers) measures
// the targets of the performance issue on this machine. The fake Messages
// API runs in this process; every measured `pregon send` is a child
// process, so its CPU time and peak memory are its own (getrusage), and
// rates and windows are measured where the platform would see them: at the
// fake.

// benchCampaign is a v2 WhatsApp template with per-row parameters, the
// users' most common campaign.
const benchCampaign = `{"name":"bench","api":"v2","channelId":4242,"message":{"type":"whatsapp_template","template":{
 "name":"delivery_order","languageCode":"es","components":[
  {"type":"header","format":"image","parameters":[{"type":"image","image":{"link":"{{foto}}"}}]},
  {"type":"body","text":"Hola, {{1}} tu pedido {{2}} está en camino.","parameters":[{"type":"text","text":"{{nombre}}"},{"type":"text","text":"{{pedido}}"}]},
  {"type":"footer","text":"Gracias por tu compra"}]}}}`

type benchResult struct {
	what, target, got string
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "tiny sizes, to check that the bench still works (CI)")
	only := fs.String("only", "", "run only the measurements whose name contains this `text` (rate, floor, ceiling, first, dry, import)")
	floorURL := fs.String("floor-url", "", "run only the floor's minimal loop, against the fake API at this `URL` (the floor step's child)")
	floorN := fs.Int("floor-n", 1000, "the floor loop's messages")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *floorURL != "" {
		return floorLoop(ctx, *floorURL, *floorN)
	}
	sizes := struct{ rate, ceiling, first, big int }{1000, 20000, 100_000, 1_000_000}
	latencies := []time.Duration{20 * time.Millisecond, 200 * time.Millisecond, time.Second, 2 * time.Second}
	if *quick {
		sizes.rate, sizes.ceiling, sizes.first, sizes.big = 60, 500, 2000, 5000
		latencies = latencies[:2]
	}
	dir, err := os.MkdirTemp("", "pregon-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bencher{ctx: ctx, dir: dir, log: stderr}
	if b.exe, err = os.Executable(); err != nil {
		return err
	}
	var results []benchResult
	add := func(r benchResult, err error) error {
		if err != nil {
			return fmt.Errorf("bench %s: %w", r.what, err)
		}
		results = append(results, r)
		fmt.Fprintf(stderr, "bench: %s: %s\n", r.what, r.got)
		return nil
	}
	type step struct {
		key string
		run func() (benchResult, error)
	}
	var steps []step
	for _, lat := range latencies {
		steps = append(steps, step{"rate", func() (benchResult, error) { return b.rateRun(sizes.rate, lat) }})
	}
	steps = append(steps,
		step{"floor", func() (benchResult, error) { return b.floor(sizes.rate, 200*time.Millisecond) }},
		step{"ceiling", func() (benchResult, error) { return b.ceiling(sizes.ceiling) }},
		step{"first", func() (benchResult, error) { return b.firstRequest(sizes.first) }},
		step{"dry", func() (benchResult, error) { return b.dryRun(sizes.big) }},
		step{"import", func() (benchResult, error) { return b.importRun(sizes.big) }},
	)
	for _, st := range steps {
		if *only != "" && !strings.Contains(st.key, *only) {
			continue
		}
		if err := add(st.run()); err != nil {
			return err
		}
	}
	host, _ := os.Hostname()
	fmt.Fprintf(stdout, "pregon bench on %s (%d CPUs), %s\n\n", host, runtime.NumCPU(), time.Now().Format("2006-01-02"))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "| what\t| target\t| measured\t|")
	fmt.Fprintln(tw, "| ---\t| ---\t| ---\t|")
	for _, r := range results {
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t|\n", r.what, r.target, r.got)
	}
	return tw.Flush()
}

type bencher struct {
	ctx context.Context
	dir string
	exe string
	log io.Writer
}

// child is a finished `pregon send` child process.
type child struct {
	wall    time.Duration
	cpu     time.Duration
	maxRSS  int64 // bytes
	started time.Time
	code    int
	stderr  string
}

// cpuShare is the child's CPU time as a share of one core over its run.
func (c child) cpuShare() string {
	return fmt.Sprintf("%.2f%% (%.2f s CPU in %.1f s)", 100*c.cpu.Seconds()/c.wall.Seconds(), c.cpu.Seconds(), c.wall.Seconds())
}

// received returns the messages the fake received, in arrival order,
// checking that all n of a measured run arrived. The GET a send makes of
// the base URL before its first message (Client.Probe) is not one.
func received(fake *sendertest.Server, n int) ([]sendertest.Request, error) {
	reqs := fake.Messages()
	if len(reqs) != n {
		return nil, fmt.Errorf("the fake received %d messages, want %d", len(reqs), n)
	}
	return reqs, nil
}

// meanRate is the requests per second between the first arrival and the
// last.
func meanRate(reqs []sendertest.Request) float64 {
	return float64(len(reqs)-1) / reqs[len(reqs)-1].At.Sub(reqs[0].At).Seconds()
}

// files writes the benchmark campaign and a CSV of n distinct contacts.
func (b *bencher) files(name string, n int) (camp, csv string, err error) {
	camp = filepath.Join(b.dir, name+".json")
	if err := os.WriteFile(camp, []byte(benchCampaign), 0o600); err != nil {
		return "", "", err
	}
	csv = filepath.Join(b.dir, name+".csv")
	f, err := os.Create(csv)
	if err != nil {
		return "", "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "phone,nombre,pedido,foto")
	for i := range n {
		fmt.Fprintf(w, "+59399%07d,Cliente Núñez %d,PED-%d,https://cdn.example-brand.com/pedidos/PED-%d.jpg\n", i, i, 100000+i, 100000+i)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", "", err
	}
	return camp, csv, f.Close()
}

func (b *bencher) run(args ...string) (child, error) {
	c, _, err := b.runUntil("", args...)
	return c, err
}

func (b *bencher) send(name string, n int, fake *sendertest.Server, extra ...string) (child, error) {
	camp, csv, err := b.files(name, n)
	if err != nil {
		return child{}, err
	}
	args := append([]string{"send", "-campaign", camp, "-contacts", csv, "-ledger", filepath.Join(b.dir, name+".db"),
		"-base-url", fake.URL}, extra...)
	c, err := b.run(args...)
	if err == nil && c.code != exitOK && c.code != exitStopped {
		err = fmt.Errorf("send exit %d: %s", c.code, c.stderr)
	}
	return c, err
}

func (b *bencher) rateRun(n int, latency time.Duration) (benchResult, error) {
	r := benchResult{what: fmt.Sprintf("%d messages at %v latency (±20%%): mean rate; busiest second; CPU", n, latency),
		target: "≥ 24.9/s; ≤ 25; ≤ 2% of a core"}
	fake := sendertest.New(sendertest.Config{Latency: latency, Jitter: 0.2})
	defer fake.Close()
	c, err := b.send(fmt.Sprintf("rate-%v", latency), n, fake)
	if err != nil {
		return r, err
	}
	reqs, err := received(fake, n)
	if err != nil {
		return r, err
	}
	r.got = fmt.Sprintf("%.2f/s; %d; %s", meanRate(reqs), sendertest.MaxInWindow(reqs, time.Second), c.cpuShare())
	return r, nil
}

// floor measures what this machine charges for the least a paced send can
// do per message, one durable write and one HTTP request, in a minimal Go
// loop run as a child like the rate runs. The CPU of the rate rows is read
// against it: what they spend above it is pregon's own.
func (b *bencher) floor(n int, latency time.Duration) (benchResult, error) {
	r := benchResult{what: fmt.Sprintf("floor: %d × (4 KB write + fsync, HTTP POST) at 25/s, %v latency, minimal Go loop: CPU", n, latency),
		target: "none: the machine's, for the CPU rows"}
	fake := sendertest.New(sendertest.Config{Latency: latency, Jitter: 0.2})
	defer fake.Close()
	c, err := b.run("bench", "-floor-url", fake.URL, "-floor-n", fmt.Sprint(n))
	if err != nil {
		return r, err
	}
	if c.code != exitOK {
		return r, fmt.Errorf("floor loop exit %d: %s", c.code, c.stderr)
	}
	if _, err := received(fake, n); err != nil {
		return r, err
	}
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

func (b *bencher) ceiling(n int) (benchResult, error) {
	r := benchResult{what: fmt.Sprintf("pipeline ceiling: %d messages, -rate 0, zero-latency fake, ledger on", n), target: "≥ 5,000/s"}
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

func (b *bencher) firstRequest(n int) (benchResult, error) {
	r := benchResult{what: fmt.Sprintf("time from start to first message, %d-row campaign", n), target: "≤ 2 s"}
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

func (b *bencher) dryRun(n int) (benchResult, error) {
	r := benchResult{what: fmt.Sprintf("%d-row CSV: send -dry-run", n), target: "≤ 15 s, peak RSS ≤ 100 MB"}
	camp, csv, err := b.files("dry", n)
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

func (b *bencher) importRun(n int) (benchResult, error) {
	r := benchResult{what: fmt.Sprintf("%d-row CSV: import into the ledger", n), target: "≤ 30 s, peak RSS ≤ 150 MB, ledger ≤ 2× payloads"}
	fake := sendertest.New(sendertest.Config{})
	defer fake.Close()
	camp, csv, err := b.files("import", n)
	if err != nil {
		return r, err
	}
	ledger := filepath.Join(b.dir, "import.db")
	// The first import of a campaign is sent while it runs; the import is
	// done when send logs "contacts read". Then the child is stopped.
	c, imported, err := b.runUntil(`msg="contacts read"`, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL)
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

// runUntil runs a child; when marker is not empty, it stops the child with
// SIGTERM once it writes a line containing marker to stderr, and returns
// how long after the start that came.
func (b *bencher) runUntil(marker string, args ...string) (child, time.Duration, error) {
	cmd := exec.CommandContext(b.ctx, b.exe, args...)
	cmd.Env = append(os.Environ(), tokenEnv+"=bench")
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return child{}, 0, err
	}
	c := child{started: time.Now()}
	if err := cmd.Start(); err != nil {
		return c, 0, err
	}
	var seen time.Duration
	var errb strings.Builder
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		errb.WriteString(sc.Text() + "\n")
		if marker != "" && seen == 0 && strings.Contains(sc.Text(), marker) {
			seen = time.Since(c.started)
			cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	err = cmd.Wait()
	c.wall, c.stderr = time.Since(c.started), errb.String()
	c.code = cmd.ProcessState.ExitCode()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return c, seen, err
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		c.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		c.maxRSS = ru.Maxrss * 1024
	}
	return c, seen, nil
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
