//go:build windows || (linux && !filelock_posix)

package filelock

import (
	"errors"
	"io/fs"
)

// Here a lock belongs to the open file (Linux's open file description
// locks, Windows's handles): every File is a holder of its own, and a
// descriptor can be opened and closed at any time.

type sysFile struct{}

func open(name string) (*File, error) {
	f, err := openFile(name, true)
	if err != nil {
		return nil, err
	}
	return &File{f: f}, nil
}

func (f *File) tryLock() error { return lockRange(f.f, lockByte, false) }

func (f *File) announce(info []byte) error {
	if f.announced {
		if err := unlockRange(f.f, liveByte); err != nil {
			return err
		}
		f.announced = false
	}
	if err := writeInfo(f.f, info); err != nil {
		return err
	}
	// Waits only for a Windows Probe's instant.
	if err := lockRange(f.f, liveByte, true); err != nil {
		return err
	}
	f.announced = true
	return nil
}

func (f *File) unlock() error {
	var errs []error
	if f.announced {
		errs = append(errs, unlockRange(f.f, liveByte))
	}
	errs = append(errs, f.f.Truncate(0), unlockRange(f.f, lockByte))
	return errors.Join(errs...)
}

func (f *File) close() error { return f.f.Close() }

func probe(name string) ([]byte, bool, error) {
	f, err := openFile(name, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	return probeFile(f)
}
