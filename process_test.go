package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/sender/sendertest"
	"github.com/pregon/pregon/store"
)

// The test binary doubles as the pregon program, so these tests can run,
// signal and kill -9 real pregon processes.
func TestMain(m *testing.M) {
	if os.Getenv("PREGON_TEST_AS_MAIN") == "1" {
		main()
		return
	}
	// Runs share their rate through files in the user's cache: the tests'
	// runs, and the pregon processes they start, use a folder of their own.
	dir, err := os.MkdirTemp("", "pregon-state-")
	if err != nil {
		panic(err)
	}
	os.Setenv("PREGON_STATE_DIR", dir)
	// The tests read pregon's English; those in Spanish say so. The
	// pregon processes they start inherit it.
	os.Setenv("PREGON_LANG", "en")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type proc struct {
	cmd         *exec.Cmd
	out, errOut lockedBuffer
}

// lockedBuffer is a bytes.Buffer a test may read while the process writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startPregon(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(os.Args[0], args...)}
	p.cmd.Env = append(os.Environ(), "PREGON_TEST_AS_MAIN=1", tokenEnv+"=t")
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errOut
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// wait returns the process's exit code, or -1 when a signal killed it.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	err := p.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatal(err)
	return 0
}

// campaignFiles writes a v2 campaign and a CSV of n contacts id:1…id:n.
func campaignFiles(t *testing.T, n int) (camp, csv, ledger string) {
	t.Helper()
	dir := t.TempDir()
	camp = writeTemp(t, dir, "c.json", `{"name":"proceso","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	var b strings.Builder
	b.WriteString("id,nombre\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d,Cliente %d\n", i, i)
	}
	csv = writeTemp(t, dir, "c.csv", b.String())
	return camp, csv, filepath.Join(dir, "pregon.db")
}

func ledgerContacts(t *testing.T, path string) []store.Contact {
	t.Helper()
	ctx := context.Background()
	l, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	id, ok, err := l.Lookup(ctx, "proceso")
	if err != nil || !ok {
		t.Fatalf("campaign not in ledger: %v", err)
	}
	cs, err := l.Contacts(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// requestsPer counts every request the fake received per contact,
// whatever it answered.
func requestsPer(fake *sendertest.Server) map[string]int {
	out := map[string]int{}
	for _, r := range fake.Messages() {
		out[r.Contact]++
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKill9NeverSendsTwiceNorSkips(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real processes for several seconds")
	}
	const n = 120
	fake := sendertest.NewServer(t, sendertest.Config{Latency: 150 * time.Millisecond, Jitter: 0.6})
	camp, csv, ledger := campaignFiles(t, n)
	args := []string{"send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL, "-rate", "60"}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range 6 {
		p := startPregon(t, args...)
		time.Sleep(time.Duration(50+rng.IntN(700)) * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		code := p.wait(t)
		t.Logf("run %d: killed (exit %d) after %d requests in all", i+1, code, len(fake.Messages()))
	}
	p := startPregon(t, args...)
	if code := p.wait(t); code != exitOK && code != exitIncomplete {
		t.Fatalf("final run: exit %d\n%s%s", code, p.out.String(), p.errOut.String())
	}
	// Requests of killed runs may still be inside the fake's latency: count
	// only once every one is recorded.
	waitFor(t, "the fake to finish the killed runs' requests", func() bool { return fake.InFlight() == 0 })

	per := requestsPer(fake)
	for c, k := range per {
		if k > 1 {
			t.Errorf("%s received %d requests", c, k)
		}
	}
	accepted := fake.ByContact()
	var unknown []string
	for _, c := range ledgerContacts(t, ledger) {
		switch c.State {
		case campaign.Sent:
			if accepted[c.Contact] != 1 {
				t.Errorf("%s is sent in the ledger but the platform accepted it %d times", c.Contact, accepted[c.Contact])
			}
		case campaign.Unknown:
			unknown = append(unknown, c.Contact)
		default:
			t.Errorf("%s is %s: every contact must be sent or unknown", c.Contact, c.State)
		}
	}
	t.Logf("after the kills: %d unknown, %d delivered of those", len(unknown), countAccepted(accepted, unknown))

	// The operator decides a possible duplicate beats a possible miss.
	p = startPregon(t, append(args, "-resend-unknown")...)
	if code := p.wait(t); code != exitOK {
		t.Fatalf("-resend-unknown: exit %d\n%s%s", code, p.out.String(), p.errOut.String())
	}
	accepted = fake.ByContact()
	wasUnknown := map[string]bool{}
	for _, c := range unknown {
		wasUnknown[c] = true
	}
	for i := 1; i <= n; i++ {
		c := fmt.Sprintf("id:%d", i)
		switch k := accepted[c]; {
		case k == 0:
			t.Errorf("%s never received the message", c)
		case k > 1 && !wasUnknown[c]:
			t.Errorf("%s received %d messages without ever being unknown", c, k)
		}
	}
}

func countAccepted(accepted map[string]int, contacts []string) int {
	n := 0
	for _, c := range contacts {
		n += accepted[c]
	}
	return n
}

func TestSIGTERMStopsGracefullyAndResumes(t *testing.T) {
	const n = 150
	fake := sendertest.NewServer(t, sendertest.Config{Latency: 200 * time.Millisecond, Jitter: 0.5})
	camp, csv, ledger := campaignFiles(t, n)
	args := []string{"send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL, "-rate", "40"}
	p := startPregon(t, args...)
	waitFor(t, "20 requests", func() bool { return len(fake.Messages()) >= 20 })
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != exitStopped {
		t.Fatalf("exit %d, want 3\n%s%s", code, p.out.String(), p.errOut.String())
	}
	if !strings.Contains(p.out.String(), "interrupted") || !strings.Contains(p.errOut.String(), "run the same command again to resume") {
		t.Errorf("the summary does not say it was interrupted:\n%s%s", p.out.String(), p.errOut.String())
	}
	accepted := fake.ByContact()
	sent := 0
	for _, c := range ledgerContacts(t, ledger) {
		switch c.State {
		case campaign.Sent:
			sent++
			if accepted[c.Contact] != 1 {
				t.Errorf("%s sent in the ledger, accepted %d times", c.Contact, accepted[c.Contact])
			}
		case campaign.Pending:
			if accepted[c.Contact] != 0 {
				t.Errorf("%s pending in the ledger, but the platform has it", c.Contact)
			}
		default:
			t.Errorf("%s left %s by a graceful stop", c.Contact, c.State)
		}
	}
	if sent == 0 || sent == n {
		t.Fatalf("sent %d of %d: the stop did not land mid-run", sent, n)
	}

	p = startPregon(t, args...)
	if code := p.wait(t); code != exitOK {
		t.Fatalf("resume: exit %d\n%s%s", code, p.out.String(), p.errOut.String())
	}
	per := requestsPer(fake)
	for i := 1; i <= n; i++ {
		if c := fmt.Sprintf("id:%d", i); per[c] != 1 {
			t.Errorf("%s received %d requests", c, per[c])
		}
	}
}

func TestOverlappingRunsSendOnce(t *testing.T) {
	const n = 100
	fake := sendertest.NewServer(t, sendertest.Config{Latency: 50 * time.Millisecond})
	camp, csv, ledger := campaignFiles(t, n)
	args := []string{"send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL, "-rate", "50"}
	first := startPregon(t, args...)
	waitFor(t, "the first run to send", func() bool { return len(fake.Messages()) >= 5 })
	second := startPregon(t, args...)
	if code := second.wait(t); code != exitStopped {
		t.Fatalf("second run: exit %d, want 3\n%s", code, second.errOut.String())
	}
	want := fmt.Sprintf("being sent by another pregon run: process %d on ", first.cmd.Process.Pid)
	if !strings.Contains(second.errOut.String(), want) {
		t.Errorf("second run does not name the holder: %s", second.errOut.String())
	}
	if code := first.wait(t); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, first.errOut.String())
	}
	per := requestsPer(fake)
	for i := 1; i <= n; i++ {
		if c := fmt.Sprintf("id:%d", i); per[c] != 1 {
			t.Errorf("%s received %d requests", c, per[c])
		}
	}
}

func TestMaxDurationStopsAndNextRunResumes(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	const n = 80
	fake := sendertest.NewServer(t, sendertest.Config{Latency: 30 * time.Millisecond})
	camp, csv, ledger := campaignFiles(t, n)
	args := []string{"send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL, "-rate", "40"}
	code, out, errOut := pregon(t, append(args, "-max-duration", "700ms")...)
	if code != exitStopped || !strings.Contains(out, "stopped at -max-duration") {
		t.Fatalf("exit %d, want 3 at the deadline\n%s%s", code, out, errOut)
	}
	st := status(t, ledger)[0]
	if st.Sent == 0 || st.Sent == n || st.Sent+st.Pending != n || st.InFlight != 0 {
		t.Errorf("after the deadline: %+v", st)
	}
	if code, out, errOut := pregon(t, args...); code != exitOK {
		t.Fatalf("resume: exit %d\n%s%s", code, out, errOut)
	}
	for c, k := range requestsPer(fake) {
		if k != 1 {
			t.Errorf("%s received %d requests", c, k)
		}
	}
	if got := len(requestsPer(fake)); got != n {
		t.Errorf("%d contacts reached, want %d", got, n)
	}
}

func TestNotAfterRefusesALateStart(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	fake := sendertest.NewServer(t, sendertest.Config{})
	camp, csv, ledger := campaignFiles(t, 3)
	code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL,
		"-not-after", time.Now().Add(-time.Minute).Format("2006-01-02T15:04"))
	if code != exitStopped || !strings.Contains(errOut, "past -not-after") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if len(fake.Messages()) != 0 {
		t.Error("requests were made")
	}
	code, _, errOut = pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL,
		"-not-after", time.Now().Add(time.Hour).Format("2006-01-02T15:04"))
	if code != exitOK {
		t.Errorf("before the limit: exit %d: %s", code, errOut)
	}
}

// A ledger on a disk that fills up during the run: the run stops, and no
// request was made whose attempt is not on record. The ledger lives on a
// small tmpfs, so the disk really is full (needs root to mount).
func TestFullDiskStopsSending(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	dir := t.TempDir()
	const n = 6000
	var b strings.Builder
	b.WriteString("phone,nombre\n")
	for i := range n {
		fmt.Fprintf(&b, "+59399%07d,Cliente con un nombre bastante largo para llenar el disco %d\n", i, i)
	}
	camp := writeTemp(t, dir, "c.json", `{"name":"proceso","api":"v2","message":{"type":"text","text":"Hola {{nombre}}, este es un mensaje largo para que cada fila ocupe espacio en el libro."}}`)
	csv := writeTemp(t, dir, "c.csv", b.String())
	// The disk must fill while sending, not while the first rows are
	// read in: how much the import takes before the first send depends on
	// the machine's pace, so a disk that filled before any request is
	// tried again a little larger.
	for _, size := range []string{"3m", "4m", "5m", "6m"} {
		disk := filepath.Join(dir, "disk-"+size)
		if err := os.Mkdir(disk, 0o700); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", disk).CombinedOutput(); err != nil {
			t.Skipf("cannot mount a small tmpfs here (%v: %s): the full-disk case was not checked", err, bytes.TrimSpace(out))
		}
		t.Cleanup(func() { exec.Command("umount", disk).Run() })
		ledger := filepath.Join(disk, "pregon.db")
		fake := sendertest.NewServer(t, sendertest.Config{})
		code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL, "-rate", "0")
		if code != exitStopped || strings.Count(errOut, "disk is full") != 1 || !strings.Contains(errOut, "run the same command again") {
			t.Fatalf("%s disk: exit %d, want 3 with the disk full: %s", size, code, errOut)
		}
		reqs := fake.Messages()
		if len(reqs) == 0 {
			t.Logf("a %s disk filled before the first request; trying a larger one", size)
			continue
		}
		if len(reqs) >= n {
			t.Fatalf("%d requests: the disk did not fill mid-run\n%s", len(reqs), errOut)
		}
		attempted := map[string]bool{}
		for _, c := range ledgerContacts(t, ledger) {
			if c.Attempts > 0 {
				attempted[c.Contact] = true
			}
		}
		for _, r := range reqs {
			if !attempted[r.Contact] {
				t.Errorf("request for %s was made without its attempt on record", r.Contact)
			}
		}
		t.Logf("%d requests before the %s disk filled, each with its attempt recorded; the operator read:\n%s", len(reqs), size, errOut)
		return
	}
	t.Fatal("no disk size filled during the sending: the test's sizes need a look")
}

// -not-after bounds the whole run, not only its start: a run that is still
// sending when the time comes stops gracefully, and says why.
func TestNotAfterStopsARunningSend(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	fake := sendertest.NewServer(t, sendertest.Config{})
	camp, csv, ledger := campaignFiles(t, 40)
	limit := time.Now().Add(1500 * time.Millisecond)
	code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL,
		"-rate", "10", "-not-after", limit.Format("2006-01-02T15:04:05"), "-max-duration", "1h")
	if code != exitStopped || !strings.Contains(errOut, "stopped at -not-after") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, r := range fake.Messages() {
		if r.At.After(limit.Add(time.Second)) { // a second of stamp rounding: the limit is whole seconds
			t.Errorf("a request left at %s, after -not-after %s", r.At.Format("15:04:05.000"), limit.Format("15:04:05"))
		}
	}
	st := status(t, ledger)[0]
	if st.Pending == 0 || st.Sent == 0 || st.Sent+st.Pending != 40 {
		t.Errorf("status = %+v", st)
	}
	if st.Runs[0].EndedBy != "not after" {
		t.Errorf("the run history says %q", st.Runs[0].EndedBy)
	}
}

func TestParseNotAfter(t *testing.T) {
	day := func(h, m int) time.Time { return time.Date(2026, 11, 22, h, m, 0, 0, time.Local) }
	for _, tc := range []struct {
		in   string
		now  time.Time
		want time.Time
	}{
		{"07:00", day(1, 0), day(7, 0)},                   // the nightly 01:00 job: this morning's
		{"07:00", day(22, 0), day(7, 0).AddDate(0, 0, 1)}, // a 22:00 job: tomorrow's
		{"07:00", day(7, 30), day(7, 0)},                  // the 01:00 job started late: it has passed
		{"07:00", day(13, 30), day(7, 0).AddDate(0, 0, 1)},
		{"2026-11-23T07:00", day(1, 0), day(7, 0).AddDate(0, 0, 1)},
		{"2026-11-22 07:00", day(1, 0), day(7, 0)},
	} {
		got, err := parseNotAfter(tc.in, tc.now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseNotAfter(%q) at %s = %s, %v; want %s", tc.in, tc.now.Format("15:04"), got, err, tc.want)
		}
	}
	if _, err := parseNotAfter("7am", day(1, 0)); err == nil {
		t.Error("7am was accepted")
	}
}

// Campaigns started together on one machine, for one API, share the
// organization's limit: together they never exceed it in any second, and
// each contact gets its message once.
func TestRunsOnOneMachineShareTheLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three pregon processes for several seconds")
	}
	fake := sendertest.NewServer(t, sendertest.Config{PerSecond: 25, Latency: 100 * time.Millisecond, Jitter: 0.2})
	dir := t.TempDir()
	var procs []*proc
	for k := range 3 {
		name := fmt.Sprintf("promo-%c", 'a'+k)
		camp := writeTemp(t, dir, name+".json", `{"name":"`+name+`","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
		var b strings.Builder
		b.WriteString("id,nombre\n")
		for i := 1; i <= 60; i++ {
			fmt.Fprintf(&b, "%d%03d,Cliente %d\n", k+1, i, i)
		}
		csv := writeTemp(t, dir, name+".csv", b.String())
		procs = append(procs, startPregon(t, "send", "-campaign", camp, "-contacts", csv,
			"-ledger", filepath.Join(dir, name+".db"), "-base-url", fake.URL))
	}
	sharing := 0
	for _, p := range procs {
		if code := p.wait(t); code != 0 {
			t.Errorf("exit %d\n%s", code, p.errOut.String())
		}
		if strings.Contains(p.errOut.String(), "Sharing 25 requests per second with") {
			sharing++
		}
	}
	if sharing == 0 {
		t.Error("no run said it shared the rate")
	}
	if n := fake.MaxInWindow(time.Second); n > 25 {
		t.Errorf("%d requests in one second from three runs together", n)
	}
	acceptedOnce(t, fake, 180)
	limited := 0
	for _, r := range fake.Messages() {
		if r.Status == 429 {
			limited++
		}
	}
	if limited > 2 {
		t.Errorf("%d × 429 for 180 messages", limited)
	}
}

// A run that is killed gives its share back: the other learns it within
// two seconds and goes on at the whole rate.
func TestAKilledRunsShareReturns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two pregon processes for several seconds")
	}
	fake := sendertest.NewServer(t, sendertest.Config{PerSecond: 25})
	dir := t.TempDir()
	start := func(name string, n int) *proc {
		camp := writeTemp(t, dir, name+".json", `{"name":"`+name+`","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
		var b strings.Builder
		b.WriteString("id,nombre\n")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "%d,Cliente %d\n", len(name)*1000+i, i)
		}
		return startPregon(t, "send", "-campaign", camp, "-contacts", writeTemp(t, dir, name+".csv", b.String()),
			"-ledger", filepath.Join(dir, name+".db"), "-base-url", fake.URL)
	}
	survivor := start("largo", 150)
	victim := start("corto-que-muere", 150)
	waitFor(t, "both runs to share", func() bool {
		return strings.Contains(survivor.errOut.String(), "Sharing 25 requests per second with 1 other run")
	})
	victim.cmd.Process.Kill()
	victim.wait(t)
	if code := survivor.wait(t); code != 0 {
		t.Fatalf("exit %d\n%s", code, survivor.errOut.String())
	}
	if !strings.Contains(survivor.errOut.String(), "No other run shares the rate any more") {
		t.Errorf("the survivor never took the whole rate back:\n%s", survivor.errOut.String())
	}
	if n := fake.MaxInWindow(time.Second); n > 25 {
		t.Errorf("%d requests in one second", n)
	}
}
