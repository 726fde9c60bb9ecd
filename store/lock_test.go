package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pregon/pregon/filelock"
	"github.com/pregon/pregon/internal/testfs"
)

// The test binary doubles as a process that holds a campaign's lock until
// it is killed: STORE_TEST_HOLD is "LEDGER\nCAMPAIGN".
func TestMain(m *testing.M) {
	if arg := os.Getenv("STORE_TEST_HOLD"); arg != "" {
		ledger, name, _ := strings.Cut(arg, "\n")
		if _, err := Acquire(ledger, name); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("held")
		io.Copy(io.Discard, os.Stdin) // until the test kills it
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// ledgerNames makes a ledger and returns it with other names of it: a
// symbolic link in another directory, a path through a linked directory.
// It skips the test where the system makes no symbolic links (Windows
// without the privilege, Wine).
func ledgerNames(t *testing.T) (ledger, link, viaDir string) {
	t.Helper()
	ledger, link, viaDir, err := makeNames(t)
	if err != nil {
		t.Skipf("cannot make a symbolic link here: %v", err)
	}
	return ledger, link, viaDir
}

// twoNames makes a ledger and returns it with another name of it: a
// symbolic link where the system makes one, else its path relative to the
// ledger's directory, which becomes the working directory. The tests of
// what a lock does, rather than of which names meet it, run everywhere.
func twoNames(t *testing.T) (ledger, other string) {
	t.Helper()
	ledger, link, _, err := makeNames(t)
	if err != nil {
		t.Logf("no symbolic links here (%v): the other name is a relative path", err)
		t.Chdir(filepath.Dir(ledger))
		return ledger, filepath.Base(ledger)
	}
	return ledger, link
}

func makeNames(t *testing.T) (ledger, link, viaDir string, err error) {
	t.Helper()
	dir := testfs.TempDir(t)
	ledger = filepath.Join(dir, "l.db")
	l, err := Open(context.Background(), ledger)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	other := testfs.TempDir(t)
	link = filepath.Join(other, "link.db")
	if err := testfs.Symlink(ledger, link); err != nil {
		return ledger, "", "", err
	}
	if err := testfs.Symlink(dir, filepath.Join(other, "dir")); err != nil {
		t.Fatal(err)
	}
	return ledger, link, filepath.Join(other, "dir", "l.db"), nil
}

func lockedBy(t *testing.T, err error, pid int) {
	t.Helper()
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("got %v, want a *LockedError", err)
	}
	if host, _ := os.Hostname(); le.Holder.PID != pid || le.Holder.Host != host || le.Holder.Since.IsZero() {
		t.Errorf("the error names %+v, want pid %d on %s", le.Holder, pid, host)
	}
}

func TestEveryNameOfALedgerMeetsOneLock(t *testing.T) {
	ledger, link, viaDir := ledgerNames(t)
	t.Chdir(filepath.Dir(ledger))
	names := []string{ledger, link, viaDir, "./l.db", "l.db", "../" + filepath.Base(filepath.Dir(ledger)) + "/l.db"}
	for _, holder := range names {
		lock, err := Acquire(holder, "c")
		if err != nil {
			t.Fatalf("Acquire(%s): %v", holder, err)
		}
		for _, other := range names {
			_, err := Acquire(other, "c")
			lockedBy(t, err, os.Getpid())
			if h, err := Probe(other, "c"); err != nil || h == nil || h.PID != os.Getpid() {
				t.Errorf("held through %s, Probe(%s) = %+v, %v", holder, other, h, err)
			}
		}
		lock.Release()
	}
	locks, _ := filepath.Glob(filepath.Join(filepath.Dir(ledger), "l.db.c-*.lock"))
	strays, _ := filepath.Glob(filepath.Join(filepath.Dir(link), "*.lock"))
	if len(locks) != 1 || len(strays) != 0 {
		t.Errorf("lock files beside the ledger %v, beside the link %v: want one, beside the ledger", locks, strays)
	}
}

// status and report probe the lock while runs start: a run is never
// refused because a reader looked, and a reader always sees a run that
// holds the lock.
func TestProbeNeverTakesTheLock(t *testing.T) {
	ledger, link := twoNames(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(stop)
		wg.Wait()
	}()
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				h, err := Probe(link, "c")
				if err != nil || h != nil && h.PID != os.Getpid() {
					t.Errorf("Probe = %+v, %v", h, err)
					return
				}
			}
		})
	}
	for i := range 1000 {
		lock, err := Acquire(ledger, "c")
		if err != nil {
			t.Fatalf("Acquire %d beside probes: %v", i, err)
		}
		if h, err := Probe(link, "c"); err != nil || h == nil || h.PID != os.Getpid() {
			t.Fatalf("Probe %d of a held lock = %+v, %v", i, h, err)
		}
		lock.Release()
	}
}

func TestProbeOfAFreeLockFindsNoneAndLeavesItFree(t *testing.T) {
	ledger, link := twoNames(t)
	if h, err := Probe(link, "c"); h != nil || err != nil {
		t.Errorf("Probe of a lock never taken = %+v, %v", h, err)
	}
	made, _ := filepath.Glob(ledger + ".*.lock")
	besideLink, _ := filepath.Glob(link + ".*.lock")
	if made = append(made, besideLink...); len(made) != 0 {
		t.Errorf("Probe made lock files %v", made)
	}
	lock, err := Acquire(ledger, "c")
	if err != nil {
		t.Fatal(err)
	}
	lock.Release()
	if h, err := Probe(link, "c"); h != nil || err != nil {
		t.Errorf("Probe of a released lock = %+v, %v", h, err)
	}
	lock, err = Acquire(link, "c")
	if err != nil {
		t.Fatalf("Acquire after the probe: %v", err)
	}
	lock.Release()
}

func TestASymbolicLinkAtTheLockIsNotFollowed(t *testing.T) {
	ledger, _, _ := ledgerNames(t)
	target := filepath.Join(testfs.TempDir(t), "precious")
	if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{target, target + ".new"} {
		path, err := lockPath(ledger, "c")
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(path)
		if err := testfs.Symlink(to, path); err != nil {
			t.Fatal(err)
		}
		if lock, err := Acquire(ledger, "c"); !errors.Is(err, filelock.ErrSymlink) {
			lock.Release()
			t.Errorf("Acquire through a link to %s: %v, want ErrSymlink", filepath.Base(to), err)
		}
		if _, err := Probe(ledger, "c"); !errors.Is(err, filelock.ErrSymlink) {
			t.Errorf("Probe through a link to %s: %v, want ErrSymlink", filepath.Base(to), err)
		}
	}
	if data, err := os.ReadFile(target); err != nil || string(data) != "keep me" {
		t.Errorf("the link's target holds %q (%v)", data, err)
	}
	if _, err := os.Lstat(target + ".new"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a dangling link's target was created: %v", err)
	}
}

func TestALockIsFreedWhenItsHolderIsKilled(t *testing.T) {
	ledger, link := twoNames(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "STORE_TEST_HOLD="+link+"\nc")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "held\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the holding process says %q", line)
	}
	pid := cmd.Process.Pid
	if h, err := Probe(ledger, "c"); err != nil || h == nil || h.PID != pid {
		t.Errorf("Probe = %+v, %v; want pid %d", h, err, pid)
	}
	_, err := Acquire(ledger, "c")
	lockedBy(t, err, pid)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	if h, err := Probe(ledger, "c"); err != nil || h != nil {
		t.Errorf("after kill -9, Probe = %+v, %v", h, err)
	}
	lock, err := Acquire(ledger, "c")
	if err != nil {
		t.Fatalf("after kill -9: %v", err)
	}
	lock.Release()
}
