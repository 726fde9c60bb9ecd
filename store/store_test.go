package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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
	ctx := context.Background()
	im, err := l.Import(ctx, id, source, []string{"phone", "nombre"})
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
	for i, o := range []campaign.Outcome{{State: campaign.Sent, HTTPStatus: 200, MessageID: "77"}, {State: campaign.Failed, HTTPStatus: 403, Error: "403 opted out", Permanent: true}} {
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
