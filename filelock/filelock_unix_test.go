//go:build unix

package filelock

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/pregon/pregon/internal/testfs"
)

// A pipe planted at a lock file's name neither hangs Open nor Probe.
func TestAPipeIsRefused(t *testing.T) {
	name := filepath.Join(testfs.TempDir(t), "l.lock")
	if err := syscall.Mkfifo(name, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(name); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Open: %v, want ErrNotRegular", err)
	}
	if _, _, err := Probe(name); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Probe: %v, want ErrNotRegular", err)
	}
}
