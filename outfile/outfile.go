// Package outfile writes the files pregon's commands produce (an export, a
// report, a starter campaign) so that writing one can never destroy a
// ledger and never leaves half a file behind.
//
// Write refuses a target that is a ledger or one of the ledger's own files
// (its -wal, -shm and -journal files and its campaign lock files), however
// the path names it: by file identity for the files that exist, by
// directory and name for those that do not yet. It also refuses any SQLite
// database and the -wal, -shm, -journal or lock file beside one, whether or
// not the caller named it as a ledger; a symbolic link; anything but a
// regular file; and an existing file unless the caller passes Force. It
// writes to a new file with mode 0600 in the target's directory, syncs it
// and renames it into place.
//
// It is for this program's commands: its errors speak of their -force and
// -o flags. It does not lock (two commands writing one path at once leave
// one of the two complete files), does not create directories, and does
// not clean up after a killed process: a write cut short by kill -9 or a
// power cut can leave a hidden .pregon-*.tmp file beside the target, never
// a damaged target.
package outfile

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Options say what Write may replace.
type Options struct {
	// Force replaces an existing file. It never replaces a ledger's file.
	Force bool
	// Ledgers are the ledgers' paths, which must never be written over;
	// Write derives their -wal, -shm, -journal and lock files.
	Ledgers []string
}

// The reasons Write refuses a target; an *Error carries one of them.
var (
	ErrExists  = errors.New("file exists")
	ErrLedger  = errors.New("file of a ledger")
	ErrLink    = errors.New("symbolic link")
	ErrNotFile = errors.New("not a regular file")
)

// Error says which target Write refused and why.
type Error struct {
	Path   string // the target
	Err    error  // ErrExists, ErrLedger, ErrLink or ErrNotFile
	Ledger string // with ErrLedger: the ledger the target belongs to
	File   string // with ErrLedger: the ledger's file the target is
}

func (e *Error) Error() string {
	switch e.Err {
	case ErrExists:
		return fmt.Sprintf("%s already exists; add -force to replace it, or choose another name", e.Path)
	case ErrLedger:
		what := "the ledger " + e.Ledger
		if e.File != e.Ledger {
			what = e.File + ", a file of the ledger " + e.Ledger
		}
		return fmt.Sprintf("refusing to write %s: it is %s, the record of who already got the message; choose another name", e.Path, what)
	case ErrLink:
		return fmt.Sprintf("refusing to write %s: it is a symbolic link; give the path of the file itself, or choose another name", e.Path)
	case ErrNotFile:
		return fmt.Sprintf("refusing to write %s: it is not a regular file; choose a file name, or leave out -o to write to standard output", e.Path)
	}
	return fmt.Sprintf("write %s: %v", e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Write creates the file at path with what write writes, or leaves
// everything as it was. A refused target is an *Error; write's own error
// is returned as it is.
func Write(path string, opts Options, write func(w io.Writer) error) error {
	if err := check(path, opts); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := createTemp(dir)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	placed := false
	defer func() {
		if !placed {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// An export can take minutes: look again just before the file appears.
	if err := check(path, opts); err != nil {
		return err
	}
	if err := place(f.Name(), path, opts.Force); err != nil {
		return err
	}
	placed = true
	// The file is complete and in place; a directory that cannot be synced
	// (some network file systems) only makes the rename less durable.
	_ = syncDir(dir)
	return nil
}

// place gives the written temporary file its name.
func place(tmp, path string, force bool) error {
	if force {
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}
	// A hard link never replaces: a file that appeared since check stays.
	err := os.Link(tmp, path)
	if err == nil {
		if err := os.Remove(tmp); err != nil {
			return fmt.Errorf("write %s: remove the temporary file: %w", path, err)
		}
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return &Error{Path: path, Err: ErrExists}
	}
	// Some file systems have no hard links (FAT, some network shares).
	if _, err := os.Lstat(path); err == nil {
		return &Error{Path: path, Err: ErrExists}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func createTemp(dir string) (*os.File, error) {
	for range 10 {
		f, err := openExclusive(filepath.Join(dir, ".pregon-"+rand.Text()[:16]+".tmp"))
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, errors.New("no free name for a temporary file")
}

// check says whether path may be written.
func check(path string, opts Options) error {
	dir, base := filepath.Dir(path), filepath.Base(path)
	dirInfo, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if ledger, file := ofLedgers(path, dirInfo, opts.Ledgers); ledger != "" {
		return &Error{Path: path, Err: ErrLedger, Ledger: ledger, File: file}
	}
	if db := databaseOf(dir, base); db != "" {
		return &Error{Path: path, Err: ErrLedger, Ledger: db, File: path}
	}
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("write %s: %w", path, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return &Error{Path: path, Err: ErrLink}
	case !fi.Mode().IsRegular():
		return &Error{Path: path, Err: ErrNotFile}
	case isDatabase(path):
		return &Error{Path: path, Err: ErrLedger, Ledger: path, File: path}
	case !opts.Force:
		return &Error{Path: path, Err: ErrExists}
	}
	return nil
}

// companions are the suffixes of the files SQLite keeps beside a database.
var companions = []string{"-wal", "-shm", "-journal"}

// ofLedgers returns the ledger and the ledger's file that path is, or "".
// Files that exist are compared by identity, so another spelling of the
// path, a hard link or a symbolic link is caught; a file that does not
// exist yet (a ledger's -wal appears while a run has it open) is compared
// by directory and name.
func ofLedgers(path string, dirInfo fs.FileInfo, ledgers []string) (ledger, file string) {
	target, _ := os.Stat(path) // nil when path does not exist
	base := filepath.Base(path)
	for _, l := range ledgers {
		names := []string{l}
		// SQLite keeps the -wal beside the file a symbolic link points to.
		if real, err := filepath.EvalSymlinks(l); err == nil && real != l {
			names = append(names, real)
		}
		for _, name := range names {
			if isLockOf(base, filepath.Base(name)) && inDir(dirInfo, name) {
				return l, path
			}
			for _, f := range ledgerFiles(name) {
				if target != nil {
					if fi, err := os.Stat(f); err == nil && os.SameFile(target, fi) {
						return l, f
					}
				}
				if filepath.Base(f) == base && inDir(dirInfo, f) {
					return l, f
				}
			}
		}
	}
	return "", ""
}

// ledgerFiles are the ledger's own files: the database, SQLite's files
// beside it, and the campaign lock files there are.
func ledgerFiles(ledger string) []string {
	files := []string{ledger}
	for _, s := range companions {
		files = append(files, ledger+s)
	}
	dir, base := filepath.Dir(ledger), filepath.Base(ledger)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if isLockOf(e.Name(), base) {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	return files
}

// isLockOf reports whether name is a campaign lock file of the ledger
// named base: store names them LEDGER.CAMPAIGN-HASH.lock.
func isLockOf(name, base string) bool {
	return strings.HasPrefix(name, base+".") && strings.HasSuffix(name, ".lock")
}

// inDir reports whether file's directory is dir.
func inDir(dir fs.FileInfo, file string) bool {
	fi, err := os.Stat(filepath.Dir(file))
	return err == nil && os.SameFile(dir, fi)
}

// databaseOf returns the SQLite database in dir whose -wal, -shm,
// -journal or lock file base is named, or "": a ledger the command was not
// told about is protected too.
func databaseOf(dir, base string) string {
	var candidates []string
	for _, s := range companions {
		if db, ok := strings.CutSuffix(base, s); ok && db != "" {
			candidates = append(candidates, db)
		}
	}
	if strings.HasSuffix(base, ".lock") {
		for i, r := range base {
			if r == '.' && i > 0 {
				candidates = append(candidates, base[:i])
			}
		}
	}
	for _, c := range candidates {
		db := filepath.Join(dir, c)
		if fi, err := os.Stat(db); err == nil && fi.Mode().IsRegular() && isDatabase(db) {
			return db
		}
	}
	return ""
}

// isDatabase reports whether the regular file at path starts as an SQLite
// database or write-ahead log does.
func isDatabase(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	return bytes.HasPrefix(head, []byte("SQLite format 3\x00")) ||
		bytes.HasPrefix(head, []byte{0x37, 0x7f, 0x06, 0x82}) ||
		bytes.HasPrefix(head, []byte{0x37, 0x7f, 0x06, 0x83})
}
