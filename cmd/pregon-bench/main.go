//go:build linux

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pregon/pregon/sender/sendertest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "pregon-bench:", err)
		os.Exit(1)
	}
}

// errUsage means flag has already said what was wrong.
var errUsage = errors.New("usage")

// result is one row of the table.
type result struct {
	what, target, got string
}

// sizes are how many messages or rows each measurement uses.
type sizes struct {
	rate        int // each rate row's
	together    int // the campaigns started together, in all
	short, long int // the two runs of which one ends
	background  int // beside another integration
	track       int // sent messages asked about
	ceiling     int
	first       int // the campaign whose first message is timed
	big         int // the CSV read by the dry run and the import
	latencies   []time.Duration
}

var (
	full = sizes{rate: 1000, together: 1000, short: 500, long: 650, background: 600,
		track: 10_000, ceiling: 20000, first: 100_000, big: 1_000_000,
		latencies: []time.Duration{20 * time.Millisecond, 200 * time.Millisecond, time.Second, 2 * time.Second}}
	// quick only shows that every step still works (CI): its numbers are
	// too small to judge.
	quick = sizes{rate: 40, together: 40, short: 20, long: 140, background: 40,
		track: 40, ceiling: 500, first: 2000, big: 5000,
		latencies: []time.Duration{20 * time.Millisecond, 200 * time.Millisecond}}
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pregon-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quickRun := fs.Bool("quick", false, "tiny sizes, to check that the bench still works (CI)")
	only := fs.String("only", "", "run only the measurements whose name contains this `text` (or one of these, comma-separated): "+
		"rate-sliding, rate-fixed, share, share-ends, background, track, floor, ceiling, first, dry, import")
	pregon := fs.String("pregon", "", "measure this pregon `binary` instead of building one from the repository")
	stamps := fs.String("stamps", "", "save the fake's arrival stamps of each rate row to a CSV file in this `folder`")
	floorURL := fs.String("floor-url", "", "run only the floor's minimal loop, against the fake API at this `URL` (the floor step's child)")
	floorN := fs.Int("floor-n", 1000, "the floor loop's messages")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return err
	case err != nil:
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pregon-bench: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if *floorURL != "" {
		return floorLoop(ctx, *floorURL, *floorN)
	}
	sz := full
	if *quickRun {
		sz = quick
	}
	dir, err := os.MkdirTemp("", "pregon-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b, err := newBencher(ctx, dir, *pregon, stderr)
	if err != nil {
		return err
	}
	b.stamps = *stamps
	// A step with no key always runs; one that returns no row (what "")
	// had nothing to measure.
	type step struct {
		key string
		run func() (result, error)
	}
	var steps []step
	for _, w := range []sendertest.Window{sendertest.Sliding, sendertest.Fixed} {
		for _, lat := range sz.latencies {
			steps = append(steps, step{"rate-" + w.String(), func() (result, error) { return b.rateRun(sz.rate, w, lat) }})
		}
	}
	steps = append(steps,
		step{"share", func() (result, error) { return b.shareRun(2, sz.together) }},
		step{"share", func() (result, error) { return b.shareRun(3, sz.together) }},
		step{"share-ends", func() (result, error) { return b.survivorRun(sz.short, sz.long) }},
		step{"background", func() (result, error) { return b.backgroundRun(sz.background) }},
		step{"track", func() (result, error) { return b.trackRun(sz.track) }},
		step{"floor", func() (result, error) { return b.floor(sz.rate, 200*time.Millisecond) }},
		step{"", b.cpuRow},
		step{"ceiling", func() (result, error) { return b.ceiling(sz.ceiling) }},
		step{"first", func() (result, error) { return b.firstMessage(sz.first) }},
		step{"dry", func() (result, error) { return b.dryRun(sz.big) }},
		step{"import", func() (result, error) { return b.importRun(sz.big) }},
	)
	var results []result
	for _, st := range steps {
		if *only != "" && st.key != "" && !slices.ContainsFunc(strings.Split(*only, ","), func(o string) bool { return strings.Contains(st.key, o) }) {
			continue
		}
		r, err := st.run()
		if err != nil {
			return fmt.Errorf("%s: %w", r.what, err)
		}
		if r.what == "" {
			continue
		}
		results = append(results, r)
		fmt.Fprintf(stderr, "pregon-bench: %s: %s\n", r.what, r.got)
	}
	host, _ := os.Hostname()
	fmt.Fprintf(stdout, "pregon-bench on %s (%d CPUs), %s, pregon %s\n\n", host, runtime.NumCPU(), time.Now().Format("2006-01-02"), b.version)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "| what\t| target\t| measured\t|")
	fmt.Fprintln(tw, "| ---\t| ---\t| ---\t|")
	for _, r := range results {
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t|\n", r.what, r.target, r.got)
	}
	return tw.Flush()
}
