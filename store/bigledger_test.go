package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// bigLedgerSize is how many contacts each campaign of BenchmarkBigLedger
// holds: PREGON_BENCH_CONTACTS when set, a small ledger under -short or in
// CI (which runs every benchmark once, only so that none rots), and the
// target's 1,000,000 otherwise.
func bigLedgerSize(b *testing.B) int {
	if s := os.Getenv("PREGON_BENCH_CONTACTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			b.Fatalf("PREGON_BENCH_CONTACTS=%q: want a number of contacts per campaign, at least 1000", s)
		}
		return n
	}
	if testing.Short() || os.Getenv("CI") != "" {
		return 10_000
	}
	return 1_000_000
}

// bigCampaign is how far a campaign of the big ledger got: the first
// done contacts (a fraction, in CSV order) were sent or failed, the next
// sending were in flight when its last run died, the rest are pending.
type bigCampaign struct {
	name    string
	done    float64
	sending int
}

var bigCampaigns = []bigCampaign{
	{name: "enero", done: 1},                // finished
	{name: "febrero", done: 0.5},            // stopped half-way
	{name: "marzo", done: 0.1, sending: 64}, // killed early, 64 in flight
}

// bigPayload is a message of the size of the README's 1,000,000-row
// campaign (463 bytes a contact).
const bigPayload = `{"channelId":4242,"message":{"type":"whatsapp_template","template":{"name":"delivery_order","languageCode":"es","components":[{"type":"header","parameters":[{"type":"image","image":{"link":"https://cdn.example.com/pedidos.png"}}]},{"type":"body","parameters":[{"type":"text","text":"Cliente %d"},{"type":"text","text":"PED-%d"},{"type":"text","text":"martes 14 de abril"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"seguimiento"}]}]}}}`

// buildBigLedger writes, at path, a ledger holding bigCampaigns with n
// contacts each, as pregon's runs leave them: the rows an import writes,
// states in CSV order, a few failures and doubts among the done ones, and
// a few runs each. It writes the rows with one INSERT … SELECT per
// campaign (the importer would take minutes for millions).
func buildBigLedger(b *testing.B, path string, n int) {
	ctx := context.Background()
	l, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	for _, c := range bigCampaigns {
		id, err := l.Register(ctx, c.name, "fp", platform, false)
		if err != nil {
			b.Fatal(err)
		}
		im, err := l.Import(ctx, id, "clientes.csv", []string{"Teléfono", "Nombre", "Pedido"})
		if err != nil {
			b.Fatal(err)
		}
		done := int(c.done * float64(n))
		sending := done + c.sending
		// Among the done: 2% refused (half for good), 0.5% unknown; 0.2%
		// of every campaign's rows are invalid.
		_, err = l.db.ExecContext(ctx, `INSERT INTO contacts (campaign_id, line, contact, path, payload, cells, source,
				state, permanent, attempts, http_status, message_id, error, seen_gen, created_at, updated_at, attempted_at, sent_at)
			WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < :n),
			rows AS (SELECT i, printf('phone:+5939%08d', :base + i) AS contact,
				CASE WHEN i % 500 = 499 THEN 'invalid'
					WHEN i >= :sending THEN 'pending'
					WHEN i >= :done THEN 'sending'
					WHEN i % 50 = 7 THEN 'failed'
					WHEN i % 200 = 13 THEN 'unknown'
					ELSE 'sent' END AS state
				FROM seq)
			SELECT :id, i + 2, CASE state WHEN 'invalid' THEN '' ELSE contact END, '/v2/contact/' || contact || '/message',
				CAST(printf(:payload, i, i) AS BLOB), printf('["%s","Cliente %d","PED-%d"]', substr(contact, 7), i, i), 'clientes.csv',
				state,
				state = 'failed' AND i % 100 = 7,
				CASE WHEN state IN ('sent', 'failed', 'unknown', 'sending') THEN 1 ELSE 0 END,
				CASE state WHEN 'sent' THEN 200 WHEN 'failed' THEN CASE WHEN i % 100 = 7 THEN 403 ELSE 503 END END,
				CASE state WHEN 'sent' THEN 'msg-' || i END,
				CASE state WHEN 'invalid' THEN 'column "Teléfono": "12" is not a phone number'
					WHEN 'failed' THEN CASE WHEN i % 100 = 7 THEN '403 the contact opted out' ELSE 'gave up after 5 attempts: 503 Service Unavailable' END
					WHEN 'unknown' THEN 'no answer within 30s: it may or may not have been delivered' END,
				:gen, '2026-03-01T10:00:00.000Z', '2026-03-02T11:00:00.000Z',
				CASE WHEN state IN ('sent', 'failed', 'unknown', 'sending') THEN '2026-03-02T11:00:00.000Z' END,
				CASE state WHEN 'sent' THEN '2026-03-02T11:00:00.000Z' END
			FROM rows`,
			sql.Named("n", n), sql.Named("base", int(id)*n), sql.Named("done", done), sql.Named("sending", sending),
			sql.Named("id", id), sql.Named("payload", bigPayload), sql.Named("gen", im.Generation()))
		if err != nil {
			b.Fatal(err)
		}
		for range 3 {
			run, err := l.StartRun(ctx, id, map[string]any{"rate": 25})
			if err != nil {
				b.Fatal(err)
			}
			if err := l.EndRun(ctx, Run{ID: run, Ended: time.Now(), Sent: done, EndedBy: "finished"}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkBigLedger measures, on a ledger of 3 campaigns × 1,000,000
// contacts (see bigLedgerSize), what pregon reads from it at every start:
// `pregon status` (open read-only, Summaries, Runs), and the start of a
// send of each campaign (open, Register, Recover, Empty, Remaining, the
// first Next). The target is ≤ 1 s each. The ledger is built once per
// run, in a temporary directory, before the clock starts:
//
//	go test -run XXX -bench BigLedger -benchtime 5x ./store/
func BenchmarkBigLedger(b *testing.B) {
	n := bigLedgerSize(b)
	path := filepath.Join(b.TempDir(), "pregon.db")
	start := time.Now()
	buildBigLedger(b, path, n)
	size := int64(0)
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(path + suffix); err == nil {
			size += fi.Size()
		}
	}
	b.Logf("ledger of %d campaigns × %d contacts: %d MB, built in %v", len(bigCampaigns), n, size>>20, time.Since(start).Round(time.Millisecond))
	ctx := context.Background()

	b.Run("status", func(b *testing.B) {
		for b.Loop() {
			l, err := OpenReadOnly(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			sums, err := l.Summaries(ctx, "")
			if err != nil || len(sums) != len(bigCampaigns) {
				b.Fatalf("summaries: %d, %v", len(sums), err)
			}
			for _, s := range sums {
				if s.Total != n {
					b.Fatalf("%s: %d contacts, want %d", s.Name, s.Total, n)
				}
				if _, err := l.Runs(ctx, s.ID, 0); err != nil {
					b.Fatal(err)
				}
			}
			l.Close()
		}
	})
	for _, c := range bigCampaigns {
		b.Run("start/"+c.name, func(b *testing.B) {
			for b.Loop() {
				l, err := Open(ctx, path)
				if err != nil {
					b.Fatal(err)
				}
				id, err := l.Register(ctx, c.name, "fp", platform, false)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := l.Recover(ctx, id); err != nil {
					b.Fatal(err)
				}
				if empty, err := l.Empty(ctx, id); err != nil || empty {
					b.Fatalf("empty = %v, %v", empty, err)
				}
				var gen int64
				if err := l.db.QueryRowContext(ctx, `SELECT import_gen FROM campaigns WHERE id = ?`, id).Scan(&gen); err != nil {
					b.Fatal(err)
				}
				q := l.Queue(id, gen, Eligible{})
				left, err := q.Remaining(ctx)
				if err != nil {
					b.Fatal(err)
				}
				jobs, err := q.Next(ctx, 128)
				if err != nil || (left > 0) != (len(jobs) > 0) {
					b.Fatalf("remaining %d, next %d jobs, %v", left, len(jobs), err)
				}
				l.Close()
			}
		})
	}
}
