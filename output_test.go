package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pregon/pregon/sender/sendertest"
	"github.com/pregon/pregon/store"
)

// sentLedger sends campaign "x" to three contacts, one refused, and
// returns the ledger.
func sentLedger(t *testing.T) (dir, ledger string) {
	t.Helper()
	t.Setenv(tokenEnv, "t")
	dir = t.TempDir()
	camp := writeTemp(t, dir, "c.json", `{"name":"x","api":"v2","defaultCountry":"EC","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	csv := writeTemp(t, dir, "clientes.csv", "phone,nombre\n+593991000001,Ana\n+593991000002,Luis\n+593991000003,Eva\n")
	fake := sendertest.NewServer(t, sendertest.Config{Respond: func(r *sendertest.Request) (int, string) {
		if r.Contact == "phone:+593991000003" {
			return 403, "Contact has opted out"
		}
		return 0, ""
	}})
	ledger = filepath.Join(dir, "l.db")
	if code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL); code != exitIncomplete {
		t.Fatalf("send: exit %d: %s", code, errOut)
	}
	return dir, ledger
}

// outputCommand is export or report writing to out.
func outputCommand(command, ledger, out string, extra ...string) []string {
	return append([]string{command, "-ledger", ledger, "-campaign", "x", "-o", out}, extra...)
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// export -o and report -o onto the ledger or any of its files are refused,
// -force or not, while a run has the ledger open and while nothing does;
// the ledger keeps every contact's state.
func TestExportAndReportRefuseTheLedger(t *testing.T) {
	dir, ledger := sentLedger(t)
	lock, err := store.Acquire(ledger, "x") // leaves the campaign's lock file, as a run does
	if err != nil {
		t.Fatal(err)
	}
	lock.Release()
	locks, _ := filepath.Glob(filepath.Join(dir, "l.db.*.lock"))
	if len(locks) != 1 {
		t.Fatalf("lock files: %q", locks)
	}
	elsewhere := t.TempDir()
	symlink := filepath.Join(elsewhere, "link.csv")
	if err := os.Symlink(ledger, symlink); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	sep := string(filepath.Separator)
	targets := []string{ledger, dir + sep + "sub" + sep + ".." + sep + "l.db", ledger + "-wal", ledger + "-shm",
		locks[0], symlink}
	before := status(t, ledger)
	ledgerBytes := mustRead(t, ledger)

	check := func(when string) {
		t.Helper()
		for _, command := range []string{"export", "report"} {
			for _, target := range targets {
				for _, force := range [][]string{nil, {"-force"}} {
					code, out, errOut := pregon(t, outputCommand(command, ledger, target, force...)...)
					if code != exitUsage || out != "" || !strings.HasPrefix(errOut, "pregon: "+command+": refusing to write "+target+": it is ") ||
						!strings.Contains(errOut, "the record of who already got the message; choose another name") {
						t.Errorf("%s: %s -o %s %v: exit %d: %s", when, command, target, force, code, errOut)
					}
				}
			}
		}
	}
	check("ledger closed") // its -wal and -shm do not exist: refused by name
	held, err := store.Open(context.Background(), ledger)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ledger + "-wal"); err != nil {
		t.Fatalf("an open ledger has no -wal: %v", err)
	}
	check("ledger open") // its -wal and -shm exist: refused by identity
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}

	if got := mustRead(t, ledger); string(got) != string(ledgerBytes) {
		t.Errorf("the ledger changed: %d bytes, was %d", len(got), len(ledgerBytes))
	}
	if after := status(t, ledger); !reflect.DeepEqual(after, before) {
		t.Errorf("status after the refused writes:\n%+v\nwant\n%+v", after, before)
	}
	if st := status(t, ledger); len(st) != 1 || st[0].Sent != 2 || st[0].Failed != 1 {
		t.Errorf("status = %+v", st)
	}
	// A hard link to the ledger as the output: refused (a ledger with two
	// names is not even opened), and the ledger is untouched.
	hardlink := filepath.Join(elsewhere, "hard.csv")
	if err := os.Link(ledger, hardlink); err != nil {
		t.Fatal(err)
	}
	for _, command := range []string{"export", "report"} {
		if code, _, _ := pregon(t, command, "-ledger", ledger, "-campaign", "x", "-o", hardlink, "-force"); code == 0 {
			t.Errorf("%s -o a hard link to the ledger succeeded", command)
		}
	}
	os.Remove(hardlink)
	if got := mustRead(t, ledger); string(got) != string(ledgerBytes) {
		t.Errorf("the ledger changed through its hard link")
	}
}

// Another ledger the command was not told about is not written over
// either.
func TestExportAndReportRefuseAnotherLedger(t *testing.T) {
	dir, ledger := sentLedger(t)
	other := filepath.Join(dir, "otra.db")
	l, err := store.Open(context.Background(), other)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	for _, command := range []string{"export", "report"} {
		code, _, errOut := pregon(t, outputCommand(command, ledger, other, "-force")...)
		want := "pregon: " + command + ": refusing to write " + other + ": it is the ledger " + other + ", the record of who already got the message; choose another name\n"
		if code != exitUsage || errOut != want {
			t.Errorf("%s: exit %d: %s", command, code, errOut)
		}
	}
	l, err = store.OpenReadOnly(context.Background(), other)
	if err != nil {
		t.Fatalf("the other ledger no longer opens: %v", err)
	}
	l.Close()
}

// A file the user may be editing is kept unless -force; -force replaces
// it with a 0600 file, whatever the old file's mode, as a new file is.
func TestExportAndReportRefuseAnExistingFileUnlessForced(t *testing.T) {
	dir, ledger := sentLedger(t)
	for _, command := range []string{"export", "report"} {
		fresh := filepath.Join(dir, command+".new")
		if code, _, errOut := pregon(t, outputCommand(command, ledger, fresh)...); code != 0 {
			t.Fatalf("%s: exit %d: %s", command, code, errOut)
		}
		if m := mode(t, fresh); m != 0o600 {
			t.Errorf("%s: new file mode %v, want 0600", command, m)
		}
	}
	for _, tc := range []struct{ command, file, starts string }{
		{"export", "revisar.csv", "\uFEFFphone;nombre;pregon_file;pregon_line"},
		{"report", "informe.html", "<!DOCTYPE html>"},
	} {
		out := filepath.Join(dir, tc.file)
		writeTemp(t, dir, tc.file, "being edited")
		if err := os.Chmod(out, 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := pregon(t, outputCommand(tc.command, ledger, out)...)
		want := "pregon: " + tc.command + ": " + out + " already exists; add -force to replace it, or choose another name\n"
		if code != exitUsage || errOut != want {
			t.Errorf("%s onto an existing file: exit %d: %q\nwant %q", tc.command, code, errOut, want)
		}
		if got := mustRead(t, out); string(got) != "being edited" {
			t.Errorf("%s: the refused file now holds %q", tc.command, got)
		}

		if code, _, errOut := pregon(t, outputCommand(tc.command, ledger, out, "-force")...); code != 0 {
			t.Fatalf("%s -force: exit %d: %s", tc.command, code, errOut)
		}
		if got := mustRead(t, out); !strings.HasPrefix(string(got), tc.starts) {
			t.Errorf("%s -force wrote %.60q", tc.command, got)
		}
		if m := mode(t, out); m != 0o600 {
			t.Errorf("%s -force: mode %v, want 0600 (the old file was 0644)", tc.command, m)
		}
	}
}

func TestInitRefusesAnExistingFileUnlessForced(t *testing.T) {
	dir := t.TempDir()
	out := writeTemp(t, dir, "promo.json", "being edited")
	if err := os.Chmod(out, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"init", "-contacts", sample("promo-excel.csv"), "-o", out}
	code, _, errOut := pregon(t, args...)
	want := "pregon: init: " + out + " already exists; add -force to replace it, or choose another name\n"
	if code != exitUsage || errOut != want {
		t.Errorf("exit %d: %q\nwant %q", code, errOut, want)
	}
	if got := mustRead(t, out); string(got) != "being edited" {
		t.Errorf("the refused file now holds %q", got)
	}
	if code, _, errOut := pregon(t, append(args, "-force")...); code != 0 {
		t.Fatalf("init -force: exit %d: %s", code, errOut)
	}
	if got := mustRead(t, out); !strings.Contains(string(got), `"column": "Teléfono"`) {
		t.Errorf("init -force wrote %s", got)
	}
	if m := mode(t, out); m != 0o600 {
		t.Errorf("init -force: mode %v, want 0600 (the old file was 0644)", m)
	}
	fresh := filepath.Join(dir, "nueva.json")
	if code, _, errOut := pregon(t, "init", "-contacts", sample("promo-excel.csv"), "-o", fresh); code != 0 {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	if m := mode(t, fresh); m != 0o600 {
		t.Errorf("init: mode %v, want 0600", m)
	}
}

// init has no -ledger: the default ledgers beside its output, made or not,
// and any ledger there are never its output.
func TestInitRefusesTheLedgers(t *testing.T) {
	dir := t.TempDir()
	ledger := filepath.Join(dir, defaultLedger)
	l, err := store.Open(context.Background(), ledger)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{ledger, ledger + "-wal", ledger + "-shm",
		filepath.Join(dir, defaultSandboxLedger), filepath.Join(dir, defaultSandboxLedger+"-wal")} {
		code, _, errOut := pregon(t, "init", "-contacts", sample("promo-excel.csv"), "-o", out, "-force")
		if code != exitUsage || !strings.HasPrefix(errOut, "pregon: init: refusing to write "+out+": it is ") {
			t.Errorf("init -o %s: exit %d: %s", out, code, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, defaultSandboxLedger)); !os.IsNotExist(err) {
		t.Errorf("init made %s: %v", defaultSandboxLedger, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = store.OpenReadOnly(context.Background(), ledger)
	if err != nil {
		t.Fatalf("the ledger no longer opens: %v", err)
	}
	l.Close()
}
