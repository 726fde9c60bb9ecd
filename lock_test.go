package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/sender/sendertest"
	"github.com/pregon/pregon/store"
)

// linkTo makes a symbolic link to file in another directory.
func linkTo(t *testing.T, file string) string {
	t.Helper()
	link := filepath.Join(t.TempDir(), "enlace.db")
	if err := os.Symlink(file, link); err != nil {
		t.Skipf("cannot make a symbolic link here: %v", err)
	}
	return link
}

// A status loop (a dashboard, a monitoring script) beside runs starting
// and holding the campaign: no run is ever refused because status looked,
// and status always names the run that holds the campaign.
func TestStatusLoopNeverRefusesASend(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	fake := sendertest.NewServer(t, sendertest.Config{})
	camp, csv, ledger := campaignFiles(t, 3)
	send := []string{"send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL}
	if code, _, errOut := pregon(t, send...); code != exitOK {
		t.Fatalf("first send: exit %d: %s", code, errOut)
	}
	link := linkTo(t, ledger)
	me := fmt.Sprintf("(process %d)", os.Getpid())

	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(stop)
		wg.Wait()
	}()
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			code, out, errOut := pregon(t, "status", "-ledger", []string{ledger, link}[i%2])
			if code != exitOK || strings.Contains(out, "did not say which") {
				t.Errorf("status: exit %d\n%s%s", code, out, errOut)
				return
			}
		}
	})

	// Runs in this process, taking the campaign as a send does.
	for i := range 200 {
		lock, err := store.Acquire(ledger, "proceso")
		if err != nil {
			t.Fatalf("run %d refused beside the status loop: %v", i, err)
		}
		if code, out, errOut := pregon(t, "status", "-ledger", link); code != exitOK || !strings.Contains(out, me) {
			t.Fatalf("status beside a held campaign: exit %d\n%s%s", code, out, errOut)
		}
		lock.Release()
	}
	// Real sends, each a process of its own.
	for i := range 3 {
		p := startPregon(t, send...)
		if code := p.wait(t); code != exitOK {
			t.Fatalf("send %d beside the status loop: exit %d\n%s%s", i, code, p.out.String(), p.errOut.String())
		}
	}
	// status in processes of its own, beside a campaign held here.
	lock, err := store.Acquire(ledger, "proceso")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	for range 3 {
		p := startPregon(t, "status", "-ledger", link)
		if code := p.wait(t); code != exitOK || !strings.Contains(p.out.String(), me) {
			t.Errorf("status process: exit %d\n%s%s", code, p.out.String(), p.errOut.String())
		}
	}
}

// Two runs through two names of one ledger, a symbolic link and a
// relative path: the second is refused, and every contact gets one request.
func TestOverlappingRunsThroughTwoNamesSendOnce(t *testing.T) {
	const n = 100
	fake := sendertest.NewServer(t, sendertest.Config{Latency: 50 * time.Millisecond})
	camp, csv, ledger := campaignFiles(t, n)
	// The link is made to a ledger that exists: pregon never makes one
	// through a link.
	if l, err := store.Open(context.Background(), ledger); err != nil {
		t.Fatal(err)
	} else {
		l.Close()
	}
	args := []string{"send", "-campaign", camp, "-contacts", csv, "-base-url", fake.URL, "-rate", "50"}
	first := startPregon(t, append(args, "-ledger", linkTo(t, ledger))...)
	waitFor(t, "the first run to send", func() bool { return len(fake.Requests()) >= 5 })

	second := &proc{cmd: exec.Command(os.Args[0], append(args, "-ledger", "./"+filepath.Base(ledger))...)}
	second.cmd.Dir = filepath.Dir(ledger)
	second.cmd.Env = append(os.Environ(), "PREGON_TEST_AS_MAIN=1", tokenEnv+"=t")
	second.cmd.Stdout, second.cmd.Stderr = &second.out, &second.errOut
	if err := second.cmd.Start(); err != nil {
		t.Fatal(err)
	}
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

// The report tells a run that is sending now from one that was killed.
func TestReportShowsTheRunSendingNow(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pregon.db")
	l, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	id, err := l.Register(ctx, "c", "f", store.Destination{API: "v2", BaseURL: "https://api.example.com"}, false)
	if err == nil {
		_, err = l.StartRun(ctx, id, nil)
	}
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	endedBy := func() string {
		t.Helper()
		ro, err := store.OpenReadOnly(ctx, linkTo(t, path))
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		d, err := loadReport(ctx, i18n.For(i18n.Spanish), ro, "c")
		if err != nil || len(d.Runs) != 1 {
			t.Fatalf("report: %+v, %v", d, err)
		}
		return d.Runs[0].EndedBy
	}
	lock, err := store.Acquire(path, "c")
	if err != nil {
		t.Fatal(err)
	}
	if got := endedBy(); !strings.HasPrefix(got, "en curso") {
		t.Errorf("while the run holds the campaign, the report says %q", got)
	}
	lock.Release()
	if got := endedBy(); !strings.Contains(got, "se detuvo de golpe") {
		t.Errorf("once the run is gone, the report says %q", got)
	}
}
