//go:build !windows

package rateshare

import (
	"os"
	"syscall"
)

// openFile opens the shared file, never through a symbolic link planted in
// its place.
func openFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
}

// lockFile waits for the exclusive lock on f. flock locks belong to the
// open file, so the runs of one process (tests) exclude each other too.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
