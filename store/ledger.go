package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver (cgo)
)

// maxBatch bounds how many queued writes share one transaction.
const maxBatch = 512

// Ledger is an open ledger file.
type Ledger struct {
	db   *sql.DB
	path string
	// wconn is the writers' own connection: SQLite has one writer, and
	// statements prepared on it stay prepared. Only the leader (see write)
	// uses it.
	wconn *sql.Conn
	stmts map[string]*sql.Stmt

	// synchronous is the writer connection's setting; unsynced is set
	// while a commit has not reached the disk. Only the leader uses them.
	synchronous durability
	unsynced    bool

	// busyTimeout is how long a write may wait for another process's
	// write lock. busyWait is the writer connection's busy_timeout, and
	// lockedSince when a BEGIN last found the file locked (zero once one
	// succeeds). Only the leader uses the last two.
	busyTimeout time.Duration
	busyWait    time.Duration
	lockedSince time.Time
	// beforeBegin, when set (by tests), is told of every BEGIN the leader
	// tries: how many writes it is for, and how long it may wait for the
	// lock.
	beforeBegin func(writes int, wait time.Duration)

	mu         sync.Mutex
	pending    []*op      // writes waiting for the next commit, in order
	committing bool       // a leader is committing
	idle       *sync.Cond // signalled when a leader is done
	closed     bool
}

// durability says when a committed write survives a power cut. Every
// commit survives the process being killed: SQLite has written it to the
// file before the commit returns.
type durability int

const (
	// onDisk: before the commit returns (fsync). The log is one file
	// written in order, so this also makes every earlier commit durable.
	onDisk durability = iota
	// withNext: with the next onDisk commit, or the ledger's Close. A
	// power cut before then loses the write, and only that: SQLite's log
	// checksums every commit, and a lost one leaves the ledger as it was
	// before it.
	withNext
)

// op is one caller's write, waiting for a commit.
type op struct {
	fn         func(tx *sql.Tx) error
	durability durability
	// ctx is the caller's: a write whose transaction has not begun is
	// dropped, unwritten, when its caller stops waiting.
	ctx  context.Context
	done chan error
}

// Option changes how a ledger is opened.
type Option func(*options)

type options struct {
	busyTimeout time.Duration
}

// DefaultBusyTimeout is how long a write waits for another process's
// transaction on the same file before it fails.
const DefaultBusyTimeout = 10 * time.Second

// WithBusyTimeout sets how long a write waits for another process that
// holds the file's write lock; then the write fails, and a run stops.
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) { o.busyTimeout = d }
}

// Open opens the ledger at path, creating it with mode 0600 (it holds
// customers' phone numbers; on Windows, where modes mean nothing, the
// access list of its folder protects it) when it does not exist, and
// brings a ledger written by an older pregon up to this one's format. A
// symbolic link at path is followed to an existing file, whose path the
// Ledger then uses; none is ever followed to create one, nor in place of
// the -wal, -shm or -journal files.
func Open(ctx context.Context, path string, opts ...Option) (*Ledger, error) {
	path, err := ledgerFile(path, true)
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	o := newOptions(opts)
	db, err := connect(ctx, path, "rwc", o)
	if err != nil {
		return nil, err
	}
	if _, err := migrate(ctx, db, migrations); err != nil {
		db.Close()
		return nil, err
	}
	// SQLite creates the WAL files with the database's mode, but a
	// ledger made by an older version may not be 0600.
	if err := protect(path); err != nil {
		db.Close()
		return nil, fmt.Errorf("protect ledger: %w", err)
	}
	l := newLedger(db, path, o)
	if l.wconn, err = db.Conn(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open ledger writer: %w", err)
	}
	return l, nil
}

// OpenReadOnly opens an existing ledger for reading only, through a
// symbolic link as Open does.
//
// A ledger in an older format is upgraded first, through a brief
// read-write open, when the file can be written; otherwise OpenReadOnly
// says that it needs upgrading. Reading the old format as it is would
// need a variant of every query for every format there ever was; the
// upgrade changes no row, is what the next send would do anyway, and
// holds the write lock only for a few schema statements (SQLite adds a
// column without rewriting the table; format 3's index takes about a
// second per million contacts, once).
func OpenReadOnly(ctx context.Context, path string) (*Ledger, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	path, err := ledgerFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	o := newOptions(nil)
	db, err := connect(ctx, path, "ro", o)
	if err != nil {
		return nil, err
	}
	v, err := ledgerVersion(ctx, db)
	if err == nil && v < latestVersion {
		err = upgrade(ctx, db, path, v, o)
		db.Close()
		if err == nil {
			db, err = connect(ctx, path, "ro", o)
		}
		if err != nil {
			return nil, err
		}
		v, err = ledgerVersion(ctx, db)
	}
	if err == nil && v > latestVersion {
		err = newerError(v)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return newLedger(db, path, o), nil
}

// upgrade migrates an older ledger that ro, a read-only connection, has
// open. Another program's SQLite file (format 0 too, with no campaigns
// table) is left alone: reading must not turn it into a ledger.
func upgrade(ctx context.Context, ro *sql.DB, path string, from int, o options) error {
	var tables int
	if err := ro.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'campaigns'`).
		Scan(&tables); err != nil {
		return fmt.Errorf("open ledger %s: %w", path, err)
	}
	if tables == 0 {
		return fmt.Errorf("open ledger %s: not a pregon ledger (it has no campaigns table)", path)
	}
	db, err := connect(ctx, path, "rw", o)
	if err == nil {
		_, err = migrate(ctx, db, migrations)
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("open ledger %s: it is in format %d and this pregon reads format %d; upgrading it needs write access to the file and its folder: %w",
			path, from, latestVersion, err)
	}
	return nil
}

func newOptions(opts []Option) options {
	o := options{busyTimeout: DefaultBusyTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// connect opens the ledger's connection pool in mode (ro, rw or rwc).
func connect(ctx context.Context, path, mode string, o options) (*sql.DB, error) {
	// Every connection gets the pragmas through the DSN. synchronous=FULL:
	// a recorded attempt must survive a power cut, not only a killed process.
	q := url.Values{}
	q.Set("mode", mode)
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_busy_timeout", fmt.Sprint(o.busyTimeout.Milliseconds()))
	q.Set("_txlock", "immediate")
	q.Set("_foreign_keys", "on")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	db.SetMaxOpenConns(4)
	// The driver is cgo: a build without it opens fine and fails here.
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	return db, nil
}

func newLedger(db *sql.DB, path string, o options) *Ledger {
	l := &Ledger{db: db, path: path, stmts: map[string]*sql.Stmt{}, busyTimeout: o.busyTimeout, busyWait: o.busyTimeout}
	l.idle = sync.NewCond(&l.mu)
	return l
}

// stmt returns the statement for q, prepared once for the ledger; in a
// write transaction use it through tx.StmtContext, which keeps it
// prepared on the writer's connection.
func (l *Ledger) stmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	s, ok := l.stmts[q]
	if !ok {
		var err error
		if s, err = l.db.PrepareContext(ctx, q); err != nil {
			return nil, err
		}
		l.stmts[q] = s // only the leader gets here
	}
	return tx.StmtContext(ctx, s), nil
}

// Path is the path of the ledger's real file: the one it was opened with,
// with symbolic links resolved.
func (l *Ledger) Path() string { return l.path }

// Close waits for writes in progress, puts every committed write on disk,
// and closes the file. Writes after Close fail.
func (l *Ledger) Close() error {
	l.mu.Lock()
	l.closed = true
	for l.committing {
		l.idle.Wait()
	}
	l.mu.Unlock()
	var err error
	if l.unsynced {
		err = syncFile(l.path + "-wal")
	}
	for _, s := range l.stmts {
		s.Close()
	}
	if l.wconn != nil {
		l.wconn.Close()
	}
	if cerr := l.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncFile puts a file's written data on disk.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("sync ledger: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync ledger: %w", err)
	}
	return nil
}

// write runs fn in a write transaction shared with whatever other writes
// are waiting (group commit) and returns once that transaction is
// committed as durably as d asks (or more), or failed.
//
// The caller that finds no commit in progress becomes the leader: it
// commits its own write, hands whatever queued up meanwhile to a goroutine
// that commits it in batches until the queue is empty, and returns.
// Callers arriving during a commit wait for the next one. Under load this
// batches many writes per fsync; at 25 messages a second it costs no
// goroutine hand-off at all, which on a mostly idle process is most of the
// CPU a write costs.
//
// A caller whose ctx ends while its write waits (in the queue, or for
// another process's lock on the file) gets ctx's error, and nothing is
// written. Once its transaction has begun, the write is committed or not
// with it, and write says which. fn runs in a transaction shared with
// other callers' writes: it should not run statements with a context its
// caller can cancel (SQLite's interrupt rolls the whole transaction back;
// the others' writes then run again without fn's).
func (l *Ledger) write(ctx context.Context, d durability, fn func(tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &op{fn: fn, durability: d, ctx: ctx, done: make(chan error, 1)}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errors.New("write ledger: closed")
	}
	l.pending = append(l.pending, o)
	if l.committing {
		l.mu.Unlock()
		return l.wait(o)
	}
	l.committing = true
	l.commitNext() // o's batch: nothing else waits when no commit runs
	if len(l.pending) > 0 {
		// The writes that queued meanwhile are committed by a goroutine
		// of their own, so that this caller goes on (or stops) now.
		go l.drain()
	} else {
		l.done()
	}
	l.mu.Unlock()
	return <-o.done
}

// drain commits the queued writes until none is left.
func (l *Ledger) drain() {
	l.mu.Lock()
	for len(l.pending) > 0 {
		l.commitNext()
	}
	l.done()
	l.mu.Unlock()
}

// commitNext commits the next batch of queued writes. l.mu is held on
// entry and exit, not while committing.
func (l *Ledger) commitNext() {
	batch := l.pending[:min(len(l.pending), maxBatch)]
	l.pending = l.pending[len(batch):]
	l.mu.Unlock()
	l.commit(batch)
	clear(batch) // let go of the answered writes (an import's holds its rows)
	l.mu.Lock()
}

// done ends a commit run; l.mu is held.
func (l *Ledger) done() {
	l.committing = false
	l.idle.Broadcast()
}

// wait waits for the leader to commit o. A caller that stops waiting
// takes o back if no leader has taken it yet.
func (l *Ledger) wait(o *op) error {
	select {
	case err := <-o.done:
		return err
	case <-o.ctx.Done():
	}
	l.mu.Lock()
	if i := slices.Index(l.pending, o); i >= 0 {
		l.pending = slices.Delete(l.pending, i, i+1)
		l.mu.Unlock()
		return o.ctx.Err()
	}
	l.mu.Unlock()
	// Taken: the leader answers once the transaction has ended, or at
	// once if it has not begun.
	return <-o.done
}

// commit runs a batch of writes in one transaction and answers each.
//
// A write whose own statements fail gets its error and leaves the batch,
// which runs again without it: one bad write does not take the others
// with it. A failure of the transaction itself (BEGIN or COMMIT: the file
// is locked by another process, the disk is full, an I/O error) fails the
// whole batch at once with that error: every write would meet it again,
// and each wait for a locked file would cost the busy timeout again.
func (l *Ledger) commit(batch []*op) {
	for len(batch) > 0 {
		var bad int
		var err error
		batch, bad, err = l.commitAll(batch)
		switch {
		case err == nil:
			for _, o := range batch {
				o.done <- nil
			}
			return
		case bad >= 0 && !fileFault(err):
			batch[bad].done <- err
			batch = slices.Delete(batch, bad, bad+1)
			continue
		case bad >= 0:
			// The disk or the file failed under one write's statement: the
			// transaction is lost for all.
			err = fmt.Errorf("write ledger: %w", err)
		}
		for _, o := range batch {
			o.done <- err
		}
		return
	}
}

// commitAll runs the batch in one transaction, and returns it less the
// writes whose callers stopped waiting before it began (those are
// answered). When a write fails, it returns that write's index and error;
// when the transaction does, -1 and its error.
func (l *Ledger) commitAll(batch []*op) ([]*op, int, error) {
	// No caller's cancellation reaches the transaction: it holds other
	// callers' writes.
	ctx := context.Background()
	if l.wconn == nil {
		return batch, -1, errors.New("write ledger: opened read-only")
	}
	d := withNext
	for _, o := range batch {
		d = min(d, o.durability)
	}
	if err := l.setSynchronous(ctx, d); err != nil {
		return batch, -1, err
	}
	tx, batch, err := l.begin(ctx, batch)
	if err != nil || len(batch) == 0 {
		return batch, -1, err
	}
	defer tx.Rollback()
	for i, o := range batch {
		if err := o.fn(tx); err != nil {
			return batch, i, err
		}
	}
	if err := tx.Commit(); err != nil {
		return batch, -1, fmt.Errorf("write ledger: commit: %w", err)
	}
	l.unsynced = d != onDisk
	return batch, -1, nil
}

// lockPoll is how often a write waiting for another process's lock on the
// file looks whether its callers still wait for it.
const lockPoll = 100 * time.Millisecond

// begin begins the batch's transaction. While another process holds the
// file's write lock it waits, in turns of lockPoll, as long as lockWait
// allows; writes whose callers stop waiting meanwhile are answered with
// their context's error and dropped from the batch, which begin returns.
func (l *Ledger) begin(ctx context.Context, batch []*op) (*sql.Tx, []*op, error) {
	for {
		wait := l.lockWait()
		turn := min(wait, lockPoll)
		if l.beforeBegin != nil {
			l.beforeBegin(len(batch), turn)
		}
		if err := l.setBusyWait(ctx, turn); err != nil {
			return nil, batch, err
		}
		started := time.Now()
		tx, err := l.wconn.BeginTx(ctx, nil)
		if err == nil {
			l.lockedSince = time.Time{}
			return tx, batch, nil
		}
		if !locked(err) {
			return nil, batch, fmt.Errorf("write ledger: begin: %w", err)
		}
		if l.lockedSince.IsZero() {
			l.lockedSince = started
		}
		batch = slices.DeleteFunc(batch, func(o *op) bool {
			if o.ctx.Err() == nil {
				return false
			}
			o.done <- o.ctx.Err()
			return true
		})
		if len(batch) == 0 {
			return nil, batch, nil
		}
		if wait <= turn {
			return nil, batch, fmt.Errorf("write ledger: another process held the file's write lock for %v: %w", l.busyTimeout, err)
		}
	}
}

// lockWait is how long the next BEGIN may still wait for another
// process's lock on the file: what is left of the busy timeout since a
// BEGIN first found the file locked, if none has succeeded since. However
// many batches the writes queued behind a locked file make, and whatever
// writes come after (the run's end), the lock stalls the ledger's writers
// at most the busy timeout in all; after that each batch tries once.
func (l *Ledger) lockWait() time.Duration {
	if l.lockedSince.IsZero() {
		return l.busyTimeout
	}
	return max(0, l.busyTimeout-time.Since(l.lockedSince))
}

// setBusyWait sets how long the writer's next BEGIN waits for another
// process's lock, rounded up to SQLite's milliseconds: a BEGIN that gives
// up has waited at least d.
func (l *Ledger) setBusyWait(ctx context.Context, d time.Duration) error {
	d = (d + time.Millisecond - 1).Truncate(time.Millisecond)
	if d == l.busyWait {
		return nil
	}
	if _, err := l.wconn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", d.Milliseconds())); err != nil {
		return fmt.Errorf("write ledger: set busy timeout: %w", err)
	}
	l.busyWait = d
	return nil
}

// setSynchronous makes the writer's next commits as durable as d:
// synchronous=FULL syncs the log at every commit, NORMAL only before a
// checkpoint copies it into the database.
func (l *Ledger) setSynchronous(ctx context.Context, d durability) error {
	if d == l.synchronous {
		return nil
	}
	mode := "FULL"
	if d == withNext {
		mode = "NORMAL"
	}
	if _, err := l.wconn.ExecContext(ctx, "PRAGMA synchronous = "+mode); err != nil {
		return fmt.Errorf("write ledger: set synchronous: %w", err)
	}
	l.synchronous = d
	return nil
}

// timeFormat is how the ledger writes times: UTC, sortable as text.
const timeFormat = "2006-01-02T15:04:05.000Z"

func stamp(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseStamp(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	t, _ := time.Parse(timeFormat, s.String)
	return t
}
