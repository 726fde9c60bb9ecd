package filelock

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/pregon/pregon/internal/testfs"
)

// The test binary doubles as a process that holds a lock until it is
// killed: FILELOCK_TEST_HOLD names the file.
func TestMain(m *testing.M) {
	if name := os.Getenv("FILELOCK_TEST_HOLD"); name != "" {
		hold(name)
		return
	}
	os.Exit(m.Run())
}

func hold(name string) {
	f, err := Open(name)
	if err == nil {
		err = f.TryLock()
	}
	if err == nil {
		err = f.Announce([]byte(strconv.Itoa(os.Getpid())))
	}
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("held")
	io.Copy(io.Discard, os.Stdin) // until the test kills it
	os.Exit(0)
}

// holder starts a process that holds name's lock and returns once it does.
func holder(t *testing.T, name string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "FILELOCK_TEST_HOLD="+name)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "held\n" {
		t.Fatalf("the holding process says %q", line)
	}
	return cmd
}

func openT(t *testing.T, name string) *File {
	t.Helper()
	f, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func probeOK(t *testing.T, name string) (string, bool) {
	t.Helper()
	info, held, err := Probe(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(info), held
}

func TestTryLockExcludesEveryOtherOpen(t *testing.T) {
	name := filepath.Join(testfs.TempDir(t), "l.lock")
	a, b := openT(t, name), openT(t, name)
	if err := a.TryLock(); err != nil {
		t.Fatal(err)
	}
	if err := a.TryLock(); err != nil {
		t.Errorf("taking a held lock again: %v", err)
	}
	if err := b.TryLock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("second TryLock: %v, want ErrLocked", err)
	}
	if err := a.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := b.TryLock(); err != nil {
		t.Fatalf("after Unlock: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.TryLock(); err != nil {
		t.Fatalf("after Close: %v", err)
	}
}

func TestProbeSeesOnlyAnAnnouncedHolder(t *testing.T) {
	name := filepath.Join(testfs.TempDir(t), "l.lock")
	if info, held := probeOK(t, name); held || info != "" {
		t.Errorf("missing file: held %v, info %q", held, info)
	}
	if _, err := os.Lstat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Probe created the file: %v", err)
	}
	f := openT(t, name)
	if err := f.TryLock(); err != nil {
		t.Fatal(err)
	}
	if _, held := probeOK(t, name); held {
		t.Error("held before the holder announced itself")
	}
	if err := f.Announce([]byte("pid 1")); err != nil {
		t.Fatal(err)
	}
	if info, held := probeOK(t, name); !held || info != "pid 1" {
		t.Errorf("announced: held %v, info %q", held, info)
	}
	if err := f.Announce([]byte("pid 22")); err != nil {
		t.Fatal(err)
	}
	if info, held := probeOK(t, name); !held || info != "pid 22" {
		t.Errorf("announced again: held %v, info %q", held, info)
	}
	if err := f.Unlock(); err != nil {
		t.Fatal(err)
	}
	if info, held := probeOK(t, name); held || info != "" {
		t.Errorf("after Unlock: held %v, info %q", held, info)
	}
	if data, _ := os.ReadFile(name); len(data) != 0 {
		t.Errorf("after Unlock the file holds %q", data)
	}
}

func TestAFailedTryLockLeavesTheHoldersInfo(t *testing.T) {
	name := filepath.Join(testfs.TempDir(t), "l.lock")
	a := openT(t, name)
	if err := a.TryLock(); err != nil {
		t.Fatal(err)
	}
	if err := a.Announce([]byte("the first")); err != nil {
		t.Fatal(err)
	}
	b := openT(t, name)
	if err := b.TryLock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("second TryLock: %v", err)
	}
	if err := b.Announce([]byte("x")); err == nil {
		t.Error("announced without the lock")
	}
	b.Close()
	if info, held := probeOK(t, name); !held || info != "the first" {
		t.Errorf("held %v, info %q", held, info)
	}
}

// A probe never makes a lock fail, whatever the timing: many probes run
// beside many TryLocks, and every TryLock succeeds. And a probe that finds
// the lock held names its holder, even while holders come and go.
func TestProbeNeverMakesTryLockFail(t *testing.T) {
	name := filepath.Join(testfs.TempDir(t), "l.lock")
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
				info, held, err := Probe(name)
				if err != nil {
					t.Error(err)
					return
				}
				if held && string(info) != "me" {
					t.Errorf("Probe finds the lock held by %q, want %q", info, "me")
					return
				}
			}
		})
	}
	for i := range 2000 {
		f, err := Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.TryLock(); err != nil {
			t.Fatalf("TryLock %d beside probes: %v", i, err)
		}
		if err := f.Announce([]byte("me")); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAnotherProcessSeesTheLockUntilItsHolderIsKilled(t *testing.T) {
	name := filepath.Join(testfs.TempDir(t), "l.lock")
	cmd := holder(t, name)
	info, held := probeOK(t, name)
	if want := strconv.Itoa(cmd.Process.Pid); !held || info != want {
		t.Errorf("probe: held %v, info %q, want %q", held, info, want)
	}
	f := openT(t, name)
	if err := f.TryLock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("TryLock beside the holding process: %v", err)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	cmd.Wait()
	if info, held := probeOK(t, name); held {
		t.Errorf("killed holder still seen, info %q", info)
	}
	if err := f.TryLock(); err != nil {
		t.Fatalf("TryLock after the holder was killed: %v", err)
	}
}

func TestASymbolicLinkIsNeverFollowed(t *testing.T) {
	dir := testfs.TempDir(t)
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "l.lock")
	dangling := filepath.Join(dir, "d.lock")
	if err := testfs.Symlink(target, link); err != nil {
		t.Skipf("cannot make a symbolic link here: %v", err)
	}
	if err := testfs.Symlink(filepath.Join(dir, "created"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{link, dangling} {
		if _, err := Open(name); !errors.Is(err, ErrSymlink) {
			t.Errorf("Open(%s): %v, want ErrSymlink", filepath.Base(name), err)
		}
		if _, _, err := Probe(name); !errors.Is(err, ErrSymlink) {
			t.Errorf("Probe(%s): %v, want ErrSymlink", filepath.Base(name), err)
		}
	}
	if data, err := os.ReadFile(target); err != nil || string(data) != "keep me" {
		t.Errorf("the link's target now holds %q (%v)", data, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "created")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dangling link's target was created: %v", err)
	}
	// The target itself is not locked either.
	f := openT(t, target)
	if err := f.TryLock(); err != nil {
		t.Errorf("the link's target is locked: %v", err)
	}
}

func TestADirectoryIsRefused(t *testing.T) {
	dir := testfs.TempDir(t)
	if _, err := Open(dir); err == nil {
		t.Error("Open of a directory succeeded")
	}
	if _, _, err := Probe(dir); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Probe of a directory: %v, want ErrNotRegular", err)
	}
}
