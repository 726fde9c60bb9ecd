package outfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func mustWrite(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

// names lists dir, so a test can see that no temporary file was left.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestWriteNewFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	if err := Write(path, Options{}, writeString("a;b\r\n")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "a;b\r\n" {
		t.Errorf("content = %q", got)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	if got := names(t, dir); !slices.Equal(got, []string{"out.csv"}) {
		t.Errorf("directory holds %q", got)
	}
}

func TestWriteExisting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "revisar.csv")
	mustWrite(t, path, "being edited", 0o644)

	err := Write(path, Options{}, writeString("new"))
	want := path + " already exists; add -force to replace it, or choose another name"
	if !errors.Is(err, ErrExists) || err.Error() != want {
		t.Errorf("without Force: %v\nwant %s", err, want)
	}
	if got, _ := os.ReadFile(path); string(got) != "being edited" {
		t.Errorf("refused file now holds %q", got)
	}

	if err := Write(path, Options{Force: true}, writeString("new")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "new" {
		t.Errorf("forced file holds %q", got)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("forced file mode = %v, want 0600 (it was 0644)", fi.Mode().Perm())
	}
	if got := names(t, dir); !slices.Equal(got, []string{"revisar.csv"}) {
		t.Errorf("directory holds %q", got)
	}
}

// Every way of naming a ledger's file is refused, Force or not, and the
// file is untouched.
func TestWriteRefusesTheLedger(t *testing.T) {
	dir := t.TempDir()
	ledger := filepath.Join(dir, "l.db")
	other := t.TempDir()
	files := map[string]string{
		ledger:                               "ledger", // not an SQLite header: identity alone must catch it
		ledger + "-wal":                      "wal",
		ledger + "-shm":                      "shm",
		ledger + ".promo-1a2b3c4d.lock":      "lock",
		filepath.Join(other, "otherdir.txt"): "x",
	}
	for p, c := range files {
		mustWrite(t, p, c, 0o600)
	}
	hard := filepath.Join(other, "hard.csv")
	if err := os.Link(ledger, hard); err != nil {
		t.Fatal(err)
	}
	hardWAL := filepath.Join(other, "hard-wal.csv")
	if err := os.Link(ledger+"-wal", hardWAL); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(other, "link.csv")
	if err := os.Symlink(ledger, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	linkedLedger := filepath.Join(other, "linked.db") // a -ledger that is a link
	if err := os.Symlink(ledger, linkedLedger); err != nil {
		t.Fatal(err)
	}

	const sep = string(filepath.Separator)
	cases := []struct {
		name, target, ledger, file string
	}{
		{"the ledger", ledger, ledger, ledger},
		{"another spelling", dir + sep + "sub" + sep + ".." + sep + "." + sep + "l.db", ledger, ledger}, // not cleaned
		{"its -wal", ledger + "-wal", ledger, ledger + "-wal"},
		{"its -shm", ledger + "-shm", ledger, ledger + "-shm"},
		{"its -journal, not there yet", ledger + "-journal", ledger, ledger + "-journal"},
		{"its lock", ledger + ".promo-1a2b3c4d.lock", ledger, ledger + ".promo-1a2b3c4d.lock"},
		{"a lock not made yet", ledger + ".otra-00000000.lock", ledger, ledger + ".otra-00000000.lock"},
		{"a hard link to it", hard, ledger, ledger},
		{"a hard link to its -wal", hardWAL, ledger, ledger + "-wal"},
		{"a symbolic link to it", link, ledger, ledger},
		{"through a linked -ledger", ledger + "-wal", linkedLedger, ledger + "-wal"},
	}
	for _, tc := range cases {
		for _, force := range []bool{false, true} {
			err := Write(tc.target, Options{Force: force, Ledgers: []string{filepath.Join(other, "otherdir.txt"), tc.ledger}}, writeString("a;b\r\n"))
			var e *Error
			if !errors.As(err, &e) || e.Err != ErrLedger || e.Ledger != tc.ledger || e.File != tc.file {
				t.Errorf("%s (force %v): %v, want ErrLedger for %s of %s", tc.name, force, err, tc.file, tc.ledger)
			}
		}
	}
	for p, c := range files {
		if got, err := os.ReadFile(p); err != nil || string(got) != c {
			t.Errorf("%s: %q, %v; want %q", p, got, err, c)
		}
	}
	want := []string{"l.db", "l.db-shm", "l.db-wal", "l.db.promo-1a2b3c4d.lock", "sub"}
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Errorf("ledger's directory holds %q, want %q", got, want)
	}
}

func TestWriteLedgerErrorWords(t *testing.T) {
	dir := t.TempDir()
	ledger := filepath.Join(dir, "l.db")
	mustWrite(t, ledger, "", 0o600)
	cases := []struct{ target, want string }{
		{ledger, "refusing to write " + ledger + ": it is the ledger " + ledger + ", the record of who already got the message; choose another name"},
		{ledger + "-wal", "refusing to write " + ledger + "-wal: it is " + ledger + "-wal, a file of the ledger " + ledger + ", the record of who already got the message; choose another name"},
	}
	for _, tc := range cases {
		if err := Write(tc.target, Options{Ledgers: []string{ledger}}, writeString("x")); err == nil || err.Error() != tc.want {
			t.Errorf("got  %v\nwant %s", err, tc.want)
		}
	}
}

// A database the command was not told about is protected too.
func TestWriteRefusesAnySQLiteDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "otra-campana.db")
	mustWrite(t, db, "SQLite format 3\x00rest of the header", 0o600)
	wal := filepath.Join(dir, "x.csv")
	mustWrite(t, wal, "\x37\x7f\x06\x82 a write-ahead log", 0o600)
	for _, target := range []string{db, db + "-wal", db + "-shm", db + ".promo-1a2b3c4d.lock", wal} {
		err := Write(target, Options{Force: true}, writeString("x"))
		if !errors.Is(err, ErrLedger) {
			t.Errorf("%s: %v, want ErrLedger", target, err)
		}
	}
	if got, _ := os.ReadFile(db); string(got) != "SQLite format 3\x00rest of the header" {
		t.Errorf("database now holds %q", got)
	}
}

func TestWriteRefusesLinksAndNonFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.csv")
	mustWrite(t, file, "keep", 0o600)
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling.csv")
	if err := os.Symlink(filepath.Join(dir, "none"), dangling); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		target string
		err    error
		words  string
	}{
		{link, ErrLink, "refusing to write " + link + ": it is a symbolic link; give the path of the file itself, or choose another name"},
		{dangling, ErrLink, "refusing to write " + dangling + ": it is a symbolic link; give the path of the file itself, or choose another name"},
		{dir, ErrNotFile, "refusing to write " + dir + ": it is not a regular file; choose a file name, or leave out -o to write to standard output"},
	}
	for _, tc := range cases {
		err := Write(tc.target, Options{Force: true}, writeString("x"))
		if !errors.Is(err, tc.err) || err.Error() != tc.words {
			t.Errorf("got  %v\nwant %s", err, tc.words)
		}
	}
	if got, _ := os.ReadFile(file); string(got) != "keep" {
		t.Errorf("file behind the link holds %q", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "none")); !os.IsNotExist(err) {
		t.Errorf("the dangling link's target was created: %v", err)
	}
}

// A writer that fails halfway leaves no file, no temporary file, and an
// existing file as it was.
func TestWriteFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	fail := errors.New("ledger read failed")
	half := func(w io.Writer) error {
		io.WriteString(w, "half a file")
		return fail
	}
	path := filepath.Join(dir, "new.csv")
	if err := Write(path, Options{}, half); err != fail {
		t.Errorf("err = %v, want the writer's own error", err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("a failed write left %s: %v", path, err)
	}
	old := filepath.Join(dir, "old.csv")
	mustWrite(t, old, "the old export", 0o644)
	if err := Write(old, Options{Force: true}, half); err != fail {
		t.Errorf("err = %v, want the writer's own error", err)
	}
	if got, _ := os.ReadFile(old); string(got) != "the old export" {
		t.Errorf("a failed forced write left %q", got)
	}
	func() {
		defer func() { recover() }()
		Write(path, Options{}, func(w io.Writer) error { panic("writer bug") })
	}()
	if got := names(t, dir); !slices.Equal(got, []string{"old.csv"}) {
		t.Errorf("directory holds %q, want only old.csv", got)
	}
}

// A file that appears while the export is being written is not replaced.
func TestWriteDoesNotReplaceAFileMadeMeanwhile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "revisar.csv")
	err := Write(path, Options{}, func(w io.Writer) error {
		mustWrite(t, path, "saved by the user meanwhile", 0o644)
		_, err := io.WriteString(w, "export")
		return err
	})
	if !errors.Is(err, ErrExists) {
		t.Errorf("err = %v, want ErrExists", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "saved by the user meanwhile" {
		t.Errorf("file holds %q", got)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"revisar.csv"}) {
		t.Errorf("directory holds %q", got)
	}
}

func TestWriteIntoMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "out.csv")
	err := Write(path, Options{}, writeString("x"))
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "write "+path+": ") {
		t.Errorf("err = %v", err)
	}
}
