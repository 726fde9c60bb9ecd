package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pregon/pregon/campaign"
)

// importBatch is how many rows share one import transaction.
const importBatch = 2000

// ImportResult counts what an import found in the CSV.
type ImportResult struct {
	Rows      int // rows read
	New       int // contacts seen for the first time, now pending
	Updated   int // pending contacts whose message was rendered again
	Revived   int // failed contacts whose row changed, pending again
	Done      int // contacts already sent, unknown or refused: left as they are
	Invalid   int
	Duplicate int
	Removed   int // pending or failed contacts no longer in the CSV, dropped
}

// Importer brings a CSV's rows into the ledger, in batches.
type Importer struct {
	l     *Ledger
	id    CampaignID
	gen   int64
	batch []campaign.Message
	res   ImportResult
}

// Import starts importing the campaign's CSV. The rows given to Add become
// the campaign's contacts: a contact met for the first time is pending; one
// already sent or in doubt keeps its state and payload; a second row for
// the same contact is a duplicate. Call it only while holding the Lock.
func (l *Ledger) Import(ctx context.Context, id CampaignID) (*Importer, error) {
	im := &Importer{l: l, id: id}
	err := l.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `UPDATE campaigns SET import_gen = import_gen + 1 WHERE id = ? RETURNING import_gen`, id).Scan(&im.gen)
	})
	if err != nil {
		return nil, fmt.Errorf("start import: %w", err)
	}
	return im, nil
}

// Add queues one row; rows are written in batches.
func (im *Importer) Add(ctx context.Context, m campaign.Message) error {
	im.batch = append(im.batch, m)
	if len(im.batch) >= importBatch {
		return im.flush(ctx)
	}
	return nil
}

// Finish writes the last rows and drops what the CSV no longer has:
// pending and failed contacts, and old invalid and duplicate rows. Sent and
// unknown contacts are kept: they may have the message.
func (im *Importer) Finish(ctx context.Context) (ImportResult, error) {
	if err := im.flush(ctx); err != nil {
		return im.res, err
	}
	err := im.l.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE campaign_id = ? AND seen_gen <> ?
			AND state IN ('invalid', 'duplicate')`, im.id, im.gen); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE campaign_id = ? AND seen_gen <> ?
			AND state IN ('pending', 'failed')`, im.id, im.gen)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		im.res.Removed = int(n)
		return err
	})
	if err != nil {
		return im.res, fmt.Errorf("finish import: %w", err)
	}
	return im.res, nil
}

func (im *Importer) flush(ctx context.Context) error {
	if len(im.batch) == 0 {
		return nil
	}
	batch := im.batch
	im.batch = im.batch[:0:0]
	var res ImportResult
	err := im.l.write(ctx, func(tx *sql.Tx) error {
		res = ImportResult{}
		w, err := newRowWriter(ctx, tx, im.id, im.gen)
		if err != nil {
			return err
		}
		defer w.close()
		for _, m := range batch {
			if err := w.add(ctx, m, &res); err != nil {
				return fmt.Errorf("line %d: %w", m.Line, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	im.res.add(res)
	return nil
}

func (r *ImportResult) add(o ImportResult) {
	r.Rows += o.Rows
	r.New += o.New
	r.Updated += o.Updated
	r.Revived += o.Revived
	r.Done += o.Done
	r.Invalid += o.Invalid
	r.Duplicate += o.Duplicate
}

// rowWriter holds one import transaction's prepared statements.
type rowWriter struct {
	id      CampaignID
	gen     int64
	now     string
	find    *sql.Stmt
	insert  *sql.Stmt
	refresh *sql.Stmt
	keep    *sql.Stmt
}

func newRowWriter(ctx context.Context, tx *sql.Tx, id CampaignID, gen int64) (*rowWriter, error) {
	w := &rowWriter{id: id, gen: gen, now: stamp(time.Now())}
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var s *sql.Stmt
		s, err = tx.PrepareContext(ctx, q)
		return s
	}
	w.find = prep(`SELECT id, line, state, permanent, payload, path, seen_gen FROM contacts
		WHERE campaign_id = ? AND contact = ? AND state NOT IN ('invalid', 'duplicate')`)
	w.insert = prep(`INSERT INTO contacts (campaign_id, line, contact, path, payload, state, error, seen_gen, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	// A contact not yet attempted, or refused before and changed since:
	// pending with the message as the CSV now says it.
	w.refresh = prep(`UPDATE contacts SET line = ?, path = ?, payload = ?, state = 'pending', permanent = 0,
		http_status = NULL, error = NULL, seen_gen = ?, updated_at = ? WHERE id = ?`)
	// A contact whose message is on record as it was sent: only its line.
	w.keep = prep(`UPDATE contacts SET line = ?, seen_gen = ? WHERE id = ?`)
	if err != nil {
		w.close()
		return nil, fmt.Errorf("prepare import: %w", err)
	}
	return w, nil
}

func (w *rowWriter) close() {
	for _, s := range []*sql.Stmt{w.find, w.insert, w.refresh, w.keep} {
		if s != nil {
			s.Close()
		}
	}
}

func (w *rowWriter) add(ctx context.Context, m campaign.Message, res *ImportResult) error {
	res.Rows++
	if m.Problem != nil {
		res.Invalid++
		_, err := w.insert.ExecContext(ctx, w.id, m.Line, m.Contact, m.Path, []byte{}, campaign.Invalid, m.Problem.Reason(), w.gen, w.now, w.now)
		return err
	}
	var (
		id        int64
		line      int
		state     campaign.State
		permanent bool
		payload   []byte
		path      string
		seenGen   int64
	)
	err := w.find.QueryRowContext(ctx, w.id, m.Contact).Scan(&id, &line, &state, &permanent, &payload, &path, &seenGen)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res.New++
		_, err := w.insert.ExecContext(ctx, w.id, m.Line, m.Contact, m.Path, m.Payload, campaign.Pending, nil, w.gen, w.now, w.now)
		return err
	case err != nil:
		return err
	case seenGen == w.gen:
		res.Duplicate++
		_, err := w.insert.ExecContext(ctx, w.id, m.Line, m.Contact, m.Path, m.Payload, campaign.Duplicate,
			fmt.Sprintf("same contact as line %d", line), w.gen, w.now, w.now)
		return err
	}
	changed := !bytes.Equal(payload, m.Payload) || path != m.Path
	switch {
	case state == campaign.Pending || (state == campaign.Failed && !permanent):
		res.Updated++
		_, err = w.refresh.ExecContext(ctx, m.Line, m.Path, m.Payload, w.gen, w.now, id)
	case state == campaign.Failed && changed:
		res.Revived++
		_, err = w.refresh.ExecContext(ctx, m.Line, m.Path, m.Payload, w.gen, w.now, id)
	default: // sent, unknown, sending, or refused and unchanged
		res.Done++
		_, err = w.keep.ExecContext(ctx, m.Line, w.gen, id)
	}
	return err
}
