//go:build unix

package filelock

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openFile opens name for reading, or for writing and created when
// missing, without following a symbolic link. O_NONBLOCK: a pipe at the
// name must not hang the open; it is refused once open.
func openFile(name string, write bool) (*os.File, error) {
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR | os.O_CREATE
	}
	f, err := os.OpenFile(name, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		// O_NOFOLLOW fails with ELOOP, EMLINK or EFTYPE, by system.
		if fi, lerr := os.Lstat(name); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			err = &fs.PathError{Op: "open", Path: name, Err: ErrSymlink}
		}
		return nil, err
	}
	return checkRegular(f)
}

// fcntlLock runs a record-lock command on one byte at off.
func fcntlLock(f *os.File, cmd int, typ int16, off int64) (unix.Flock_t, error) {
	lk := unix.Flock_t{Type: typ, Whence: 0, Start: off, Len: 1}
	rc, err := f.SyscallConn()
	if err != nil {
		return lk, err
	}
	var lerr error
	err = rc.Control(func(fd uintptr) {
		for {
			lerr = unix.FcntlFlock(fd, cmd, &lk)
			if !errors.Is(lerr, unix.EINTR) {
				return
			}
		}
	})
	if err != nil {
		return lk, err
	}
	if errors.Is(lerr, unix.EAGAIN) || errors.Is(lerr, unix.EACCES) {
		lerr = ErrLocked
	}
	return lk, lerr
}

// setLock takes (typ F_WRLCK) or releases (F_UNLCK) the byte at off
// through one of the set commands.
func setLock(f *os.File, cmd int, typ int16, off int64) error {
	_, err := fcntlLock(f, cmd, typ, off)
	return err
}

// testLock reports whether another owner holds a lock on the byte at off,
// through one of the get commands, which take nothing.
func testLock(f *os.File, cmd int, off int64) (bool, error) {
	lk, err := fcntlLock(f, cmd, unix.F_WRLCK, off)
	if err != nil {
		return false, err
	}
	return lk.Type != unix.F_UNLCK, nil
}
