//go:build unix && (!linux || filelock_posix)

package filelock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Classic POSIX record locks belong to the process: F_SETLK succeeds when
// the process already holds the byte, F_GETLK never reports the process's
// own locks, and closing any descriptor of a file releases all of the
// process's locks on it. The table below puts back what a File promises:
// one holder per file in the process too, a Probe that sees it, and no
// descriptor closed under it. (The tag filelock_posix builds this on
// Linux, where it is tested.)

type fileID struct{ dev, ino uint64 }

type sysFile struct{ id fileID }

// inode is what the process has of one lock file.
type inode struct {
	opens  int        // Files open on it
	holder *File      // the File holding its lock, or nil
	closed []*os.File // descriptors whose close waits for the lock's release
}

var inodes = struct {
	sync.Mutex
	m map[fileID]*inode
}{m: map[fileID]*inode{}}

func idOf(fi fs.FileInfo) (fileID, error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, fmt.Errorf("no device and inode for %s", fi.Name())
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, nil
}

func statID(f *os.File) (fileID, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileID{}, err
	}
	return idOf(fi)
}

func open(name string) (*File, error) {
	f, err := openFile(name, true)
	if err != nil {
		return nil, err
	}
	id, err := statID(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	inodes.Lock()
	defer inodes.Unlock()
	ino := inodes.m[id]
	if ino == nil {
		ino = &inode{}
		inodes.m[id] = ino
	}
	ino.opens++
	return &File{f: f, sys: sysFile{id: id}}, nil
}

func (f *File) tryLock() error {
	inodes.Lock()
	defer inodes.Unlock()
	ino := inodes.m[f.sys.id]
	if ino.holder != nil {
		return ErrLocked
	}
	if err := setLock(f.f, unix.F_SETLK, unix.F_WRLCK, lockByte); err != nil {
		return err
	}
	ino.holder = f
	return nil
}

func (f *File) announce(info []byte) error {
	inodes.Lock()
	defer inodes.Unlock()
	if f.announced {
		if err := setLock(f.f, unix.F_SETLK, unix.F_UNLCK, liveByte); err != nil {
			return err
		}
		f.announced = false
	}
	if err := writeInfo(f.f, info); err != nil {
		return err
	}
	if err := setLock(f.f, unix.F_SETLK, unix.F_WRLCK, liveByte); err != nil {
		return err
	}
	f.announced = true
	return nil
}

func (f *File) unlock() error {
	inodes.Lock()
	defer inodes.Unlock()
	var errs []error
	if f.announced {
		errs = append(errs, setLock(f.f, unix.F_SETLK, unix.F_UNLCK, liveByte))
	}
	errs = append(errs, f.f.Truncate(0), setLock(f.f, unix.F_SETLK, unix.F_UNLCK, lockByte))
	ino := inodes.m[f.sys.id]
	ino.holder = nil
	for _, d := range ino.closed {
		errs = append(errs, d.Close())
	}
	ino.closed = nil
	return errors.Join(errs...)
}

func (f *File) close() error {
	inodes.Lock()
	defer inodes.Unlock()
	ino := inodes.m[f.sys.id]
	ino.opens--
	if ino.opens == 0 {
		delete(inodes.m, f.sys.id)
	}
	if ino.holder != nil {
		ino.closed = append(ino.closed, f.f)
		return nil
	}
	return f.f.Close()
}

func probe(name string) ([]byte, bool, error) {
	inodes.Lock()
	defer inodes.Unlock()
	fi, err := os.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, false, &fs.PathError{Op: "open", Path: name, Err: ErrSymlink}
	case !fi.Mode().IsRegular():
		return nil, false, &fs.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	id, err := idOf(fi)
	if err != nil {
		return nil, false, err
	}
	if info, held, ok, err := probeOwn(id); ok {
		return info, held, err
	}
	f, err := openFile(name, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	// The name may have changed files since Lstat.
	if id, err = statID(f); err == nil {
		if info, held, ok, err := probeOwn(id); ok {
			inodes.m[id].closed = append(inodes.m[id].closed, f)
			return info, held, err
		}
	}
	defer f.Close()
	if err != nil {
		return nil, false, err
	}
	return probeFile(f)
}

// probeOwn answers for a file whose lock this process holds (ok), from
// the table: F_GETLK would not see the lock. The caller has the table.
func probeOwn(id fileID) (info []byte, held, ok bool, err error) {
	ino := inodes.m[id]
	if ino == nil || ino.holder == nil {
		return nil, false, false, nil
	}
	if !ino.holder.announced {
		return nil, false, true, nil
	}
	info, err = readInfo(ino.holder.f)
	return info, err == nil, true, err
}

// heldRange tests a byte's lock from another process.
func heldRange(f *os.File, off int64) (bool, error) {
	return testLock(f, unix.F_GETLK, off)
}
