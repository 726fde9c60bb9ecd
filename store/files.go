package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A ledger is one real file. A symbolic link that the user made at the
// ledger's path is followed, once, when the ledger is opened, and from
// then on only the real file's path is used: SQLite's -wal and -shm, and
// the campaign locks, lie beside the real file, so every name of a ledger
// meets the same ones. What pregon makes itself beside that file (-wal,
// -shm, -journal, the locks) is never reached through a symbolic link, and
// no file is ever created through one.

// companions are the files SQLite keeps beside a database.
var companions = []string{"-wal", "-shm", "-journal"}

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

// ledgerFile returns the real file of the ledger at path, created with
// mode 0600 when create is set and it does not exist, after checking that
// it and SQLite's files beside it are regular files, not symbolic links.
func ledgerFile(path string, create bool) (string, error) {
	real, err := resolve(path)
	if err != nil {
		return "", err
	}
	if create {
		// O_EXCL never follows a symbolic link, on any system.
		f, err := os.OpenFile(real, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			f.Close()
		} else if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	for _, name := range append([]string{real}, companionsOf(real)...) {
		fi, err := os.Lstat(name)
		switch {
		case errors.Is(err, fs.ErrNotExist) && name != real:
		case err != nil:
			return "", err
		case fi.Mode()&fs.ModeSymlink != 0:
			return "", fmt.Errorf("%s is a symbolic link; pregon never follows one in place of a ledger's own file: remove it", name)
		case !fi.Mode().IsRegular():
			return "", fmt.Errorf("%s is not a regular file", name)
		case name == real && links(fi) > 1:
			// SQLite keeps its journal beside the name it was given, and
			// the campaign lock beside the ledger's real path: a second
			// name would get a journal and a lock of its own, and two runs
			// through two names would both send (and corrupt the file).
			return "", fmt.Errorf("%s has %d names (hard links): a ledger must have one, or two runs could send through two names at once; "+
				"remove the other names (find them with: find / -samefile %s)", name, links(fi), name)
		}
	}
	return real, nil
}

func companionsOf(real string) []string {
	var out []string
	for _, s := range companions {
		out = append(out, real+s)
	}
	return out
}
