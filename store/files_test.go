package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A symbolic link the user made to a ledger is followed: SQLite's files
// and the locks live beside the real file, whatever name opened it.
func TestALedgerThroughASymbolicLink(t *testing.T) {
	ledger, link, _ := ledgerNames(t)
	ctx := context.Background()
	l, err := Open(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	real, _ := filepath.EvalSymlinks(ledger)
	if l.Path() != real {
		t.Errorf("Path() = %s, want the real file %s", l.Path(), real)
	}
	if _, err := l.Register(ctx, "c", "f", platform, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(ledger + "-wal"); err != nil {
		t.Errorf("no -wal beside the real file: %v", err)
	}
	if strays, _ := filepath.Glob(link + "-*"); len(strays) != 0 {
		t.Errorf("files beside the link: %v", strays)
	}
	ro, err := OpenReadOnly(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, ok, err := ro.Lookup(ctx, "c"); !ok || err != nil {
		t.Errorf("the campaign is not seen through the link: %v", err)
	}
}

// A symbolic link planted where the ledger would be made, or in place of
// its -wal or -shm, is never followed.
func TestNoLedgerFileThroughAPlantedLink(t *testing.T) {
	ctx := context.Background()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}

	dangling := filepath.Join(t.TempDir(), "new.db")
	if err := os.Symlink(victim+".db", dangling); err != nil {
		t.Skipf("cannot make a symbolic link here: %v", err)
	}
	if l, err := Open(ctx, dangling); err == nil {
		l.Close()
		t.Error("a ledger was made through a dangling link")
	}
	if _, err := os.Lstat(victim + ".db"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the link's target was created: %v", err)
	}

	ledger, _, _ := ledgerNames(t)
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Symlink(victim, ledger+suffix); err != nil {
			t.Fatal(err)
		}
		if l, err := Open(ctx, ledger); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			if err == nil {
				l.Close()
			}
			t.Errorf("Open beside a planted %s link: %v", suffix, err)
		}
		if l, err := OpenReadOnly(ctx, ledger); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			if err == nil {
				l.Close()
			}
			t.Errorf("OpenReadOnly beside a planted %s link: %v", suffix, err)
		}
		os.Remove(ledger + suffix)
	}
	fi, err := os.Stat(victim)
	if data, _ := os.ReadFile(victim); err != nil || string(data) != "keep me" || fi.Mode().Perm() != 0o644 {
		t.Errorf("the planted links' target: %q, mode %v (%v)", data, fi.Mode(), err)
	}
}

// A ledger with a second name (a hard link) is refused: two runs through
// two names would each get a journal and a lock of their own.
func TestALedgerWithTwoNamesIsRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "l.db")
	l, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := os.Link(path, filepath.Join(dir, "hl.db")); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	for _, name := range []string{path, filepath.Join(dir, "hl.db")} {
		if _, err := Open(context.Background(), name); err == nil || !strings.Contains(err.Error(), "hard links") {
			t.Errorf("Open(%s) = %v, want a refusal", name, err)
		}
	}
}
