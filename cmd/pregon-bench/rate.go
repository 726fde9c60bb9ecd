//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/sender/sendertest"
)

// limit is the platform's: requests per second per organization.
const limit = 25

// platform is a fake that answers as the platform does: its limit counted
// at each request's arrival in the given window, X-RateLimit-Limit and
// X-RateLimit-Remaining on every answer, 429 beyond the limit; background
// is another integration's requests a second, spending the same limit.
func platform(w sendertest.Window, latency time.Duration, background float64) *sendertest.Server {
	return sendertest.New(sendertest.Config{PerSecond: limit, Window: w, Latency: latency, Jitter: 0.2, Background: background})
}

// arrivals is what the fake saw of the messages of one run or more.
type arrivals struct {
	all     []sendertest.Request // every message, in arrival order
	ok      []sendertest.Request // those the platform accepted
	refused int                  // those it answered 429
}

func arrivalsOf(reqs []sendertest.Request) arrivals {
	a := arrivals{all: reqs}
	for _, r := range reqs {
		switch {
		case r.Status >= 200 && r.Status < 300:
			a.ok = append(a.ok, r)
		case r.Status == 429:
			a.refused++
		}
	}
	return a
}

// delivered returns what the fake saw, checking that it accepted each of
// the n contacts once: a measured run that lost or doubled a message
// measures nothing.
func delivered(fake *sendertest.Server, n int) (arrivals, error) {
	byContact := fake.ByContact()
	if len(byContact) != n {
		return arrivals{}, fmt.Errorf("the fake accepted %d contacts, want %d", len(byContact), n)
	}
	for c, k := range byContact {
		if k != 1 {
			return arrivals{}, fmt.Errorf("the fake accepted %s %d times", c, k)
		}
	}
	return arrivalsOf(fake.Messages()), nil
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

// runOf is the run (0, 1, …) that sent a message to contact, the runs'
// contacts being numbered from firsts (ascending, the first 0).
func runOf(contact string, firsts []int) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(contact, contactPrefix))
	if err != nil {
		return 0, fmt.Errorf("a message to %q, which no run sends to", contact)
	}
	run := 0
	for i, f := range firsts {
		if n >= f {
			run = i
		}
	}
	return run, nil
}

// saveStamps writes, with -stamps, what the fake saw of a row's messages
// to name.csv: when each arrived (milliseconds after the first), the run
// that sent it, its contact and the answer's status.
func (b *bencher) saveStamps(name string, reqs []sendertest.Request, firsts []int) error {
	if b.stamps == "" || len(reqs) == 0 {
		return nil
	}
	var out strings.Builder
	out.WriteString("ms,run,contact,status\n")
	for _, m := range reqs {
		run, err := runOf(m.Contact, firsts)
		if err != nil {
			return err
		}
		fmt.Fprintf(&out, "%.3f,%c,%s,%d\n", float64(m.At.Sub(reqs[0].At).Microseconds())/1000, 'a'+run, m.Contact, m.Status)
	}
	return os.WriteFile(filepath.Join(b.stamps, name+".csv"), []byte(out.String()), 0o644)
}

// rate is the accepted messages per second, first to last.
func (a arrivals) rate() float64 { return meanRate(a.ok) }

// busiest is the most messages that arrived in any one second, refused
// ones included: what the sender put into the platform's window.
func (a arrivals) busiest() int { return sendertest.MaxInWindow(a.all, time.Second) }

// refusals is how many messages got 429, and their share of all.
func (a arrivals) refusals() string {
	return fmt.Sprintf("%d (%.1f%%)", a.refused, 100*float64(a.refused)/float64(len(a.all)))
}

// rateRun sends n messages alone, at the limit.
func (b *bencher) rateRun(n int, w sendertest.Window, latency time.Duration) (result, error) {
	r := result{what: fmt.Sprintf("%s window, %d messages at %v latency (±20%%): rate (from the 2nd message); busiest second; 429s; CPU", w, n, latency),
		target: "≥ 24.9/s; ≤ 25; 0; see the CPU row"}
	fake := platform(w, latency, 0)
	defer fake.Close()
	name := fmt.Sprintf("rate-%s-%v", w, latency)
	c, err := b.send(name, n, fake)
	if err != nil {
		return r, err
	}
	a, err := delivered(fake, n)
	if err != nil {
		return r, err
	}
	if err := b.saveStamps(name, a.all, []int{0}); err != nil {
		return r, err
	}
	b.rateRows++
	if a.rate() >= atLimit {
		b.rateCPU = append(b.rateCPU, c.share())
	}
	// A send lets one message go alone until the API has answered (a
	// wrong address costs one request): the rate from the second message
	// on says what that first answer's wait cost.
	r.got = fmt.Sprintf("%.2f/s (%.2f/s); %d; %d; %s", a.rate(), meanRate(a.ok[1:]), a.busiest(), a.refused, c.cpuShare())
	return r, nil
}

// sharedLatency is the platform's latency in the rows where runs share
// its limit.
const sharedLatency = 200 * time.Millisecond

// together starts one pregon send per size at once, each its own campaign
// and ledger, all to the same fake with the same token: the runs meet in
// the bench's PREGON_STATE_DIR and share the limit. Run i's contacts are
// numbered from firsts[i].
func (b *bencher) together(name string, fake *sendertest.Server, sizes []int) (firsts []int, err error) {
	args := make([][]string, len(sizes))
	first := 0
	for i, n := range sizes {
		firsts = append(firsts, first)
		if args[i], err = b.sendArgs(fmt.Sprintf("%s-%c", name, 'a'+i), n, first, fake); err != nil {
			return nil, err
		}
		first += n
	}
	children, err := b.sendTogether(args)
	if err != nil {
		return nil, err
	}
	for i, c := range children {
		if !strings.Contains(c.stderr, "sharing ") {
			return nil, fmt.Errorf("run %c never said it shared the rate: the runs did not meet: %s", 'a'+i, c.stderr)
		}
	}
	return firsts, nil
}

// shareRun sends k campaigns started together, n messages in all.
func (b *bencher) shareRun(k, n int) (result, error) {
	sizes := make([]int, k)
	for i := range sizes {
		sizes[i] = n / k
	}
	sizes[0] += n % k
	r := result{what: fmt.Sprintf("%d campaigns started together (%d messages in all), separate processes, one API, sliding window, %v latency: together; busiest second; 429s",
		k, n, sharedLatency), target: "≥ 24.5/s; ≤ 25; ≤ 1%"}
	fake := platform(sendertest.Sliding, sharedLatency, 0)
	defer fake.Close()
	name := fmt.Sprintf("share%d", k)
	firsts, err := b.together(name, fake, sizes)
	if err != nil {
		return r, err
	}
	a, err := delivered(fake, n)
	if err != nil {
		return r, err
	}
	if err := b.saveStamps(name, a.all, firsts); err != nil {
		return r, err
	}
	r.got = fmt.Sprintf("%.2f/s; %d; %s", a.rate(), a.busiest(), a.refusals())
	return r, nil
}

// recovery is how long after the other run's last request the survivor's
// rate is measured.
const recovery = 3 * time.Second

// survivorRun starts two campaigns together, the first shorter: once it
// ends, the second must have the whole limit again within 3 s. Its
// requests are counted at the fake in each of the 3 s from the arrival of
// the first run's last request; the rate it is back at is that of the
// 2nd and 3rd of those seconds. The 1st cannot reach 25: the sliding
// window still holds the first run's last request (and, for a moment,
// its other requests of the second before), so 24 is its ceiling.
func (b *bencher) survivorRun(short, long int) (result, error) {
	r := result{what: fmt.Sprintf("one of two runs ends (%d and %d messages, sliding window, %v latency): the other's rate in the 2nd and 3rd second after the first's last request (requests in each of the 3 seconds); busiest second; 429s",
		short, long, sharedLatency), target: "≥ 24.5/s within 3 s; ≤ 25"}
	fake := platform(sendertest.Sliding, sharedLatency, 0)
	defer fake.Close()
	firsts, err := b.together("survivor", fake, []int{short, long})
	if err != nil {
		return r, err
	}
	a, err := delivered(fake, short+long)
	if err != nil {
		return r, err
	}
	if err := b.saveStamps("survivor", a.all, firsts); err != nil {
		return r, err
	}
	var ended time.Time // the arrival of the shorter run's last request
	var rest []sendertest.Request
	for _, m := range a.all {
		run, err := runOf(m.Contact, firsts)
		if err != nil {
			return r, err
		}
		if run == 0 {
			ended = m.At
		} else {
			rest = append(rest, m)
		}
	}
	if rest[len(rest)-1].At.Before(ended.Add(recovery)) {
		return r, errors.New("the longer run ended less than 3 s after the shorter: give it more messages")
	}
	var perSecond [recovery / time.Second]int
	for _, m := range arrivalsOf(rest).ok {
		if d := m.At.Sub(ended); d >= 0 && d < recovery {
			perSecond[d/time.Second]++
		}
	}
	back := float64(perSecond[1]+perSecond[2]) / 2
	r.got = fmt.Sprintf("%.2f/s (%d, %d, %d); %d; %s", back, perSecond[0], perSecond[1], perSecond[2], a.busiest(), a.refusals())
	return r, nil
}

// background is the requests a second another integration of the same
// organization spends of the limit.
const background = 10

// backgroundRun sends n messages while another integration spends part of
// the limit.
func (b *bencher) backgroundRun(n int) (result, error) {
	r := result{what: fmt.Sprintf("another integration takes %d/s of the %d (sliding window, %d messages at %v latency): pregon's rate; 429s",
		background, limit, n, sharedLatency), target: "≥ 14/s; ≤ 2%"}
	fake := platform(sendertest.Sliding, sharedLatency, background)
	defer fake.Close()
	if _, err := b.send("background", n, fake); err != nil {
		return r, err
	}
	a, err := delivered(fake, n)
	if err != nil {
		return r, err
	}
	if err := b.saveStamps("background", a.all, []int{0}); err != nil {
		return r, err
	}
	r.got = fmt.Sprintf("%.2f/s; %s", a.rate(), a.refusals())
	return r, nil
}

// atLimit is the rate from which a rate row counts as sending at the
// limit, for the CPU row: a run held far below it does less work.
const atLimit = 24

// cpuRow sets the CPU of the rate rows that sent at the limit beside the
// floor of the same run, once both were measured.
func (b *bencher) cpuRow() (result, error) {
	if len(b.rateCPU) == 0 || b.floorCPU == 0 {
		return result{}, nil
	}
	r := result{what: fmt.Sprintf("CPU at %d/s: the rate rows above that sent at ≥ %d/s (%d of %d), share of one core",
		limit, atLimit, len(b.rateCPU), b.rateRows), target: "none: judged against the floor row"}
	lo, hi := b.rateCPU[0], b.rateCPU[0]
	for _, s := range b.rateCPU {
		lo, hi = min(lo, s), max(hi, s)
	}
	r.got = fmt.Sprintf("%.2f–%.2f%% = %.1f–%.1f× the floor", 100*lo, 100*hi, lo/b.floorCPU, hi/b.floorCPU)
	return r, nil
}

// trackRun fills a platform with n messages sent by pregon at full speed
// (a limit no sender reaches), brings the organization's limit down to 25,
// and measures pregon track asking about every one of them. Each message is
// final (delivered, read or failed) when first asked, so a request beyond
// one per message is waste.
func (b *bencher) trackRun(n int) (result, error) {
	budget := time.Duration(float64(n) / limit * 1.1 * float64(time.Second))
	r := result{what: fmt.Sprintf("tracking %d sent messages (sliding window, %v latency, each final when first asked): requests; time; busiest second; 429s",
		n, sharedLatency), target: fmt.Sprintf("≤ %d; ≤ %.0f s; ≤ 25; 0", n, budget.Seconds())}
	fake := sendertest.New(sendertest.Config{PerSecond: 1_000_000, Window: sendertest.Sliding, Latency: sharedLatency, Jitter: 0.2,
		Delivery: sendertest.Delivery{After: -1, ReadAfter: -1, ReadEvery: 2, FailEvery: 20}})
	defer fake.Close()
	if _, err := b.send("track", n, fake, "-rate", "0"); err != nil {
		return r, err
	}
	if _, err := delivered(fake, n); err != nil {
		return r, err
	}
	fake.SetPerSecond(limit)
	time.Sleep(time.Second) // the fill's last second leaves the window: nothing else runs
	before := len(fake.Requests())
	c, err := b.run("track", "-ledger", filepath.Join(b.dir, "track.db"), "-campaign", "track")
	if err != nil {
		return r, err
	}
	if c.code != exitOK {
		return r, fmt.Errorf("track exit %d: %s", c.code, c.stderr)
	}
	a := arrivalsOf(fake.Requests()[before:])
	r.got = fmt.Sprintf("%d; %.1f s; %d; %s", len(a.all), c.wall.Seconds(), a.busiest(), a.refusals())
	return r, nil
}
