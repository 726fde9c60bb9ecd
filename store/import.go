package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/pregon/pregon/campaign"
)

// importBatch is how many rows share one import transaction.
const importBatch = 2000

// maxListed bounds how many duplicates an ImportResult describes.
const maxListed = 10

// ImportResult counts what an import found in the CSV. Every row is
// counted once: Rows is the sum of the other counts.
type ImportResult struct {
	Rows      int // rows read, empty ones included
	New       int // contacts seen for the first time, now pending
	Updated   int // pending contacts whose message was rendered again
	Revived   int // refused contacts whose row changed, pending again
	Done      int // contacts already sent, unknown or refused: left as they are
	Invalid   int
	Duplicate int
	// Empty counts rows whose cells are all empty (what Excel saves for an
	// empty row): skipped, neither contacts nor invalid. The reader skips
	// them; the caller adds them (AddEmpty).
	Empty int
	// Duplicates describes the first maxListed duplicate rows.
	Duplicates []string
	// Absent counts pending or failed contacts of earlier imports that this
	// CSV does not list. They are kept, and not sent by this run.
	Absent int
}

// Importer brings a CSV's rows into the ledger, in batches.
type Importer struct {
	l      *Ledger
	id     CampaignID
	gen    int64
	source string
	batch  []campaign.Message
	res    ImportResult
	// inflight is the batch being committed while the next one fills:
	// parsing and SQLite work at the same time.
	inflight chan batchResult

	// What a queue following the import (Queue.Follow) may hand out.
	progress  sync.Mutex
	committed int64         // highest rowid committed by this import
	finished  bool          // Finish (or Abort) ran
	failed    error         // why the import stopped, if it failed
	changed   chan struct{} // closed and replaced at every change
}

type batchResult struct {
	res ImportResult
	err error
}

// Import starts importing a CSV (source is its file name, header its
// columns as written). The rows given to Add become the contacts this run
// works on: a contact met for the first time is pending; one already sent
// or in doubt keeps its state and payload; a second row for the same
// contact is a duplicate. Contacts of earlier imports that this CSV does
// not list are kept as they are. Call it only while holding the Lock.
func (l *Ledger) Import(ctx context.Context, id CampaignID, source string, header []string) (*Importer, error) {
	im := &Importer{l: l, id: id, source: source, changed: make(chan struct{})}
	hj, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("start import: %w", err)
	}
	err = l.write(ctx, onDisk, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `UPDATE campaigns SET import_gen = import_gen + 1, header = ?
			WHERE id = ? RETURNING import_gen`, string(hj), id).Scan(&im.gen)
	})
	if err != nil {
		return nil, fmt.Errorf("start import: %w", err)
	}
	return im, nil
}

// AddEmpty counts n rows the reader skipped because they were empty.
func (im *Importer) AddEmpty(n int) {
	im.res.Rows += n
	im.res.Empty += n
}

// Generation identifies this import: a run sends only the contacts it saw.
func (im *Importer) Generation() int64 { return im.gen }

// Add queues one row; rows are written in batches.
func (im *Importer) Add(ctx context.Context, m campaign.Message) error {
	im.batch = append(im.batch, m)
	if len(im.batch) >= importBatch {
		return im.flush(ctx)
	}
	return nil
}

// Finish writes the last rows, drops the invalid and duplicate rows an
// earlier import of the same file recorded (this import recorded them
// afresh), and drops invalid rows whose contact now has a valid row.
func (im *Importer) Finish(ctx context.Context) (res ImportResult, err error) {
	defer func() { im.publish(0, true, err) }()
	if err := im.flush(ctx); err != nil {
		return im.res, err
	}
	if err := im.wait(); err != nil {
		return im.res, err
	}
	err = im.l.write(ctx, withNext, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE campaign_id = ? AND seen_gen <> ? AND source = ?
			AND state IN ('invalid', 'duplicate')`, im.id, im.gen, im.source); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM contacts AS i WHERE i.campaign_id = ? AND i.seen_gen <> ?
			AND i.state = 'invalid' AND i.contact <> '' AND EXISTS (SELECT 1 FROM contacts AS c
				WHERE c.campaign_id = i.campaign_id AND c.contact = i.contact AND c.state NOT IN ('invalid', 'duplicate'))`,
			im.id, im.gen); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM contacts WHERE campaign_id = ? AND seen_gen <> ?
			AND state IN ('pending', 'failed')`, im.id, im.gen).Scan(&im.res.Absent)
	})
	if err != nil {
		return im.res, fmt.Errorf("finish import: %w", err)
	}
	return im.res, nil
}

// flush hands the batch to the ledger's writer and returns once the batch
// before it is committed. Batches do not wait for the disk: the first
// attempt to send one of their contacts syncs the log, and them with it; a
// power cut before that loses only rows the next run imports again.
func (im *Importer) flush(ctx context.Context) error {
	if len(im.batch) == 0 {
		return nil
	}
	if err := im.wait(); err != nil {
		return err
	}
	batch := im.batch
	im.batch = make([]campaign.Message, 0, importBatch)
	done := make(chan batchResult, 1)
	im.inflight = done
	go func() {
		var res ImportResult
		var maxID int64
		err := im.l.write(ctx, withNext, func(tx *sql.Tx) error {
			res = ImportResult{}
			w, err := newRowWriter(ctx, tx, im)
			if err != nil {
				return err
			}
			defer w.close()
			for _, m := range batch {
				if err := w.add(ctx, m, &res); err != nil {
					return fmt.Errorf("line %d: %w", m.Line, err)
				}
			}
			// Every rowid up to here is committed with this batch: a
			// following queue may hand those contacts out.
			return tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM contacts`).Scan(&maxID)
		})
		if err != nil {
			err = fmt.Errorf("import: %w", err)
		} else {
			im.publish(maxID, false, nil)
		}
		done <- batchResult{res: res, err: err}
	}()
	return nil
}

// Abort ends an import that will not be finished (the file is broken, or
// the run was stopped): a queue following it stops waiting. The rows
// imported so far stay; the next import of the campaign starts over.
func (im *Importer) Abort(err error) {
	if im.inflight != nil {
		<-im.inflight
		im.inflight = nil
	}
	im.publish(0, true, fmt.Errorf("import stopped: %w", err))
}

// publish records the import's progress and wakes queues following it.
func (im *Importer) publish(committed int64, finished bool, failed error) {
	im.progress.Lock()
	defer im.progress.Unlock()
	if committed > im.committed {
		im.committed = committed
	}
	if finished && !im.finished {
		im.finished = true
		im.failed = failed
	}
	close(im.changed)
	im.changed = make(chan struct{})
}

// state is the import's progress for a following queue.
func (im *Importer) state() (committed int64, finished bool, changed <-chan struct{}, failed error) {
	im.progress.Lock()
	defer im.progress.Unlock()
	return im.committed, im.finished, im.changed, im.failed
}

// wait waits for the batch being committed, if any, and counts it.
func (im *Importer) wait() error {
	if im.inflight == nil {
		return nil
	}
	r := <-im.inflight
	im.inflight = nil
	if r.err != nil {
		return r.err
	}
	im.res.add(r.res)
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
	for _, d := range o.Duplicates {
		if len(r.Duplicates) < maxListed {
			r.Duplicates = append(r.Duplicates, d)
		}
	}
}

// rowWriter holds one import transaction's prepared statements.
type rowWriter struct {
	im        *Importer
	now       string
	find      *sql.Stmt
	insert    *sql.Stmt
	insertNew *sql.Stmt
	refresh   *sql.Stmt
	keep      *sql.Stmt
	// replace drops the invalid record a row of an export was exported
	// from (the record and file the export names): the fixed (or still
	// broken) row takes its place.
	replace *sql.Stmt
}

func newRowWriter(ctx context.Context, tx *sql.Tx, im *Importer) (*rowWriter, error) {
	w := &rowWriter{im: im, now: stamp(time.Now())}
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
	w.insert = prep(`INSERT INTO contacts (campaign_id, line, contact, path, payload, cells, source, state, error, seen_gen, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	// Most rows of a campaign are new: try the insert first, and look the
	// contact up only when it is already there.
	w.insertNew = prep(`INSERT INTO contacts (campaign_id, line, contact, path, payload, cells, source, state, error, seen_gen, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', NULL, ?, ?, ?)
		ON CONFLICT (campaign_id, contact) WHERE state NOT IN ('invalid', 'duplicate') DO NOTHING`)
	// A contact not yet attempted, or refused before and changed since:
	// pending with the message as the CSV now says it.
	w.refresh = prep(`UPDATE contacts SET line = ?, path = ?, payload = ?, cells = ?, source = ?, state = 'pending',
		permanent = 0, http_status = NULL, error = NULL, seen_gen = ?, updated_at = ? WHERE id = ?`)
	// A contact whose message is on record as it was (maybe) sent: its
	// payload stays; only where the CSV has it now changes.
	w.keep = prep(`UPDATE contacts SET line = ?, cells = ?, source = ?, seen_gen = ? WHERE id = ?`)
	w.replace = prep(`DELETE FROM contacts WHERE id = ? AND campaign_id = ? AND state = 'invalid' AND source = ?`)
	if err != nil {
		w.close()
		return nil, fmt.Errorf("prepare import: %w", err)
	}
	return w, nil
}

func (w *rowWriter) close() {
	for _, s := range []*sql.Stmt{w.find, w.insert, w.insertNew, w.refresh, w.keep, w.replace} {
		if s != nil {
			s.Close()
		}
	}
}

func (w *rowWriter) add(ctx context.Context, m campaign.Message, res *ImportResult) error {
	res.Rows++
	cells, err := json.Marshal(m.Cells)
	if err != nil {
		return err
	}
	im := w.im
	if m.Exported.Record > 0 {
		if _, err := w.replace.ExecContext(ctx, m.Exported.Record, im.id, m.Exported.File); err != nil {
			return err
		}
	}
	if m.Problem != nil {
		res.Invalid++
		_, err := w.insert.ExecContext(ctx, im.id, m.Line, m.Contact, m.Path, []byte{}, string(cells), im.source,
			campaign.Invalid, m.Problem.Reason(), im.gen, w.now, w.now)
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
	ins, err := w.insertNew.ExecContext(ctx, im.id, m.Line, m.Contact, m.Path, m.Payload, string(cells), im.source, im.gen, w.now, w.now)
	if err != nil {
		return err
	}
	if n, err := ins.RowsAffected(); err != nil || n == 1 {
		if n == 1 {
			res.New++
		}
		return err
	}
	err = w.find.QueryRowContext(ctx, im.id, m.Contact).Scan(&id, &line, &state, &permanent, &payload, &path, &seenGen)
	switch {
	case err != nil:
		return err
	case seenGen == im.gen:
		res.Duplicate++
		reason := campaign.DuplicateReason(line)
		if len(res.Duplicates) < maxListed {
			res.Duplicates = append(res.Duplicates, campaign.DuplicateNote(im.source, m.Line, line, m.Contact))
		}
		_, err := w.insert.ExecContext(ctx, im.id, m.Line, m.Contact, m.Path, m.Payload, string(cells), im.source,
			campaign.Duplicate, reason, im.gen, w.now, w.now)
		return err
	}
	changed := !bytes.Equal(payload, m.Payload) || path != m.Path
	switch {
	case state == campaign.Pending || (state == campaign.Failed && !permanent):
		res.Updated++
		_, err = w.refresh.ExecContext(ctx, m.Line, m.Path, m.Payload, string(cells), im.source, im.gen, w.now, id)
	case state == campaign.Failed && changed:
		res.Revived++
		_, err = w.refresh.ExecContext(ctx, m.Line, m.Path, m.Payload, string(cells), im.source, im.gen, w.now, id)
	default: // sent, unknown, sending, or refused and unchanged
		res.Done++
		_, err = w.keep.ExecContext(ctx, m.Line, string(cells), im.source, im.gen, id)
	}
	return err
}
