package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pregon/pregon/campaign"
)

// ledgerAt writes a ledger at format v the way the pregon of that format
// did: with its migrations only. Format 0 is what pregon wrote before
// formats were numbered: format 1's tables, stamped 0.
func ledgerAt(t *testing.T, v int) (*Ledger, string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pregon.db")
	db, err := connect(ctx, path, "rwc", newOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(ctx, db, migrations[:max(v, 1)]); err != nil {
		t.Fatal(err)
	}
	if v == 0 {
		if _, err := db.Exec(`PRAGMA user_version = 0`); err != nil {
			t.Fatal(err)
		}
	}
	l := newLedger(db, path, newOptions(nil))
	if l.wconn, err = db.Conn(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

// registerFormat1 records a campaign as pregon's format 1 did.
func registerFormat1(t *testing.T, l *Ledger, name string, sandbox bool) CampaignID {
	t.Helper()
	res, err := l.db.Exec(`INSERT INTO campaigns (name, fingerprint, sandbox, created_at, updated_at)
		VALUES (?, 'fp', ?, '2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05.000Z')`, name, sandbox)
	if err != nil {
		t.Fatal(err)
	}
	n, err := res.LastInsertId()
	if err != nil {
		t.Fatal(err)
	}
	return CampaignID(n)
}

// sendAll sends every contact the import gen found, recording outcomes in
// order (the rest stay sending, as a run killed mid-flight leaves them).
func sendAll(t *testing.T, l *Ledger, id CampaignID, gen int64, outcomes ...campaign.Outcome) {
	t.Helper()
	ctx := context.Background()
	q := l.Queue(id, gen, Eligible{})
	jobs, err := q.Next(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := range jobs {
		if err := q.Attempt(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		switch {
		case i >= len(outcomes):
		case userVersion(t, l) < 7:
			// Before format 7 a reason was English prose.
			o := outcomes[i]
			prose := sql.NullString{String: fmt.Sprint(o.Reason.Args...), Valid: !o.Reason.IsZero()}
			if _, err := l.db.Exec(`UPDATE contacts SET state = ?, http_status = ?, message_id = ?, error = ?, permanent = ? WHERE id = ?`,
				o.State, o.HTTPStatus, o.MessageID, prose, o.Permanent, j.ID); err != nil {
				t.Fatal(err)
			}
		default:
			if err := q.Record(ctx, j.ID, outcomes[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// contactsBefore7 reads the contacts of a ledger of before format 7, as
// Contacts does from it on.
func contactsBefore7(t *testing.T, l *Ledger, id CampaignID) []Contact {
	t.Helper()
	rows, err := l.db.Query(`SELECT line, contact, state, attempts, coalesce(http_status, 0),
		coalesce(message_id, ''), coalesce(error, ''), payload, sent_at FROM contacts WHERE campaign_id = ? ORDER BY line, id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		var c Contact
		var sent sql.NullString
		if err := rows.Scan(&c.Line, &c.Contact, &c.State, &c.Attempts, &c.HTTPStatus, &c.MessageID, &c.Error, &c.Payload, &sent); err != nil {
			t.Fatal(err)
		}
		c.SentAt = parseStamp(sent)
		out = append(out, c)
	}
	return out
}

// optedOut is a refusal as the platform words it.
var optedOut = campaign.Reason{Code: campaign.Refused, Args: []any{403, "opted out"}}

func userVersion(t *testing.T, l *Ledger) int {
	t.Helper()
	v, err := ledgerVersion(context.Background(), l.db)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A ledger from an older pregon opens, is upgraded once, and keeps every
// row.
func TestOlderLedgerIsMigratedOnce(t *testing.T) {
	for _, from := range []int{0, 1, 2} {
		t.Run("format "+itoa(from), func(t *testing.T) {
			ctx := context.Background()
			old, path := ledgerAt(t, from)
			id := registerFormat1(t, old, "promo", false)
			_, gen := importAll(t, old, id, msg(2, "phone:+1", "a"), msg(3, "phone:+2", "b"), msg(4, "phone:+3", "c"), msg(5, "phone:+4", "d"))
			sendAll(t, old, id, gen, campaign.Outcome{State: campaign.Sent, HTTPStatus: 200, MessageID: "m1"},
				campaign.Outcome{State: campaign.Failed, HTTPStatus: 403, Reason: optedOut, Permanent: true})
			before := contactsBefore7(t, old, id)
			old.Close()

			l, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if v := userVersion(t, l); v != latestVersion {
				t.Errorf("user_version = %d, want %d", v, latestVersion)
			}
			if got, ok, err := l.Lookup(ctx, "promo"); err != nil || !ok || got != id {
				t.Fatalf("lookup = %v %v %v, want %v", got, ok, err, id)
			}
			after, err := l.Contacts(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(after, before) {
				t.Errorf("contacts after the upgrade:\n%+v\nwant\n%+v", after, before)
			}
			if h, err := l.Header(ctx, id); err != nil || !reflect.DeepEqual(h, []string{"phone", "nombre"}) {
				t.Errorf("header = %v, %v", h, err)
			}
			// Format 2's columns are there, unknown for a campaign of before.
			var api, baseURL sql.NullString
			if err := l.db.QueryRow(`SELECT api, base_url FROM campaigns WHERE id = ?`, id).Scan(&api, &baseURL); err != nil {
				t.Fatal(err)
			}
			if api.Valid || baseURL.Valid {
				t.Errorf("api, base_url = %v, %v; want NULL", api, baseURL)
			}
			if s := summary(t, l, "promo"); s.Destination != (Destination{}) || s.Rehearsal || s.Counts[campaign.Sent] != 1 {
				t.Errorf("summary = %+v", s)
			}
			// Format 3's index is there, over the rows of before.
			var check string
			if err := l.db.QueryRow(`SELECT count(*) || ' ' || (SELECT count(*) FROM contacts INDEXED BY contacts_state WHERE campaign_id = ?)
				FROM sqlite_master WHERE type = 'index' AND name = 'contacts_state'`, id).Scan(&check); err != nil || check != "1 4" {
				t.Errorf("contacts_state index, contacts it finds = %q, %v; want \"1 4\"", check, err)
			}
			// Nothing left to apply: running the migrations again is a no-op
			// (and applying a step twice would fail).
			if n, err := migrate(ctx, l.db, migrations); err != nil || n != 0 {
				t.Errorf("migrate again = %d, %v; want 0 steps", n, err)
			}
			l.Close()
			again, err := Open(ctx, path)
			if err != nil {
				t.Fatalf("second open: %v", err)
			}
			defer again.Close()
			if v := userVersion(t, again); v != latestVersion {
				t.Errorf("user_version after a second open = %d", v)
			}
		})
	}
}

// pregon status reads an old ledger: the read-only open upgrades it.
func TestOpenReadOnlyUpgradesAnOlderLedger(t *testing.T) {
	ctx := context.Background()
	old, path := ledgerAt(t, 0)
	id := registerFormat1(t, old, "promo", false)
	importAll(t, old, id, msg(2, "phone:+1", "a"))
	old.Close()

	l, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if v := userVersion(t, l); v != latestVersion {
		t.Errorf("user_version = %d, want %d", v, latestVersion)
	}
	sums, err := l.Summaries(ctx, "")
	if err != nil || len(sums) != 1 || sums[0].Counts[campaign.Pending] != 1 {
		t.Errorf("summaries = %+v, %v", sums, err)
	}
	if _, err := l.Register(ctx, "x", "fp", platform, false); err == nil {
		t.Error("a read-only ledger accepted a write")
	}
}

// Reading must not turn another program's SQLite file into a ledger.
func TestOpenReadOnlyLeavesOtherDatabasesAlone(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := connect(ctx, path, "rwc", newOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE notes (body TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = OpenReadOnly(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "not a pregon ledger") {
		t.Fatalf("err = %v", err)
	}
	db, err = connect(ctx, path, "ro", newOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table'`).Scan(&tables); err != nil || tables != 1 {
		t.Errorf("tables = %d, %v; want only the file's own", tables, err)
	}
}

func TestLedgerFromANewerPregonIsRefused(t *testing.T) {
	l, path := openTemp(t)
	if _, err := l.db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	l.Close()
	ctx := context.Background()
	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "written by a newer pregon") {
		t.Errorf("open: err = %v", err)
	}
	if _, err := OpenReadOnly(ctx, path); err == nil || !strings.Contains(err.Error(), "written by a newer pregon") {
		t.Errorf("open read-only: err = %v", err)
	}
}

func TestMigrationFilesAreNumberedWithoutGaps(t *testing.T) {
	if len(migrations) == 0 || latestVersion != len(migrations) {
		t.Fatalf("migrations = %d, latest = %d", len(migrations), latestVersion)
	}
	for _, tc := range []struct {
		name  string
		files []string
	}{
		{"gap", []string{"0001.sql", "0003.sql"}},
		{"starts at 2", []string{"0002.sql"}},
		{"not a number", []string{"0001.sql", "000b.sql"}},
		{"not padded", []string{"1.sql"}},
		{"two of a number", []string{"0001.sql", "0001_again.sql"}},
		{"named without a number", []string{"0001.sql", "x_0002.sql"}},
	} {
		fsys := fstest.MapFS{}
		for _, f := range tc.files {
			fsys["migration/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
		}
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: loaded %v", tc.name, tc.files)
		}
	}
}

// Runs of different campaigns may open the same old ledger at once: one
// upgrades it, the others find it done.
func TestConcurrentOpensUpgradeOnce(t *testing.T) {
	old, path := ledgerAt(t, 1)
	registerFormat1(t, old, "promo", false)
	old.Close()
	ctx := context.Background()
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() {
			l, err := Open(ctx, path)
			if err == nil {
				err = l.Close()
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// Without write access, reading an old ledger says what it needs.
func TestOpenReadOnlyOfAnOldLedgerWithoutWriteAccess(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes read-only files")
	}
	old, path := ledgerAt(t, 1)
	registerFormat1(t, old, "promo", false)
	old.Close()
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	_, err := OpenReadOnly(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "needs write access") {
		t.Errorf("err = %v", err)
	}
}

// A campaign that moved with -allow-changed before format 6 recorded moves
// is read as moved at its last such run's start: its unknown contacts from
// before can be found at the new address, never proved absent there.
func TestFormat6ReadsOlderMovesFromTheRuns(t *testing.T) {
	ctx := context.Background()
	old, path := ledgerAt(t, 5)
	for _, q := range []string{
		`INSERT INTO campaigns (id, name, fingerprint, sandbox, api, base_url, created_at, updated_at)
			VALUES (1, 'moved', 'f', 0, 'v2', 'https://new.example.test', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z'),
			       (2, 'stayed', 'f', 0, 'v2', 'https://api.example.test', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z')`,
		`INSERT INTO runs (campaign_id, host, pid, flags, started_at) VALUES
			(1, 'vm', 1, '{"allow_changed":false}', '2026-11-01T01:00:00.000Z'),
			(1, 'vm', 2, '{"allow_changed":true}', '2026-11-02T01:00:00.000Z'),
			(1, 'vm', 3, '{"allow_changed":false}', '2026-11-03T01:00:00.000Z'),
			(2, 'vm', 4, '{"allow_changed":false}', '2026-11-02T01:00:00.000Z')`,
		`INSERT INTO contacts (campaign_id, line, contact, path, payload, state, attempted_at, attempts, seen_gen, created_at, updated_at) VALUES
			(1, 2, 'phone:+1', '/p', '{}', 'unknown', '2026-11-01T01:00:05.000Z', 1, 1, '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z'),
			(1, 3, 'phone:+2', '/p', '{}', 'unknown', '2026-11-03T01:00:05.000Z', 1, 1, '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z'),
			(2, 2, 'phone:+1', '/p', '{}', 'unknown', '2026-11-01T01:00:05.000Z', 1, 1, '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z')`,
	} {
		if _, err := old.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	l, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for id, want := range map[CampaignID][]bool{1: {true, false}, 2: {false}} {
		us, err := l.Unknowns(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var got []bool
		for _, u := range us {
			got = append(got, u.Moved)
		}
		if !slices.Equal(got, want) {
			t.Errorf("campaign %d: moved = %v, want %v", id, got, want)
		}
	}
}

// Format 7 turns the fixed sentences older formats wrote as reasons into
// their codes, so they read in the reader's language; other prose stays.
func TestFormat7CodesOldFixedReasons(t *testing.T) {
	ctx := context.Background()
	old, path := ledgerAt(t, 6)
	for _, q := range []string{
		`INSERT INTO campaigns (id, name, fingerprint, sandbox, api, base_url, created_at, updated_at)
			VALUES (1, 'c', 'f', 0, 'v2', 'https://api.example.test', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z')`,
		`INSERT INTO contacts (campaign_id, line, contact, path, payload, state, error, seen_gen, created_at, updated_at) VALUES
			(1, 2, 'phone:+1', '/p', '{}', 'unknown', 'the run stopped while this message was in flight: it may or may not have been delivered', 1, 'x', 'x'),
			(1, 3, 'phone:+2', '/p', '{}', 'sent', 'found on the platform after the answer was lost', 1, 'x', 'x'),
			(1, 4, 'phone:+3', '/p', '{}', 'failed', '503 busy', 1, 'x', 'x')`,
	} {
		if _, err := old.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	l, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rows, err := l.db.Query(`SELECT coalesce(reason, ''), coalesce(error, '') FROM contacts ORDER BY line`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var reason, prose string
		rows.Scan(&reason, &prose)
		got = append(got, reason+"|"+prose)
	}
	want := []string{`{"code":"in_flight"}|`, `{"code":"found_on_platform"}|`, "|503 busy"}
	if !slices.Equal(got, want) {
		t.Errorf("reasons after the upgrade = %q, want %q", got, want)
	}
}
