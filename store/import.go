package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
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
	Rows    int // rows read, empty ones included
	New     int // contacts seen for the first time, now pending
	Updated int // pending contacts whose message was rendered again
	Revived int // refused contacts whose row changed, pending again
	Done    int // contacts already sent, unknown or refused: left as they are
	// Fixed counts broken rows whose contact has a good row in another
	// file (typically the export it was fixed in): that row stands for
	// them, and they are not counted again.
	Fixed     int
	Invalid   int
	Duplicate int
	// Empty counts rows whose cells are all empty (what Excel saves for an
	// empty row): skipped, neither contacts nor invalid. The reader skips
	// them; the caller adds them (AddEmpty).
	Empty int
	// Duplicates describes the first maxListed duplicate rows, FixedRows
	// the first maxListed fixed ones.
	Duplicates []campaign.DuplicateRow
	FixedRows  []campaign.FixedRow
	// Problems are the first maxListed rows counted Invalid.
	Problems []*campaign.RowError
	// Absent counts pending or failed contacts of earlier imports that this
	// CSV does not list. They are kept, and not sent by this run.
	Absent int
}

// Importer brings a CSV's rows into the ledger, in batches.
type Importer struct {
	l        *Ledger
	id       CampaignID
	gen      int64
	source   string
	headerID int64 // the file's header in the headers table
	batch    []campaign.Message
	res      ImportResult
	// broken counts the rows with a problem met so far, by Key: rows with
	// the same cells are told apart by their order in the file (see
	// rowWriter.key). met holds the line that first listed a record of
	// another file standing for a broken row. Only the batch being written
	// reads them, and a batch adds to them once committed (see
	// rowWriter.broken).
	broken map[string]int
	met    map[int64]int
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
	res    ImportResult
	broken map[string]int // the batch's additions to Importer.broken
	met    map[int64]int  // and to Importer.met
	err    error
}

// Import starts importing a CSV (source is its file name, header its
// columns as written). The rows given to Add become the contacts this run
// works on.
//
// A row is the contact it names, whatever file or line the contact was met
// at before: one met for the first time is pending; one already sent or
// in doubt keeps its state and payload; a second row for the same contact
// in this file is a duplicate. A row with a problem is invalid, unless its
// contact has a good row in another file (the export it was fixed in):
// then that row stands for it. A row without a contact is known by its
// file and content (campaign.Message.Key). A row of a pregon export
// replaces the invalid record it was exported from, and only that one.
// Contacts of earlier imports that this CSV does not list are kept as they
// are. Call it only while holding the Lock.
func (l *Ledger) Import(ctx context.Context, id CampaignID, source string, header []string) (*Importer, error) {
	im := &Importer{l: l, id: id, source: source, broken: map[string]int{}, met: map[int64]int{},
		changed: make(chan struct{})}
	hj, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("start import: %w", err)
	}
	err = l.write(ctx, onDisk, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `UPDATE campaigns SET import_gen = import_gen + 1, header = ?
			WHERE id = ? RETURNING import_gen`, string(hj), id).Scan(&im.gen); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO headers (columns) VALUES (?) ON CONFLICT (columns) DO NOTHING`, string(hj)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT id FROM headers WHERE columns = ?`, string(hj)).Scan(&im.headerID)
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

// Finish writes the last rows and settles what the file's rows decided
// about records of before: it drops the invalid and duplicate rows an
// earlier import of the same file recorded and this one did not find
// again, makes a broken row whose contact a later row of this file
// lists a duplicate of that row, and drops invalid rows of earlier
// imports whose contact now has a good row.
func (im *Importer) Finish(ctx context.Context) (res ImportResult, err error) {
	defer func() { im.publish(0, true, err) }()
	if err := im.flush(ctx); err != nil {
		return im.res, err
	}
	if err := im.wait(); err != nil {
		return im.res, err
	}
	var settled ImportResult
	err = im.l.write(ctx, withNext, func(tx *sql.Tx) error {
		settled = ImportResult{}
		if err := im.settleBroken(ctx, tx, &settled); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE campaign_id = ? AND seen_gen <> ? AND source = ?
			AND state IN ('invalid', 'duplicate')`, im.id, im.gen, im.source); err != nil {
			return err
		}
		// A fix that named a record no longer there names nothing.
		if _, err := tx.ExecContext(ctx, `DELETE FROM fixes WHERE campaign_id = ? AND NOT EXISTS (SELECT 1 FROM contacts AS c
			WHERE c.id = fixes.contact_id AND c.campaign_id = fixes.campaign_id AND c.state <> 'duplicate')`, im.id); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM contacts WHERE campaign_id = ? AND seen_gen <> ?
			AND state IN ('pending', 'failed')`, im.id, im.gen).Scan(&settled.Absent)
	})
	if err != nil {
		return im.res, fmt.Errorf("finish import: %w", err)
	}
	im.res.Invalid -= settled.Duplicate
	im.res.Duplicate += settled.Duplicate
	im.res.Duplicates = appendListed(im.res.Duplicates, settled.Duplicates...)
	im.res.Absent = settled.Absent
	return im.res, nil
}

// settleBroken deals with invalid records of a contact that has a good
// record. One this file listed is a broken row of this file that a good
// row further down lists again: a duplicate of that row, as it would be
// the other way round (res counts them in Duplicate). One of an earlier
// import is a row since fixed, in this file or another: it goes. A fix
// that named either names the good record instead.
func (im *Importer) settleBroken(ctx context.Context, tx *sql.Tx, res *ImportResult) error {
	rows, err := tx.QueryContext(ctx, `SELECT i.id, i.line, i.contact, i.seen_gen, i.source, g.id, g.line FROM contacts AS i
		JOIN contacts AS g ON g.campaign_id = i.campaign_id AND g.contact = i.contact AND g.state NOT IN ('invalid', 'duplicate')
		WHERE i.campaign_id = ? AND i.state = 'invalid' AND i.contact <> ''`, im.id)
	if err != nil {
		return err
	}
	type pair struct {
		invalid, good  int64
		line, goodLine int
		contact        string
		seenGen        int64
		source         string
	}
	var pairs []pair
	for rows.Next() {
		var p pair
		if err := rows.Scan(&p.invalid, &p.line, &p.contact, &p.seenGen, &p.source, &p.good, &p.goodLine); err != nil {
			rows.Close()
			return err
		}
		pairs = append(pairs, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := stamp(time.Now())
	for _, p := range pairs {
		if _, err := tx.ExecContext(ctx, `UPDATE fixes SET contact_id = ? WHERE contact_id = ?`, p.good, p.invalid); err != nil {
			return err
		}
		if p.seenGen != im.gen {
			if _, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE id = ?`, p.invalid); err != nil {
				return err
			}
			continue
		}
		// A record of another file that a broken row of this one stood
		// for becomes that row's duplicate record, at that row's line.
		line := p.line
		if l, ok := im.met[p.invalid]; ok && p.source != im.source {
			line = l
		}
		if _, err := tx.ExecContext(ctx, `UPDATE contacts SET state = 'duplicate', error = NULL, reason = ?, row_key = NULL, line = ?,
			source = ?, updated_at = ? WHERE id = ?`, reasonValue(campaign.DuplicateReason(p.goodLine)), line, im.source, now, p.invalid); err != nil {
			return err
		}
		res.Duplicate++
		res.Duplicates = appendListed(res.Duplicates, campaign.DuplicateRow{File: im.source, Line: line, FirstLine: p.goodLine, Contact: p.contact})
	}
	return nil
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
		var w *rowWriter
		var maxID int64
		err := im.l.write(ctx, withNext, func(tx *sql.Tx) error {
			// The writer may run this again after a failed group commit:
			// start from nothing each time.
			res = ImportResult{}
			var err error
			w, err = newRowWriter(ctx, tx, im)
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
		r := batchResult{res: res, err: err}
		if w != nil {
			r.broken, r.met = w.broken, w.met
		}
		done <- r
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
	for k, n := range r.broken {
		im.broken[k] += n
	}
	maps.Copy(im.met, r.met)
	return nil
}

func (r *ImportResult) add(o ImportResult) {
	r.Rows += o.Rows
	r.New += o.New
	r.Updated += o.Updated
	r.Revived += o.Revived
	r.Done += o.Done
	r.Fixed += o.Fixed
	r.Invalid += o.Invalid
	r.Duplicate += o.Duplicate
	r.Duplicates = appendListed(r.Duplicates, o.Duplicates...)
	r.FixedRows = appendListed(r.FixedRows, o.FixedRows...)
	r.Problems = appendListed(r.Problems, o.Problems...)
}

// appendListed appends to a list that holds at most maxListed items.
func appendListed[T any](list []T, items ...T) []T {
	for _, it := range items {
		if len(list) >= maxListed {
			break
		}
		list = append(list, it)
	}
	return list
}

// rowWriter holds one import transaction's prepared statements.
type rowWriter struct {
	im  *Importer
	now string
	// broken and met hold what this batch met, on top of Importer.broken
	// and Importer.met (which only a committed batch adds to).
	broken map[string]int
	met    map[int64]int

	find        *sql.Stmt // a contact's good record
	findInvalid *sql.Stmt // a contact's invalid record
	findRow     *sql.Stmt // an invalid record of this file, by Key
	findFix     *sql.Stmt // the record a broken row of this file was fixed into
	origin      *sql.Stmt // the invalid record an export's row was exported from
	insert      *sql.Stmt
	insertNew   *sql.Stmt
	refresh     *sql.Stmt
	keep        *sql.Stmt
	see         *sql.Stmt // this file lists the record, as it is
	rewrite     *sql.Stmt // an invalid record takes this file's broken row
	break_      *sql.Stmt // a contact not sent yet whose row broke: invalid
	drop        *sql.Stmt
	fix         *sql.Stmt // records what a broken row was fixed into
	moveFixes   *sql.Stmt
}

func newRowWriter(ctx context.Context, tx *sql.Tx, im *Importer) (*rowWriter, error) {
	w := &rowWriter{im: im, now: stamp(time.Now()), broken: map[string]int{}, met: map[int64]int{}}
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var s *sql.Stmt
		s, err = tx.PrepareContext(ctx, q)
		return s
	}
	w.find = prep(`SELECT id, line, state, permanent, payload, path, seen_gen, source FROM contacts
		WHERE campaign_id = ? AND contact = ? AND state NOT IN ('invalid', 'duplicate')`)
	w.findInvalid = prep(`SELECT id, line, seen_gen, source FROM contacts
		WHERE campaign_id = ? AND contact = ? AND state = 'invalid' ORDER BY seen_gen DESC, id DESC LIMIT 1`)
	w.findRow = prep(`SELECT id FROM contacts
		WHERE campaign_id = ? AND row_key = ? AND source = ? AND state = 'invalid' ORDER BY seen_gen DESC, id DESC LIMIT 1`)
	w.findFix = prep(`SELECT c.id, c.line, c.contact, c.state, c.seen_gen, c.source, f.through FROM fixes AS f
		JOIN contacts AS c ON c.id = f.contact_id AND c.campaign_id = f.campaign_id
		WHERE f.campaign_id = ? AND f.source = ? AND f.row_key = ? AND c.state <> 'duplicate'`)
	// Not one this file already listed: two copies of an exported row
	// are two rows.
	w.origin = prep(`SELECT source, coalesce(row_key, '') FROM contacts
		WHERE id = ? AND campaign_id = ? AND state = 'invalid' AND source = ? AND seen_gen <> ?`)
	w.insert = prep(`INSERT INTO contacts (campaign_id, line, contact, path, payload, cells, source, state, reason, row_key, header_id,
		seen_gen, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	// Most rows of a campaign are new: try the insert first, and look the
	// contact up only when it is already there.
	w.insertNew = prep(`INSERT INTO contacts (campaign_id, line, contact, path, payload, cells, source, state, header_id,
		seen_gen, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)
		ON CONFLICT (campaign_id, contact) WHERE state NOT IN ('invalid', 'duplicate') DO NOTHING`)
	// A contact not yet attempted, or refused before and changed since:
	// pending with the message as the CSV now says it.
	w.refresh = prep(`UPDATE contacts SET line = ?, path = ?, payload = ?, cells = ?, source = ?, header_id = ?, state = 'pending',
		permanent = 0, http_status = NULL, error = NULL, reason = NULL, seen_gen = ?, updated_at = ? WHERE id = ?`)
	// A contact whose message is on record as it was (maybe) sent: its
	// payload stays; only where the CSV has it now changes.
	w.keep = prep(`UPDATE contacts SET line = ?, cells = ?, source = ?, header_id = ?, seen_gen = ? WHERE id = ?`)
	w.see = prep(`UPDATE contacts SET seen_gen = ? WHERE id = ?`)
	w.rewrite = prep(`UPDATE contacts SET line = ?, contact = ?, cells = ?, source = ?, header_id = ?, error = NULL, reason = ?, row_key = ?,
		seen_gen = ?, updated_at = ? WHERE id = ?`)
	w.break_ = prep(`UPDATE contacts SET state = 'invalid', line = ?, path = ?, payload = ?, cells = ?, source = ?, header_id = ?,
		error = NULL, reason = ?, row_key = ?, seen_gen = ?, updated_at = ? WHERE id = ?`)
	w.drop = prep(`DELETE FROM contacts WHERE id = ?`)
	w.fix = prep(`INSERT INTO fixes (campaign_id, source, row_key, contact_id, through) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (campaign_id, source, row_key) DO UPDATE SET contact_id = excluded.contact_id, through = excluded.through`)
	w.moveFixes = prep(`UPDATE fixes SET contact_id = ? WHERE contact_id = ?`)
	if err != nil {
		w.close()
		return nil, fmt.Errorf("prepare import: %w", err)
	}
	return w, nil
}

func (w *rowWriter) close() {
	for _, s := range []*sql.Stmt{w.find, w.findInvalid, w.findRow, w.findFix, w.origin, w.insert, w.insertNew,
		w.refresh, w.keep, w.see, w.rewrite, w.break_, w.drop, w.fix, w.moveFixes} {
		if s != nil {
			s.Close()
		}
	}
}

// row is one CSV row on its way into the ledger.
type row struct {
	campaign.Message
	cells string // Cells, as the ledger stores them
}

// origin is the invalid record a row of an export was exported from.
type origin struct {
	id     int64
	source string
	key    string // its row_key; "" for a record written before format 3
}

func (w *rowWriter) add(ctx context.Context, m campaign.Message, res *ImportResult) error {
	res.Rows++
	cells, err := json.Marshal(m.Cells)
	if err != nil {
		return err
	}
	r := row{Message: m, cells: string(cells)}
	if r.Problem != nil {
		r.Key = w.key(r.Key)
	}
	from, err := w.exportedFrom(ctx, r)
	if err != nil {
		return err
	}
	if from != nil && r.Problem != nil && sameContent(from.key, r.Key) {
		// Back unchanged from the export, and still broken: the record it
		// came from stands for it, as it is.
		return w.standsFor(ctx, r, from.id, res)
	}
	if from != nil {
		// The row takes the place of the one it was exported from.
		if _, err := w.drop.ExecContext(ctx, from.id); err != nil {
			return err
		}
	}
	var id int64
	if r.Problem != nil {
		id, err = w.addBroken(ctx, r, res)
	} else {
		id, err = w.addGood(ctx, r, res)
	}
	if err != nil || from == nil {
		return err
	}
	// The original file's row, unchanged, is now the record this row
	// went to, and so is whatever was fixed into the record replaced.
	if from.key != "" {
		if _, err := w.fix.ExecContext(ctx, w.im.id, from.source, from.key, id, w.im.source); err != nil {
			return err
		}
	}
	_, err = w.moveFixes.ExecContext(ctx, id, from.id)
	return err
}

// exportedFrom returns the invalid record a row of an export was exported
// from, if the ledger still has it; nil for any other row.
func (w *rowWriter) exportedFrom(ctx context.Context, r row) (*origin, error) {
	if r.Exported.Record == 0 {
		return nil, nil
	}
	o := &origin{id: r.Exported.Record}
	err := w.origin.QueryRowContext(ctx, o.id, w.im.id, r.Exported.File, w.im.gen).Scan(&o.source, &o.key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}

// addGood records a row whose message can be sent, and returns the id of
// its contact's record.
func (w *rowWriter) addGood(ctx context.Context, r row, res *ImportResult) (int64, error) {
	im := w.im
	ins, err := w.insertNew.ExecContext(ctx, im.id, r.Line, r.Contact, r.Path, r.Payload, r.cells, im.source, im.headerID,
		im.gen, w.now, w.now)
	if err != nil {
		return 0, err
	}
	if n, err := ins.RowsAffected(); err != nil || n == 1 {
		if err != nil {
			return 0, err
		}
		res.New++
		return ins.LastInsertId()
	}
	var (
		id        int64
		line      int
		state     campaign.State
		permanent bool
		payload   []byte
		path      string
		seenGen   int64
		source    string
	)
	if err := w.find.QueryRowContext(ctx, im.id, r.Contact).Scan(&id, &line, &state, &permanent, &payload, &path, &seenGen, &source); err != nil {
		return 0, err
	}
	if seenGen == im.gen {
		return id, w.duplicateOf(ctx, r, found{id: id, line: line, contact: r.Contact, source: source}, res)
	}
	changed := !bytes.Equal(payload, r.Payload) || path != r.Path
	switch {
	case state == campaign.Pending || (state == campaign.Failed && !permanent):
		res.Updated++
		_, err = w.refresh.ExecContext(ctx, r.Line, r.Path, r.Payload, r.cells, im.source, im.headerID, im.gen, w.now, id)
	case state == campaign.Failed && changed:
		res.Revived++
		_, err = w.refresh.ExecContext(ctx, r.Line, r.Path, r.Payload, r.cells, im.source, im.headerID, im.gen, w.now, id)
	default: // sent, unknown, sending, or refused and unchanged
		res.Done++
		_, err = w.keep.ExecContext(ctx, r.Line, r.cells, im.source, im.headerID, im.gen, id)
	}
	return id, err
}

// addBroken records a row with a problem, and returns the id of the
// record that stands for it: the record this very row was fixed into
// through an export; else the contact it names, when the campaign has
// it; else its own record of an earlier import of this file, or a new one.
func (w *rowWriter) addBroken(ctx context.Context, r row, res *ImportResult) (int64, error) {
	im := w.im
	var f found
	var via string
	err := w.findFix.QueryRowContext(ctx, im.id, im.source, r.Key).Scan(&f.id, &f.line, &f.contact, &f.state, &f.seenGen, &f.source, &via)
	switch {
	case err == nil:
		return f.id, w.fixedElsewhere(ctx, r, f, via, res)
	case !errors.Is(err, sql.ErrNoRows):
		return 0, err
	}
	if r.Contact != "" {
		f = found{contact: r.Contact}
		var payload []byte
		var path string
		err := w.find.QueryRowContext(ctx, im.id, r.Contact).Scan(&f.id, &f.line, &f.state, &f.permanent, &payload, &path, &f.seenGen, &f.source)
		switch {
		case err == nil && f.source != im.source:
			// The contact's good row is in another file (the export it was
			// fixed in, say): that row stands for this one.
			return f.id, w.fixedElsewhere(ctx, r, f, f.source, res)
		case err == nil:
			return f.id, w.broke(ctx, r, f, res)
		case !errors.Is(err, sql.ErrNoRows):
			return 0, err
		}
		err = w.findInvalid.QueryRowContext(ctx, im.id, r.Contact).Scan(&f.id, &f.line, &f.seenGen, &f.source)
		switch {
		case err == nil && f.seenGen == im.gen:
			return f.id, w.duplicateOf(ctx, r, f, res)
		case err == nil:
			return w.invalid(ctx, r, f.id, res)
		case !errors.Is(err, sql.ErrNoRows):
			return 0, err
		}
	}
	// The same row, unchanged, in an earlier import of this file.
	var id int64
	err = w.findRow.QueryRowContext(ctx, im.id, r.Key, im.source).Scan(&id)
	switch {
	case err == nil:
		return w.invalid(ctx, r, id, res)
	case !errors.Is(err, sql.ErrNoRows):
		return 0, err
	}
	return w.invalid(ctx, r, 0, res)
}

// found is a record a row turned out to be.
type found struct {
	id        int64
	line      int
	contact   string
	state     campaign.State
	permanent bool
	seenGen   int64
	source    string
}

// key is what a row with a problem is known by in this file: its Key,
// and for the second and later rows with the same cells, which one it is
// ("…#2"). Such rows are as many rows as the file has (they may be as many
// people, written without the detail that tells them apart), and each
// keeps its place when the file is read again.
func (w *rowWriter) key(content string) string {
	w.broken[content]++
	if n := w.im.broken[content] + w.broken[content]; n > 1 {
		return content + "#" + strconv.Itoa(n)
	}
	return content
}

// sameContent reports whether two keys are of rows with the same cells.
func sameContent(a, b string) bool {
	a, _, _ = strings.Cut(a, "#")
	b, _, _ = strings.Cut(b, "#")
	return a == b
}

// firstLine is the line of this file that listed the record id first: its
// own line, unless the record is another file's (source) that a broken
// row of this file stood for.
func (w *rowWriter) firstLine(id int64, line int, source string) int {
	if source == w.im.source {
		return line
	}
	if l, ok := w.met[id]; ok {
		return l
	}
	if l, ok := w.im.met[id]; ok {
		return l
	}
	return line
}

// invalid records the row as invalid: in the record id (the same contact
// or row, met before), or in a new record when id is 0.
func (w *rowWriter) invalid(ctx context.Context, r row, id int64, res *ImportResult) (int64, error) {
	im := w.im
	res.Invalid++
	res.Problems = appendListed(res.Problems, r.Problem)
	if id != 0 {
		_, err := w.rewrite.ExecContext(ctx, r.Line, r.Contact, r.cells, im.source, im.headerID, reasonValue(r.Problem.Reason()), r.Key,
			im.gen, w.now, id)
		return id, err
	}
	ins, err := w.insert.ExecContext(ctx, im.id, r.Line, r.Contact, r.Path, []byte{}, r.cells, im.source,
		campaign.Invalid, reasonValue(r.Problem.Reason()), r.Key, im.headerID, im.gen, w.now, w.now)
	if err != nil {
		return 0, err
	}
	return ins.LastInsertId()
}

// broke handles a broken row of the file that the contact's good record
// came from: the row has broken since. A contact the platform has not
// taken or refused takes the row's problem (its message was the old
// row's); one sent, refused or in doubt stays as it is, as for a good row.
func (w *rowWriter) broke(ctx context.Context, r row, f found, res *ImportResult) error {
	im := w.im
	switch {
	case f.seenGen == im.gen:
		return w.duplicateOf(ctx, r, f, res)
	case f.state == campaign.Pending || (f.state == campaign.Failed && !f.permanent):
		res.Invalid++
		res.Problems = appendListed(res.Problems, r.Problem)
		_, err := w.break_.ExecContext(ctx, r.Line, "", []byte{}, r.cells, im.source, im.headerID, reasonValue(r.Problem.Reason()), r.Key,
			im.gen, w.now, f.id)
		return err
	}
	res.Done++
	_, err := w.see.ExecContext(ctx, im.gen, f.id)
	return err
}

// fixedElsewhere handles a broken row whose record f came from another
// file, via (the export it was fixed in): that record stands for the row.
// The file lists the contact, so a run of it sends the record if it is
// still to be sent; a record still broken counts as this row's invalid.
func (w *rowWriter) fixedElsewhere(ctx context.Context, r row, f found, via string, res *ImportResult) error {
	im := w.im
	if f.seenGen == im.gen {
		return w.duplicateOf(ctx, r, f, res)
	}
	w.met[f.id] = r.Line
	if f.state == campaign.Invalid {
		res.Invalid++
		res.Problems = appendListed(res.Problems, r.Problem)
	} else {
		res.Fixed++
		res.FixedRows = appendListed(res.FixedRows, campaign.FixedRow{File: im.source, Line: r.Line, Contact: f.contact, State: f.state, Via: via})
	}
	_, err := w.see.ExecContext(ctx, im.gen, f.id)
	return err
}

// duplicateOf records a row for a contact (f) this file already listed.
func (w *rowWriter) duplicateOf(ctx context.Context, r row, f found, res *ImportResult) error {
	first := w.firstLine(f.id, f.line, f.source)
	contact := f.contact
	if contact == "" {
		contact = r.Contact
	}
	return w.duplicate(ctx, r, campaign.DuplicateReason(first), campaign.DuplicateRow{File: w.im.source, Line: r.Line, FirstLine: first, Contact: contact}, res)
}

// standsFor counts a broken row that the invalid record id stands for,
// unchanged, and marks it listed by this file.
func (w *rowWriter) standsFor(ctx context.Context, r row, id int64, res *ImportResult) error {
	w.met[id] = r.Line
	res.Invalid++
	res.Problems = appendListed(res.Problems, r.Problem)
	_, err := w.see.ExecContext(ctx, w.im.gen, id)
	return err
}

// duplicate records a second row for a contact (or a second copy of a
// row) met earlier in this file.
func (w *rowWriter) duplicate(ctx context.Context, r row, reason campaign.Reason, note campaign.DuplicateRow, res *ImportResult) error {
	im := w.im
	res.Duplicate++
	res.Duplicates = appendListed(res.Duplicates, note)
	payload := r.Payload
	if payload == nil {
		payload = []byte{}
	}
	_, err := w.insert.ExecContext(ctx, im.id, r.Line, r.Contact, r.Path, payload, r.cells, im.source,
		campaign.Duplicate, reasonValue(reason), nil, im.headerID, im.gen, w.now, w.now)
	return err
}
