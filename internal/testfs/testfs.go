// Package testfs holds file-system helpers for tests that run on Windows
// as well, including under Wine (CI runs the lock tests there). It is
// imported by tests only.
package testfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TempDir is t.TempDir, removed name by name with os.Remove. Go 1.26's
// os.RemoveAll deletes through FileDispositionInformationEx on Windows,
// which Wine 8 (Debian 12's) does not implement: t.TempDir's own cleanup
// then fails every test that ran there.
func TempDir(t testing.TB) string {
	t.Helper()
	pattern := strings.NewReplacer("/", "_", `\`, "_", ":", "_").Replace(t.Name())
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeTree(dir); err != nil {
			t.Errorf("remove the test's directory: %v", err)
		}
	})
	return dir
}

// removeTree removes dir and everything under it, deepest first.
func removeTree(dir string) error {
	var names []string
	err := filepath.WalkDir(dir, func(name string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		names = append(names, name)
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	for i := len(names) - 1; i >= 0; i-- {
		if err := os.Remove(names[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ErrNoSymlink: the system said it made a symbolic link, and there is
// none (Wine 8's CreateSymbolicLink succeeds without making one).
var ErrNoSymlink = errors.New("the system made no symbolic link")

// Symlink makes newname a symbolic link to oldname, and checks that it is
// one. Windows needs a privilege (or Developer Mode) to make one: callers
// skip what they cannot test when it fails.
func Symlink(oldname, newname string) error {
	if err := os.Symlink(oldname, newname); err != nil {
		return err
	}
	if fi, err := os.Lstat(newname); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		os.Remove(newname)
		return &os.LinkError{Op: "symlink", Old: oldname, New: newname, Err: ErrNoSymlink}
	}
	return nil
}
