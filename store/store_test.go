package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pregon/pregon/campaign"
)

// platform is where tests send unless they are about destinations.
var platform = Destination{API: "v2", BaseURL: "https://api.example.com"}

func openTemp(t testing.TB, opts ...Option) (*Ledger, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pregon.db")
	l, err := Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

func msg(line int, contact, payload string) campaign.Message {
	return campaign.Message{Line: line, Contact: contact, Path: "/v2/contact/" + contact + "/message", Payload: []byte(payload)}
}

// importAll imports msgs as one CSV and returns what the import found and
// the queue of this import.
func importAll(t *testing.T, l *Ledger, id CampaignID, msgs ...campaign.Message) (ImportResult, int64) {
	t.Helper()
	return importFile(t, l, id, "c.csv", msgs...)
}

func importFile(t *testing.T, l *Ledger, id CampaignID, source string, msgs ...campaign.Message) (ImportResult, int64) {
	t.Helper()
	return importHeader(t, l, id, source, []string{"phone", "nombre"}, msgs...)
}

func importHeader(t *testing.T, l *Ledger, id CampaignID, source string, header []string, msgs ...campaign.Message) (ImportResult, int64) {
	t.Helper()
	if userVersion(t, l) < 3 {
		return importFormat1(t, l, id, source, msgs...)
	}
	ctx := context.Background()
	im, err := l.Import(ctx, id, source, header)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := im.Add(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	res, err := im.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return res, im.Generation()
}

// importFormat1 imports distinct contacts into a ledger of a format before
// 4 as the pregon of formats 1 to 3 did, which had no headers table.
func importFormat1(t *testing.T, l *Ledger, id CampaignID, source string, msgs ...campaign.Message) (ImportResult, int64) {
	t.Helper()
	var gen int64
	if err := l.db.QueryRow(`UPDATE campaigns SET import_gen = import_gen + 1, header = '["phone","nombre"]'
		WHERE id = ? RETURNING import_gen`, id).Scan(&gen); err != nil {
		t.Fatal(err)
	}
	res := ImportResult{Rows: len(msgs)}
	for _, m := range msgs {
		state, reason, payload := campaign.Pending, sql.NullString{}, m.Payload
		if m.Problem != nil {
			// Format 1 wrote the problem as English prose.
			prose := fmt.Sprintf("column %q: %q %v", m.Problem.Column, m.Problem.Value, m.Problem.Err)
			state, reason, payload = campaign.Invalid, sql.NullString{String: prose, Valid: true}, []byte{}
			res.Invalid++
		} else {
			res.New++
		}
		if _, err := l.db.Exec(`INSERT INTO contacts (campaign_id, line, contact, path, payload, cells, source, state, error,
			seen_gen, created_at, updated_at) VALUES (?, ?, ?, ?, ?, '[]', ?, ?, ?, ?, '2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05.000Z')`,
			id, m.Line, m.Contact, m.Path, payload, source, state, reason, gen); err != nil {
			t.Fatal(err)
		}
	}
	return res, gen
}

func states(t *testing.T, l *Ledger, id CampaignID) map[string]campaign.State {
	t.Helper()
	cs, err := l.Contacts(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]campaign.State{}
	for _, c := range cs {
		key := c.Contact
		if c.State == campaign.Duplicate || c.State == campaign.Invalid {
			key = string(c.State) + "@" + itoa(c.Line)
		}
		out[key] = c.State
	}
	return out
}

func itoa(n int) string { return string(rune('0'+n/10)) + string(rune('0'+n%10)) }

func TestLedgerFileIsPrivate(t *testing.T) {
	_, path := openTemp(t)
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

func TestImportDeduplicatesAndResumes(t *testing.T) {
	l, _ := openTemp(t)
	ctx := context.Background()
	id, err := l.Register(ctx, "c", "fp", platform, false)
	if err != nil {
		t.Fatal(err)
	}
	bad := campaign.Message{Line: 4, Problem: &campaign.RowError{File: "c.csv", Line: 4, Column: "phone", Value: "12", Err: errors.New("is not a phone number")}}
	res, gen := importAll(t, l, id, msg(2, "phone:+1", "a"), msg(3, "phone:+2", "b"), bad, msg(5, "phone:+1", "a again"))
	if res.New != 2 || res.Invalid != 1 || res.Duplicate != 1 {
		t.Fatalf("first import: %+v", res)
	}
	want := map[string]campaign.State{"phone:+1": campaign.Pending, "phone:+2": campaign.Pending, "invalid@04": campaign.Invalid, "duplicate@05": campaign.Duplicate}
	if got := states(t, l, id); !equal(got, want) {
		t.Fatalf("states = %v, want %v", got, want)
	}

	// Send the first contact; the second is refused by the platform.
	q := l.Queue(id, gen, Eligible{})
	jobs, err := q.Next(ctx, 10)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("jobs = %v, %v", jobs, err)
	}
	for i, o := range []campaign.Outcome{{State: campaign.Sent, HTTPStatus: 200, MessageID: "77"}, {State: campaign.Failed, HTTPStatus: 403, Reason: optedOut, Permanent: true}} {
		if err := q.Attempt(ctx, jobs[i].ID); err != nil {
			t.Fatal(err)
		}
		if err := q.Record(ctx, jobs[i].ID, o); err != nil {
			t.Fatal(err)
		}
	}

	// The same CSV again: nothing is eligible, states unchanged.
	res, gen = importAll(t, l, id, msg(2, "phone:+1", "a"), msg(3, "phone:+2", "b"), bad, msg(5, "phone:+1", "a again"))
	if res.Done != 2 || res.New != 0 || res.Invalid != 1 || res.Duplicate != 1 {
		t.Fatalf("second import: %+v", res)
	}
	if got := states(t, l, id); !equal(got, map[string]campaign.State{"phone:+1": campaign.Sent, "phone:+2": campaign.Failed, "invalid@04": campaign.Invalid, "duplicate@05": campaign.Duplicate}) {
		t.Fatalf("states after re-import = %v", got)
	}
	if n, _ := l.Queue(id, gen, Eligible{}).Remaining(ctx); n != 0 {
		t.Errorf("remaining after re-import = %d, want 0", n)
	}
	// -retry-failed makes the refused one eligible, not the sent one.
	if jobs, _ := l.Queue(id, gen, Eligible{RetryFailed: true}).Next(ctx, 10); len(jobs) != 1 || jobs[0].Contact != "phone:+2" {
		t.Errorf("retry-failed jobs = %+v", jobs)
	}

	// The refused row is changed in the CSV: pending again with the new
	// message; the fixed invalid row becomes a contact.
	res, gen = importAll(t, l, id, msg(2, "phone:+1", "a"), msg(3, "phone:+2", "b fixed"), msg(4, "phone:+4", "d"))
	if res.Revived != 1 || res.New != 1 || res.Done != 1 {
		t.Fatalf("third import: %+v", res)
	}
	want = map[string]campaign.State{"phone:+1": campaign.Sent, "phone:+2": campaign.Pending, "phone:+4": campaign.Pending}
	if got := states(t, l, id); !equal(got, want) {
		t.Fatalf("states = %v, want %v", got, want)
	}
	jobs, _ = l.Queue(id, gen, Eligible{}).Next(ctx, 10)
	if len(jobs) != 2 || string(jobs[0].Payload) != "b fixed" {
		t.Errorf("jobs after fix = %+v", jobs)
	}
}

// A CSV that lists only some contacts (an export fixed and fed back) sends
// only those; the others are kept for the run that lists them again.
func TestPartialCSVKeepsTheOthers(t *testing.T) {
	l, _ := openTemp(t)
	ctx := context.Background()
	id, _ := l.Register(ctx, "c", "fp", platform, false)
	importAll(t, l, id, msg(2, "phone:+1", "a"), msg(3, "phone:+2", "b"), msg(4, "phone:+3", "c"))
	res, gen := importFile(t, l, id, "fixed.csv", msg(2, "phone:+2", "b"))
	if res.Absent != 2 {
		t.Errorf("absent = %d, want 2", res.Absent)
	}
	jobs, _ := l.Queue(id, gen, Eligible{}).Next(ctx, 10)
	if len(jobs) != 1 || jobs[0].Contact != "phone:+2" {
		t.Errorf("jobs = %+v, want only phone:+2", jobs)
	}
	if got := states(t, l, id); !equal(got, map[string]campaign.State{"phone:+1": campaign.Pending, "phone:+2": campaign.Pending, "phone:+3": campaign.Pending}) {
		t.Errorf("states = %v: nobody may be dropped", got)
	}
	// The full file again: everyone is there to send.
	_, gen = importAll(t, l, id, msg(2, "phone:+1", "a"), msg(3, "phone:+2", "b"), msg(4, "phone:+3", "c"))
	if n, _ := l.Queue(id, gen, Eligible{}).Remaining(ctx); n != 3 {
		t.Errorf("remaining = %d, want 3", n)
	}
}

func TestFixedInvalidRowReplacesItsRecord(t *testing.T) {
	l, _ := openTemp(t)
	ctx := context.Background()
	id, _ := l.Register(ctx, "c", "fp", platform, false)
	empty := campaign.Message{Line: 3, Contact: "phone:+2", Problem: &campaign.RowError{File: "c.csv", Line: 3, Column: "nombre", Err: errors.New("is empty")}}
	importAll(t, l, id, msg(2, "phone:+1", "a"), empty)
	// Fixed in an export file fed back: the invalid record goes, the
	// contact is pending.
	importFile(t, l, id, "export.csv", msg(2, "phone:+2", "b"))
	if got := states(t, l, id); !equal(got, map[string]campaign.State{"phone:+1": campaign.Pending, "phone:+2": campaign.Pending}) {
		t.Errorf("states = %v", got)
	}
}

func TestRecoverMarksInFlightUnknown(t *testing.T) {
	l, _ := openTemp(t)
	ctx := context.Background()
	id, _ := l.Register(ctx, "c", "fp", platform, false)
	_, gen := importAll(t, l, id, msg(2, "phone:+1", "a"), msg(3, "phone:+2", "b"))
	q := l.Queue(id, gen, Eligible{})
	jobs, _ := q.Next(ctx, 10)
	if err := q.Attempt(ctx, jobs[0].ID); err != nil { // then the process "dies"
		t.Fatal(err)
	}
	n, err := l.Recover(ctx, id)
	if err != nil || n != 1 {
		t.Fatalf("recover = %d, %v", n, err)
	}
	got := states(t, l, id)
	if got["phone:+1"] != campaign.Unknown || got["phone:+2"] != campaign.Pending {
		t.Errorf("states = %v", got)
	}
	// Unknown is never sent again unless asked.
	if jobs, _ := l.Queue(id, gen, Eligible{}).Next(ctx, 10); len(jobs) != 1 || jobs[0].Contact != "phone:+2" {
		t.Errorf("jobs = %+v", jobs)
	}
	if jobs, _ := l.Queue(id, gen, Eligible{ResendUnknown: true}).Next(ctx, 10); len(jobs) != 2 {
		t.Errorf("resend-unknown jobs = %+v", jobs)
	}
}

func TestAttemptRefusesContactNotWaiting(t *testing.T) {
	l, _ := openTemp(t)
	ctx := context.Background()
	id, _ := l.Register(ctx, "c", "fp", platform, false)
	_, gen := importAll(t, l, id, msg(2, "phone:+1", "a"))
	q := l.Queue(id, gen, Eligible{})
	jobs, _ := q.Next(ctx, 10)
	if err := q.Attempt(ctx, jobs[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := q.Record(ctx, jobs[0].ID, campaign.Outcome{State: campaign.Sent}); err != nil {
		t.Fatal(err)
	}
	if err := q.Attempt(ctx, jobs[0].ID); err == nil {
		t.Error("a second attempt at a sent contact was recorded")
	}
}

func TestRegisterNoticesChangedCampaign(t *testing.T) {
	l, _ := openTemp(t)
	ctx := context.Background()
	id, err := l.Register(ctx, "c", "v1", platform, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Register(ctx, "c", "v2", platform, false)
	var ce *ChangedError
	if !errors.As(err, &ce) || ce.Recorded != "v1" || ce.Current != "v2" {
		t.Fatalf("err = %v", err)
	}
	if id2, err := l.Register(ctx, "c", "v2", platform, true); err != nil || id2 != id {
		t.Fatalf("allow changed: %v %v", id2, err)
	}
}

func TestGroupCommitUnderConcurrency(t *testing.T) {
	l, _ := openTemp(t)
	ctx := context.Background()
	id, _ := l.Register(ctx, "c", "fp", platform, false)
	var msgs []campaign.Message
	for i := range 300 {
		msgs = append(msgs, msg(i+2, "id:"+itoa3(i), "x"))
	}
	_, gen := importAll(t, l, id, msgs...)
	q := l.Queue(id, gen, Eligible{})
	jobs, _ := q.Next(ctx, 1000)
	var wg sync.WaitGroup
	errs := make(chan error, len(jobs))
	for _, j := range jobs {
		wg.Go(func() {
			if err := q.Attempt(ctx, j.ID); err != nil {
				errs <- err
				return
			}
			errs <- q.Record(ctx, j.ID, campaign.Outcome{State: campaign.Sent})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	sums, err := l.Summaries(ctx, "c")
	if err != nil || sums[0].Counts[campaign.Sent] != 300 {
		t.Fatalf("summary = %+v, %v", sums, err)
	}
}

func itoa3(n int) string {
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}

func TestLockIsExclusiveAndFreedByClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pregon.db")
	a, err := Acquire(path, "campaña 1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(path, "campaña 1")
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.PID != os.Getpid() {
		t.Fatalf("second acquire: %v", err)
	}
	if other, err := Acquire(path, "otra"); err != nil {
		t.Fatalf("another campaign is blocked: %v", err)
	} else {
		other.Release()
	}
	a.Release()
	b, err := Acquire(path, "campaña 1")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	b.Release()
}

func equal(a, b map[string]campaign.State) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// An outcome is in the file the moment Record returns (another process sees
// it, as the next run would after a kill -9) but waits for the disk until
// the next attempt syncs the log, or Close does.
func TestOutcomeReachesTheDiskWithTheNextAttempt(t *testing.T) {
	l, path := openTemp(t)
	ctx := context.Background()
	id, _ := l.Register(ctx, "c", "fp", platform, false)
	_, gen := importAll(t, l, id, msg(2, "phone:+1", "a"), msg(3, "phone:+2", "b"))
	q := l.Queue(id, gen, Eligible{})
	jobs, _ := q.Next(ctx, 10)
	if err := q.Attempt(ctx, jobs[0].ID); err != nil {
		t.Fatal(err)
	}
	if l.unsynced {
		t.Error("an attempt returned before its commit was synced")
	}
	if err := q.Record(ctx, jobs[0].ID, campaign.Outcome{State: campaign.Sent}); err != nil {
		t.Fatal(err)
	}
	if !l.unsynced {
		t.Error("an outcome's commit was synced on its own: that is the disk sync per message it should spare")
	}
	other, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if got := states(t, other, id); got["phone:+1"] != campaign.Sent {
		t.Errorf("another process sees %v, want phone:+1 sent", got)
	}
	if err := q.Attempt(ctx, jobs[1].ID); err != nil {
		t.Fatal(err)
	}
	if l.unsynced {
		t.Error("the next attempt did not sync the log")
	}
	if err := q.Record(ctx, jobs[1].ID, campaign.Outcome{State: campaign.Sent}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("close (syncing the last outcome): %v", err)
	}
}

// broken is a row with a problem, as the campaign reader makes it: key is
// its content's, contact its identity when its contact cell is good.
func broken(line int, contact, key string) campaign.Message {
	return campaign.Message{Line: line, Contact: contact, Key: key,
		Problem: &campaign.RowError{File: "c.csv", Line: line, Column: "nombre", Err: errors.New("is empty")}}
}

// exported marks m as a row of an export, exported from record id of file.
func exported(m campaign.Message, id int64, file string) campaign.Message {
	m.Exported = campaign.Exported{Record: id, File: file}
	return m
}

// records returns the campaign's records by file and line.
func records(t *testing.T, l *Ledger, id CampaignID) map[string]Row {
	t.Helper()
	out := map[string]Row{}
	err := l.Export(context.Background(), id, nil, func(r Row) error {
		out[r.Source+":"+itoa(r.Line)] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func record(t *testing.T, l *Ledger, id CampaignID, at string) Row {
	t.Helper()
	r, ok := records(t, l, id)[at]
	if !ok {
		t.Fatalf("no record at %s: %v", at, records(t, l, id))
	}
	return r
}

// sendPending sends every contact the import gen lists.
func sendPending(t *testing.T, l *Ledger, id CampaignID, gen int64) {
	t.Helper()
	jobs, err := l.Queue(id, gen, Eligible{}).Next(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	sendAll(t, l, id, gen, slices.Repeat([]campaign.Outcome{{State: campaign.Sent, HTTPStatus: 200}}, len(jobs))...)
}

// A row of an export replaces the record it names, of the file it names,
// and nothing else: not the invalid rows other files have at that line.
func TestExportedRowReplacesOnlyItsRecord(t *testing.T) {
	l, _ := openTemp(t)
	ctx := context.Background()
	id, _ := l.Register(ctx, "c", "fp", platform, false)
	importFile(t, l, id, "a.csv", msg(2, "phone:+1", "a"), broken(3, "", "luis"))
	importFile(t, l, id, "b.csv", msg(2, "phone:+2", "b"), broken(3, "", "eva"))
	a, b := record(t, l, id, "a.csv:03"), record(t, l, id, "b.csv:03")

	// A row naming b's record but a's file replaces nothing.
	res, _ := importFile(t, l, id, "revisar.csv", exported(msg(2, "phone:+3", "c"), b.ID, "a.csv"))
	if res.New != 1 {
		t.Fatalf("import = %+v", res)
	}
	if got := records(t, l, id); got["a.csv:03"].ID != a.ID || got["b.csv:03"].ID != b.ID {
		t.Fatalf("a row naming another file's record replaced something: %v", got)
	}
	res, _ = importFile(t, l, id, "revisar.csv", exported(msg(2, "phone:+3", "c"), a.ID, "a.csv"))
	if res.Updated != 1 || res.Invalid != 0 {
		t.Errorf("import = %+v", res)
	}
	got := records(t, l, id)
	if _, ok := got["a.csv:03"]; ok {
		t.Error("the exported row did not replace its record")
	}
	if got["b.csv:03"].ID != b.ID || got["b.csv:03"].State != campaign.Invalid {
		t.Errorf("b.csv's invalid row at the same line = %+v, want it untouched", got["b.csv:03"])
	}
}

// The nightly run of the original file after a fix through the export:
// each broken row is the contact it was fixed into, whether the row had a
// contact or not, and is not counted again.
func TestBrokenRowFixedThroughTheExport(t *testing.T) {
	for _, tc := range []struct {
		name    string
		contact string // of the broken row
	}{
		{"no contact (bad phone)", ""},
		{"a contact (empty name)", "phone:+2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, _ := openTemp(t)
			ctx := context.Background()
			id, _ := l.Register(ctx, "c", "fp", platform, false)
			original := []campaign.Message{msg(2, "phone:+1", "a"), broken(3, tc.contact, "row3")}
			_, gen := importFile(t, l, id, "clientes.csv", original...)
			sendPending(t, l, id, gen)
			bad := record(t, l, id, "clientes.csv:03")

			res, gen := importFile(t, l, id, "revisar.csv", exported(msg(2, "phone:+2", "b"), bad.ID, "clientes.csv"))
			if res.New != 1 {
				t.Fatalf("export import = %+v", res)
			}
			sendPending(t, l, id, gen)

			for night := range 2 {
				res, gen = importFile(t, l, id, "clientes.csv", original...)
				if res.Rows != 2 || res.Done != 1 || res.Fixed != 1 || res.Invalid != 0 || res.Duplicate != 0 {
					t.Errorf("night %d: import = %+v", night, res)
				}
				if len(res.FixedRows) != 1 || res.FixedRows[0].String() != "clientes.csv:3: already sent (fixed through revisar.csv): phone:+2" {
					t.Errorf("night %d: fixed rows = %q", night, res.FixedRows)
				}
				want := map[string]campaign.State{"phone:+1": campaign.Sent, "phone:+2": campaign.Sent}
				if got := states(t, l, id); !equal(got, want) {
					t.Errorf("night %d: states = %v, want %v", night, got, want)
				}
				if n, _ := l.Queue(id, gen, Eligible{}).Remaining(ctx); n != 0 {
					t.Errorf("night %d: %d to send", night, n)
				}
			}
		})
	}
}

// A row fixed in the export but not sent yet is sent by the original's
// run, with the fixed message.
func TestOriginalRunSendsTheFixNotYetSent(t *testing.T) {
	l, _ := openTemp(t)
	ctx := context.Background()
	id, _ := l.Register(ctx, "c", "fp", platform, false)
	original := []campaign.Message{msg(2, "phone:+1", "a"), broken(3, "", "row3")}
	importFile(t, l, id, "clientes.csv", original...)
	bad := record(t, l, id, "clientes.csv:03")
	importFile(t, l, id, "revisar.csv", exported(msg(2, "phone:+2", "fixed"), bad.ID, "clientes.csv"))

	res, gen := importFile(t, l, id, "clientes.csv", original...)
	if res.Fixed != 1 || res.Invalid != 0 || len(res.FixedRows) != 1 || !strings.Contains(res.FixedRows[0].String(), "to be sent (fixed through revisar.csv)") {
		t.Errorf("import = %+v", res)
	}
	jobs, _ := l.Queue(id, gen, Eligible{}).Next(ctx, 10)
	if len(jobs) != 2 || jobs[1].Contact != "phone:+2" || string(jobs[1].Payload) != "fixed" {
		t.Errorf("jobs = %+v", jobs)
	}
}

// A row still broken in the export stays one invalid record: unchanged,
// the original's; edited, the export's, which the original's row is then.
func TestRowStillBrokenInTheExportIsInvalidOnce(t *testing.T) {
	for _, tc := range []struct {
		name, exportKey, wantAt string
	}{
		{"unchanged", "row3", "clientes.csv:03"},
		{"edited", "row3 edited", "revisar.csv:02"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, _ := openTemp(t)
			ctx := context.Background()
			id, _ := l.Register(ctx, "c", "fp", platform, false)
			original := []campaign.Message{msg(2, "phone:+1", "a"), broken(3, "", "row3")}
			importFile(t, l, id, "clientes.csv", original...)
			bad := record(t, l, id, "clientes.csv:03")
			res, _ := importFile(t, l, id, "revisar.csv", exported(broken(2, "", tc.exportKey), bad.ID, "clientes.csv"))
			if res.Invalid != 1 {
				t.Errorf("export import = %+v", res)
			}
			for _, file := range []string{"clientes.csv", "revisar.csv", "clientes.csv"} {
				msgs := original
				if file == "revisar.csv" {
					msgs = []campaign.Message{exported(broken(2, "", tc.exportKey), bad.ID, "clientes.csv")}
				}
				res, _ := importFile(t, l, id, file, msgs...)
				if res.Invalid != 1 || res.Fixed != 0 || res.Duplicate != 0 {
					t.Errorf("%s: import = %+v", file, res)
				}
				var invalid []string
				for at, r := range records(t, l, id) {
					if r.State == campaign.Invalid {
						invalid = append(invalid, at)
					}
				}
				if len(invalid) != 1 || invalid[0] != tc.wantAt {
					t.Errorf("after %s: invalid records at %v, want one at %s", file, invalid, tc.wantAt)
				}
			}
		})
	}
}

// Re-reading a file keeps an unchanged broken row's record (an export of
// it stays valid across nightly runs, lines moving or not), and rows with
// the same cells stay as many rows.
func TestBrokenRowsKeepTheirRecords(t *testing.T) {
	l, _ := openTemp(t)
	ctx := context.Background()
	id, _ := l.Register(ctx, "c", "fp", platform, false)
	res, _ := importAll(t, l, id, broken(2, "", "same"), msg(3, "phone:+1", "a"), broken(4, "", "same"))
	if res.Invalid != 2 || res.Duplicate != 0 {
		t.Fatalf("import = %+v", res)
	}
	first, second := record(t, l, id, "c.csv:02"), record(t, l, id, "c.csv:04")
	// A row added at the top moves the others down.
	res, _ = importAll(t, l, id, msg(2, "phone:+0", "z"), broken(3, "", "same"), msg(4, "phone:+1", "a"), broken(5, "", "same"))
	if res.Invalid != 2 {
		t.Fatalf("import = %+v", res)
	}
	got := records(t, l, id)
	if got["c.csv:03"].ID != first.ID || got["c.csv:05"].ID != second.ID {
		t.Errorf("records = %+v, want the rows' records of before (%d, %d), moved", got, first.ID, second.ID)
	}
	// Fixing the second through an export leaves the first invalid.
	importFile(t, l, id, "revisar.csv", exported(msg(2, "phone:+5", "e"), second.ID, "c.csv"))
	res, _ = importAll(t, l, id, msg(2, "phone:+0", "z"), broken(3, "", "same"), msg(4, "phone:+1", "a"), broken(5, "", "same"))
	if res.Invalid != 1 || res.Fixed != 1 {
		t.Errorf("import after the fix = %+v", res)
	}
}

// One contact, one row: a broken row for a contact the file lists again,
// before or after, is a duplicate of that row, not an invalid one.
func TestBrokenRowOfAContactListedTwice(t *testing.T) {
	for _, tc := range []struct {
		name string
		msgs []campaign.Message
	}{
		{"good row first", []campaign.Message{msg(2, "phone:+1", "a"), broken(3, "phone:+1", "x")}},
		{"broken row first", []campaign.Message{broken(2, "phone:+1", "x"), msg(3, "phone:+1", "a")}},
		{"both broken", []campaign.Message{broken(2, "phone:+1", "x"), broken(3, "phone:+1", "y")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, _ := openTemp(t)
			id, _ := l.Register(context.Background(), "c", "fp", platform, false)
			res, _ := importAll(t, l, id, tc.msgs...)
			if res.Duplicate != 1 || res.New+res.Invalid != 1 || res.Rows != 2 {
				t.Errorf("import = %+v", res)
			}
			sum := summary(t, l, "c")
			if sum.Counts[campaign.Duplicate] != 1 || sum.Total != 2 {
				t.Errorf("counts = %v", sum.Counts)
			}
		})
	}
}

// A row that broke since its contact's message was imported from the same
// file: not sent yet, the contact is invalid (its message was the old
// row's); sent, it stays sent and is not counted invalid.
func TestRowThatBrokeSince(t *testing.T) {
	l, _ := openTemp(t)
	ctx := context.Background()
	id, _ := l.Register(ctx, "c", "fp", platform, false)
	_, gen := importAll(t, l, id, msg(2, "phone:+1", "a"), msg(3, "phone:+2", "b"))
	q := l.Queue(id, gen, Eligible{})
	jobs, _ := q.Next(ctx, 1)
	if err := q.Attempt(ctx, jobs[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := q.Record(ctx, jobs[0].ID, campaign.Outcome{State: campaign.Sent}); err != nil {
		t.Fatal(err)
	}
	res, gen := importAll(t, l, id, broken(2, "phone:+1", "a!"), broken(3, "phone:+2", "b!"))
	if res.Done != 1 || res.Invalid != 1 {
		t.Errorf("import = %+v", res)
	}
	if got := states(t, l, id); !equal(got, map[string]campaign.State{"phone:+1": campaign.Sent, "invalid@03": campaign.Invalid}) {
		t.Errorf("states = %v", got)
	}
	if n, _ := l.Queue(id, gen, Eligible{}).Remaining(ctx); n != 0 {
		t.Errorf("%d to send: a broken row's old message would go", n)
	}
	// Fixed in the file: pending again.
	res, _ = importAll(t, l, id, msg(2, "phone:+1", "a"), msg(3, "phone:+2", "b"))
	if got := states(t, l, id); !equal(got, map[string]campaign.State{"phone:+1": campaign.Sent, "phone:+2": campaign.Pending}) {
		t.Errorf("states after the fix = %v (%+v)", got, res)
	}
}

// Each record is exported with the header of the file it came from.
func TestRecordsKeepTheirFilesHeader(t *testing.T) {
	l, _ := openTemp(t)
	ctx := context.Background()
	id, _ := l.Register(ctx, "c", "fp", platform, false)
	a := msg(2, "phone:+1", "a")
	a.Cells = []string{"+1", "Ana"}
	b := broken(2, "", "b")
	b.Cells = []string{"Quito", "13", "Eva"}
	importHeader(t, l, id, "a.csv", []string{"phone", "nombre"}, a)
	importHeader(t, l, id, "b.csv", []string{"ciudad", "phone", "nombre"}, b)
	got := records(t, l, id)
	if h := got["a.csv:02"].Header; !slices.Equal(h, []string{"phone", "nombre"}) {
		t.Errorf("a.csv's row header = %q", h)
	}
	if h := got["b.csv:02"].Header; !slices.Equal(h, []string{"ciudad", "phone", "nombre"}) {
		t.Errorf("b.csv's row header = %q", h)
	}
	hs, err := l.Headers(ctx, id, []campaign.State{campaign.Invalid})
	if err != nil || len(hs) != 1 || !slices.Equal(hs[0], []string{"ciudad", "phone", "nombre"}) {
		t.Errorf("headers of the invalid rows = %q, %v", hs, err)
	}
}

// Records of a ledger from before format 3 keep being exported under the
// header they were exported under then, whatever files are read since.
func TestRecordsOfBeforeFormat4KeepTheirHeader(t *testing.T) {
	ctx := context.Background()
	old, path := ledgerAt(t, 2)
	id := registerFormat1(t, old, "promo", false)
	importAll(t, old, id, msg(2, "phone:+1", "a"))
	old.Close()
	l, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	importHeader(t, l, id, "otro.csv", []string{"nombre", "ciudad", "phone"}, msg(2, "phone:+2", "b"))
	got := records(t, l, id)
	if h := got["c.csv:02"].Header; !slices.Equal(h, []string{"phone", "nombre"}) {
		t.Errorf("the old record's header = %q", h)
	}
	if h := got["otro.csv:02"].Header; !slices.Equal(h, []string{"nombre", "ciudad", "phone"}) {
		t.Errorf("the new record's header = %q", h)
	}
	hs, err := l.Headers(ctx, id, nil)
	if err != nil || len(hs) != 2 || !slices.Equal(hs[0], []string{"phone", "nombre"}) {
		t.Errorf("headers = %q, %v; the old one first", hs, err)
	}
}

// A file that lists a contact in its own row and in a broken row fixed
// into that contact through an export lists it twice: the second row is
// the duplicate of the first, by this file's lines, in either order.
func TestFixedRowAndTheContactsOwnRow(t *testing.T) {
	for _, tc := range []struct {
		name      string
		original  []campaign.Message
		duplicate string
	}{
		{"own row first", []campaign.Message{msg(2, "phone:+1", "a"), broken(3, "", "row3")}, "c.csv:3: same contact as line 2 (phone:+1): sent once"},
		{"broken row first", []campaign.Message{broken(2, "", "row3"), msg(3, "phone:+1", "a")}, "c.csv:3: same contact as line 2 (phone:+1): sent once"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, _ := openTemp(t)
			ctx := context.Background()
			id, _ := l.Register(ctx, "c", "fp", platform, false)
			importAll(t, l, id, tc.original...)
			var bad Row
			for _, r := range records(t, l, id) {
				if r.State == campaign.Invalid {
					bad = r
				}
			}
			importFile(t, l, id, "revisar.csv", exported(msg(2, "phone:+1", "a"), bad.ID, "c.csv"))
			res, _ := importAll(t, l, id, tc.original...)
			if res.Duplicate != 1 || res.Invalid != 0 || len(res.Duplicates) != 1 || res.Duplicates[0].String() != tc.duplicate {
				t.Errorf("import = %+v", res)
			}
		})
	}
}
