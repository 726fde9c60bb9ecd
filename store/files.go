package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A ledger is named by many paths (a symbolic link, a relative or an
// absolute path) but is one real file: what pregon keeps beside it, the
// campaign locks, lies beside the real file, as SQLite's -wal does.

// resolve returns the real file that a ledger path names. The file need
// not exist; a symbolic link to a file that does not exist is refused.
func resolve(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err == nil {
		return real, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if fi, err := os.Lstat(abs); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		dest, _ := os.Readlink(abs)
		return "", fmt.Errorf("%s is a symbolic link to %s, which does not exist: pregon never makes a ledger through a link; to make it there, give that path itself", path, dest)
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.Base(abs)), nil
}
