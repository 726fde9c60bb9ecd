//go:build linux && !filelock_posix

package filelock

import (
	"os"

	"golang.org/x/sys/unix"
)

// Open file description locks belong to the open file, as flock's do, and
// can be tested without being taken. They are not flock locks: on Linux
// the two kinds never see each other.

func lockRange(f *os.File, off int64, wait bool) error {
	cmd := unix.F_OFD_SETLK
	if wait {
		cmd = unix.F_OFD_SETLKW
	}
	return setLock(f, cmd, unix.F_WRLCK, off)
}

func unlockRange(f *os.File, off int64) error {
	return setLock(f, unix.F_OFD_SETLK, unix.F_UNLCK, off)
}

func heldRange(f *os.File, off int64) (bool, error) {
	return testLock(f, unix.F_OFD_GETLK, off)
}
