//go:build windows

package filelock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// openFile opens name for reading, or for writing and created when
// missing. FILE_FLAG_OPEN_REPARSE_POINT opens a symbolic link (or a
// junction) itself instead of what it names; it is then refused.
func openFile(name string, write bool) (*os.File, error) {
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR | os.O_CREATE
	}
	f, err := os.OpenFile(name, flag|windows.O_FILE_FLAG_OPEN_REPARSE_POINT, 0o600)
	if err != nil {
		return nil, err
	}
	return checkRegular(f)
}

// control runs fn with f's handle.
func control(f *os.File, fn func(h windows.Handle) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(windows.Handle(fd)) }); err != nil {
		return err
	}
	return ferr
}

func region(off int64) *windows.Overlapped {
	return &windows.Overlapped{Offset: uint32(off), OffsetHigh: uint32(off >> 32)}
}

func lockRange(f *os.File, off int64, wait bool) error {
	flags := uint32(windows.LOCKFILE_EXCLUSIVE_LOCK)
	if !wait {
		flags |= windows.LOCKFILE_FAIL_IMMEDIATELY
	}
	err := control(f, func(h windows.Handle) error {
		return windows.LockFileEx(h, flags, 0, 1, 0, region(off))
	})
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return ErrLocked
	}
	return err
}

func unlockRange(f *os.File, off int64) error {
	return control(f, func(h windows.Handle) error {
		return windows.UnlockFileEx(h, 0, 1, 0, region(off))
	})
}

// heldRange tests a byte by taking a shared lock on it for an instant:
// Windows has no test that takes nothing. Only a holder's announcement
// ever waits for that instant, never its TryLock.
func heldRange(f *os.File, off int64) (bool, error) {
	err := control(f, func(h windows.Handle) error {
		return windows.LockFileEx(h, windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, region(off))
	})
	switch {
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION):
		return true, nil
	case err != nil:
		return false, err
	}
	return false, unlockRange(f, off)
}
