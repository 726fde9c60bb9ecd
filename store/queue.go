package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/pregon/pregon/campaign"
)

// Eligible says which contacts a run sends to besides pending ones and
// failed ones the platform did not refuse.
type Eligible struct {
	RetryFailed   bool // also contacts the platform refused (400/403/404/409)
	ResendUnknown bool // also contacts whose earlier request may have delivered
}

// Queue hands a run the campaign's contacts to send, in CSV order, and
// records each attempt and outcome. It implements sender.Queue.
type Queue struct {
	l         *Ledger
	id        CampaignID
	gen       int64
	eligible  Eligible
	nextQuery string // see nextSQL
	lastID    int64
	follow    *Importer // set by Follow: hand out rows as the import commits them
}

// Queue returns the campaign's work queue, in the order contacts were first
// imported (the CSV's order): the eligible contacts that the
// import of this run (generation gen, see Importer.Generation) found in the
// CSV. A run sends exactly what its CSV lists. Call it only while holding
// the campaign's Lock.
func (l *Ledger) Queue(id CampaignID, gen int64, e Eligible) *Queue {
	return &Queue{l: l, id: id, gen: gen, eligible: e, nextQuery: nextSQL(e)}
}

// eligibleStateSQL is whether a contact's state lets a run send to it.
const eligibleStateSQL = `(state = 'pending'
	OR (state = 'failed' AND (permanent = 0 OR :retry_failed))
	OR (state = 'unknown' AND :resend_unknown))`

// eligibleSQL selects the contacts a run may send to: eligible, and listed
// by the run's CSV. Its first terms let SQLite find them through the
// contacts_state index; the last one decides.
const eligibleSQL = `state IN ('pending', 'failed', 'unknown') AND seen_gen = :gen AND ` + eligibleStateSQL

// remainingSQL counts the contacts a queue would still hand out, from the
// contacts_state index alone.
const remainingSQL = `SELECT count(*) FROM contacts WHERE campaign_id = :id AND id > :after AND ` + eligibleSQL

// nextSQL is the query for Queue.Next: up to :n contacts e makes eligible,
// in rowid (CSV) order, after :after and up to :upto.
//
// Each (state, permanent) pair that eligibleStateSQL lets through is, for
// one campaign and one import, a range of the contacts_state index that is
// already in rowid order: the query takes the first :n of each range and
// merges them, and so reads at most :n index entries a range and :n rows
// per call, whatever the size of the campaign and however scattered its
// eligible contacts are. The obvious query (campaign_id = :id AND eligibleSQL ORDER
// BY id) makes SQLite sort every eligible contact of the campaign at
// every call, or, without the index, scan the table from :after on.
func nextSQL(e Eligible) string {
	var ranges []string
	add := func(state string, permanent int) {
		ranges = append(ranges, fmt.Sprintf(`SELECT id FROM (SELECT id FROM contacts
			WHERE campaign_id = :id AND state = '%s' AND seen_gen = :gen AND permanent = %d
				AND id > :after AND id <= :upto
			ORDER BY id LIMIT :n)`, state, permanent))
	}
	add("pending", 0)
	add("pending", 1)
	add("failed", 0)
	if e.RetryFailed {
		add("failed", 1)
	}
	if e.ResendUnknown {
		add("unknown", 0)
		add("unknown", 1)
	}
	return `SELECT id, line, contact, path, payload, attempts FROM contacts WHERE id IN (
		SELECT id FROM (` + strings.Join(ranges, "\n\t\tUNION ALL ") + `) ORDER BY id LIMIT :n)
	ORDER BY id`
}

// Follow makes the queue hand out contacts while im is still importing,
// as soon as their batch is committed: the first message leaves within a
// second, whatever the size of the file.
//
// Only for a campaign that had no contacts before this import: then every
// row the import writes is new, rowids follow the file, and nothing behind
// the queue's position changes later. (On a re-import an older contact may
// be refreshed after the queue has passed it.)
func (q *Queue) Follow(im *Importer) *Queue {
	q.follow = im
	return q
}

// Next returns up to n more contacts to send, after those already handed
// out. An empty result means there is nothing left. A queue that follows
// an import waits for the import's next batch, or its end.
func (q *Queue) Next(ctx context.Context, n int) ([]campaign.Job, error) {
	if q.follow == nil {
		return q.next(ctx, n, -1)
	}
	for {
		committed, finished, changed, failed := q.follow.state()
		if failed != nil {
			return nil, failed
		}
		limit := committed
		if finished {
			limit = -1
		}
		jobs, err := q.next(ctx, n, limit)
		if err != nil || len(jobs) > 0 || finished {
			return jobs, err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// next reads the eligible contacts after the queue's position, up to rowid
// limit (-1: no limit).
func (q *Queue) next(ctx context.Context, n int, limit int64) ([]campaign.Job, error) {
	upto := limit
	if limit < 0 {
		upto = math.MaxInt64
	}
	rows, err := q.l.db.QueryContext(ctx, q.nextQuery, sql.Named("id", q.id), sql.Named("gen", q.gen),
		sql.Named("after", q.lastID), sql.Named("upto", upto), sql.Named("n", n))
	if err != nil {
		return nil, fmt.Errorf("read queue: %w", err)
	}
	defer rows.Close()
	var jobs []campaign.Job
	for rows.Next() {
		var j campaign.Job
		if err := rows.Scan(&j.ID, &j.Line, &j.Contact, &j.Path, &j.Payload, &j.Attempts); err != nil {
			return nil, fmt.Errorf("read queue: %w", err)
		}
		jobs = append(jobs, j)
		q.lastID = j.ID
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read queue: %w", err)
	}
	return jobs, nil
}

// args are the values remainingSQL refers to.
func (q *Queue) args() []any {
	return []any{sql.Named("id", q.id), sql.Named("after", q.lastID), sql.Named("gen", q.gen),
		sql.Named("retry_failed", q.eligible.RetryFailed), sql.Named("resend_unknown", q.eligible.ResendUnknown)}
}

// Remaining counts the contacts the queue would still hand out.
func (q *Queue) Remaining(ctx context.Context) (int, error) {
	var n int
	err := q.l.db.QueryRowContext(ctx, remainingSQL, q.args()...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count queue: %w", err)
	}
	return n, nil
}

// Attempt durably records that a request for the contact is about to be
// made. When it returns an error the request must not be made.
func (q *Queue) Attempt(ctx context.Context, id int64) error {
	now := stamp(time.Now())
	// ctx stops the write only until its transaction begins (see write).
	wctx := context.WithoutCancel(ctx)
	return q.l.write(ctx, onDisk, func(tx *sql.Tx) error {
		st, err := q.l.stmt(wctx, tx, `UPDATE contacts SET state = 'sending', attempts = attempts + 1,
			attempted_at = ?, updated_at = ? WHERE id = ? AND state IN ('pending', 'failed', 'unknown')`)
		if err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		res, err := st.ExecContext(wctx, now, now, id)
		if err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("record attempt: contact %d is not waiting to be sent", id)
		}
		return nil
	})
}

// Record records what a request's answer means for its contact. It
// survives the process being killed as soon as it returns, and a power cut
// from the next Attempt on (or the ledger's Close): sparing a disk sync
// per message halves what sending costs the machine, and the worst a power
// cut can do is leave the last answers' contacts in doubt (sending, then
// unknown) — never send them again, never skip them.
func (q *Queue) Record(ctx context.Context, id int64, o campaign.Outcome) error {
	at := o.At
	if at.IsZero() {
		at = time.Now()
	}
	var sentAt, status, messageID, reason any
	if o.State == campaign.Sent {
		sentAt = stamp(at)
	}
	if o.HTTPStatus != 0 {
		status = o.HTTPStatus
	}
	if o.MessageID != "" {
		messageID = o.MessageID
	}
	reason = reasonValue(o.Reason)
	wctx := context.WithoutCancel(ctx)
	return q.l.write(ctx, withNext, func(tx *sql.Tx) error {
		st, err := q.l.stmt(wctx, tx, `UPDATE contacts SET state = ?, http_status = ?, message_id = ?, error = NULL, reason = ?,
			permanent = ?, sent_at = coalesce(?, sent_at), updated_at = ? WHERE id = ?`)
		if err != nil {
			return fmt.Errorf("record outcome: %w", err)
		}
		_, err = st.ExecContext(wctx, o.State, status, messageID, reason, o.Permanent, sentAt, stamp(at), id)
		if err != nil {
			return fmt.Errorf("record outcome: %w", err)
		}
		return nil
	})
}

// Plan answers, for a dry run, whether a run would send to a contact: it
// would unless the ledger already has the contact in a state e does not
// send to (sent, in doubt, refused).
type Plan struct {
	stmt *sql.Stmt
	id   CampaignID
	e    Eligible
}

// planSQL is whether a run would send to a contact, through the
// contacts_identity index.
const planSQL = `SELECT ` + eligibleStateSQL + ` FROM contacts
	WHERE campaign_id = :id AND contact = :contact AND state NOT IN ('invalid', 'duplicate')`

// Plan prepares the dry run's question for the campaign. Close it after.
func (l *Ledger) Plan(ctx context.Context, id CampaignID, e Eligible) (*Plan, error) {
	st, err := l.db.PrepareContext(ctx, planSQL)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return &Plan{stmt: st, id: id, e: e}, nil
}

// WouldSend reports whether a run would send to the contact.
func (p *Plan) WouldSend(ctx context.Context, contact string) (bool, error) {
	var ok bool
	err := p.stmt.QueryRowContext(ctx, sql.Named("id", p.id), sql.Named("contact", contact),
		sql.Named("retry_failed", p.e.RetryFailed), sql.Named("resend_unknown", p.e.ResendUnknown)).Scan(&ok)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("plan: %w", err)
	}
	return ok, nil
}

// Close releases the plan.
func (p *Plan) Close() error { return p.stmt.Close() }
