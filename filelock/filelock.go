// Package filelock locks files between the processes of one machine: an
// exclusive lock that a process takes without waiting and that the
// operating system releases however the process ends (exit, crash,
// kill -9), and a probe that tells any process whether the lock is held,
// and what its holder wrote in the file, without ever taking the lock.
//
// A lock file holds info, the bytes its holder announces (who it is), at
// its start, and two lock bytes far beyond any info, which are never
// written: the lock itself, and a second byte that the holder locks once
// its info is written. Probe tests only the second, so it never sees a
// half-written info or a previous holder's, and never touches the lock a
// starting holder is about to take. Windows locks are mandatory (nobody
// else can read a locked byte): keeping the locks away from the info is
// what lets a reader read it while the lock is held.
//
// How exact it is depends on the system:
//
//   - Linux: open file description locks (F_OFD_SETLK, F_OFD_GETLK).
//     Exact: every Open is a holder of its own, within one process too,
//     and Probe takes no lock at all.
//   - Other Unix systems (macOS, the BSDs): classic POSIX record locks
//     (F_SETLK, F_GETLK), which belong to a process, not to an open file.
//     The package keeps a table of the lock files a process has open so
//     that two Opens in one process still exclude each other and a Probe
//     in the holding process still sees the lock. What it cannot mend:
//     the process that holds a lock must open that file only through this
//     package, because POSIX releases a process's locks on a file when it
//     closes any descriptor of it. Probe takes no lock.
//   - Windows: LockFileEx. Windows has no way to test a lock without
//     taking one, so Probe takes a shared lock on the second byte for an
//     instant and gives it back; a holder that is announcing itself at
//     that instant waits for it, and TryLock, which takes the other byte,
//     never fails because of a Probe. The system frees a dead process's
//     locks "when resources allow": in practice at once.
//
// It does not wait for a lock (TryLock fails at once), lock reliably over
// NFS or other network file systems, remove lock files (removing one races
// with a process that has it open and is about to lock it), or follow a
// symbolic link at a lock file's name: Open and Probe refuse one, and
// anything else that is not a regular file.
package filelock

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

const (
	// maxInfo bounds what a holder announces.
	maxInfo = 64 << 10
	// lockByte is the lock; liveByte is held by a holder that has
	// announced itself. Both lie far beyond the info, never written.
	lockByte = 1 << 30
	liveByte = lockByte + 1
)

// The errors the package returns, wrapped in a *fs.PathError naming the file.
var (
	// ErrLocked: another holder has the lock.
	ErrLocked = errors.New("locked by another holder")
	// ErrSymlink: the name is a symbolic link, which is never followed.
	ErrSymlink = errors.New("is a symbolic link")
	// ErrNotRegular: the name is a directory, a device, a pipe…
	ErrNotRegular = errors.New("not a regular file")
)

// File is an open lock file, for one goroutine at a time. (Probe may run
// in any number of goroutines.)
type File struct {
	name      string
	f         *os.File
	locked    bool // holds lockByte
	announced bool // holds liveByte, and the info is written
	sys       sysFile
}

// Open opens the lock file name for locking, creating it with mode 0600
// when it does not exist. It takes no lock, and never changes the file.
func Open(name string) (*File, error) {
	f, err := open(name)
	if err != nil {
		return nil, err
	}
	f.name = name
	return f, nil
}

// Name is the name the file was opened with.
func (f *File) Name() string { return f.name }

// TryLock takes the exclusive lock without waiting. When another holder
// has it, the error wraps ErrLocked. Taking a lock the File already holds
// does nothing.
func (f *File) TryLock() error {
	if f.f == nil {
		return os.ErrClosed
	}
	if f.locked {
		return nil
	}
	if err := f.tryLock(); err != nil {
		return &fs.PathError{Op: "lock", Path: f.Name(), Err: err}
	}
	f.locked = true
	return nil
}

// Announce writes info (at most 64 KiB) as the file's content and lets
// Probe report the lock as held, with that info. Only the holder may
// announce; another announcement replaces the first.
func (f *File) Announce(info []byte) error {
	if f.f == nil {
		return os.ErrClosed
	}
	if !f.locked {
		return &fs.PathError{Op: "announce", Path: f.Name(), Err: errors.New("the lock is not held")}
	}
	if len(info) > maxInfo {
		return &fs.PathError{Op: "announce", Path: f.Name(), Err: fmt.Errorf("info of %d bytes, more than %d", len(info), maxInfo)}
	}
	if err := f.announce(info); err != nil {
		return &fs.PathError{Op: "announce", Path: f.Name(), Err: err}
	}
	return nil
}

// Unlock empties the file (the holder's info goes with its lock) and
// releases the lock. The file stays.
func (f *File) Unlock() error {
	if f.f == nil {
		return os.ErrClosed
	}
	if !f.locked {
		return nil
	}
	err := f.unlock()
	f.locked, f.announced = false, false
	if err != nil {
		return &fs.PathError{Op: "unlock", Path: f.Name(), Err: err}
	}
	return nil
}

// Close releases the lock, as Unlock does, and closes the file.
func (f *File) Close() error {
	if f.f == nil {
		return os.ErrClosed
	}
	err := f.Unlock()
	if cerr := f.close(); err == nil {
		err = cerr
	}
	f.f = nil
	return err
}

// Probe reports whether a holder has the lock on the file name and has
// announced itself, and what it announced, without taking the lock (on
// Windows, see the package documentation). A missing file is a free lock;
// Probe never creates one.
func Probe(name string) (info []byte, held bool, err error) {
	info, held, err = probe(name)
	if err != nil {
		var pe *fs.PathError
		if !errors.As(err, &pe) {
			err = &fs.PathError{Op: "probe", Path: name, Err: err}
		}
		return nil, false, err
	}
	return info, held, nil
}

// probeFile tests liveByte through f, a descriptor of the probing
// process's own, and reads the info when it is held.
//
// A holder may leave, and another come, while the info is read: the first
// empties the file once its liveByte is free, the next writes its info
// before taking it. One read between two tests that find the lock held
// can therefore be the gap between them (nothing) or half of the next
// one's info. The answer is an info read twice the same on either side of
// a test that finds the lock held, and not empty; after a few tries (a
// holder that announced nothing, or holders changing faster than a probe
// reads) it is the last info read.
func probeFile(f *os.File) ([]byte, bool, error) {
	var info []byte
	for range probeTries {
		held, err := heldRange(f, liveByte)
		if err != nil || !held {
			return nil, false, err
		}
		first, err := readInfo(f)
		if err != nil {
			return nil, false, err
		}
		if held, err = heldRange(f, liveByte); err != nil || !held {
			return nil, false, err
		}
		if info, err = readInfo(f); err != nil {
			return nil, false, err
		}
		if len(info) > 0 && bytes.Equal(info, first) {
			break
		}
	}
	return info, true, nil
}

// probeTries bounds how often probeFile reads the info again.
const probeTries = 10

// writeInfo makes info the file's whole content. The caller holds the
// lock: nothing is ever truncated under another holder's.
func writeInfo(f *os.File, info []byte) error {
	if _, err := f.WriteAt(info, 0); err != nil {
		return err
	}
	return f.Truncate(int64(len(info)))
}

// readInfo reads the file's content, at most maxInfo bytes of it.
func readInfo(f *os.File) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, min(fi.Size(), maxInfo))
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:n], nil
}

// checkRegular refuses, and closes, a file that is not a regular file.
func checkRegular(f *os.File) (*os.File, error) {
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = ErrNotRegular
		if fi.Mode()&fs.ModeSymlink != 0 {
			err = ErrSymlink
		}
		err = &fs.PathError{Op: "open", Path: f.Name(), Err: err}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
