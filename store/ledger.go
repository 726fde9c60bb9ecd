package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
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

	mu         sync.Mutex
	pending    []op       // writes waiting for the next commit
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

type op struct {
	fn         func(tx *sql.Tx) error
	durability durability
	done       chan error
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
// customers' phone numbers) when it does not exist, and brings a ledger
// written by an older pregon up to this one's format. A symbolic link at
// path is followed to an existing file, whose path the Ledger then uses;
// none is ever followed to create one, nor in place of the -wal, -shm or
// -journal files.
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
	l := newLedger(db, path)
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
// column without rewriting the table).
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
	return newLedger(db, path), nil
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

func newLedger(db *sql.DB, path string) *Ledger {
	l := &Ledger{db: db, path: path, stmts: map[string]*sql.Stmt{}}
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
// committed as durably as d asks (or more), or failed. A failing fn is
// rolled back alone.
//
// The caller that finds no commit in progress becomes the leader: it
// commits everything queued, its own write included, then whatever queued
// up meanwhile, and returns. Callers arriving during a commit wait for the
// next one. Under load this batches many writes per fsync; at 25 messages
// a second it costs no goroutine hand-off at all, which on a mostly idle
// process is most of the CPU a write costs.
func (l *Ledger) write(ctx context.Context, d durability, fn func(tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := op{fn: fn, durability: d, done: make(chan error, 1)}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errors.New("write ledger: closed")
	}
	l.pending = append(l.pending, o)
	if l.committing {
		l.mu.Unlock()
		return <-o.done
	}
	l.committing = true
	for len(l.pending) > 0 {
		batch := l.pending
		if len(batch) > maxBatch {
			batch = batch[:maxBatch]
		}
		l.pending = l.pending[len(batch):]
		l.mu.Unlock()
		l.commit(batch)
		l.mu.Lock()
	}
	l.committing = false
	l.idle.Broadcast()
	l.mu.Unlock()
	return <-o.done
}

// commit runs a batch of writes in one transaction. When one fails, the
// batch is rolled back and each write runs again in a transaction of its
// own, so that one failure cannot take the others with it.
func (l *Ledger) commit(batch []op) {
	if len(batch) == 1 || l.commitAll(batch) != nil {
		for _, o := range batch {
			o.done <- l.commitAll([]op{o})
		}
		return
	}
	for _, o := range batch {
		o.done <- nil
	}
}

func (l *Ledger) commitAll(batch []op) error {
	// Writes must not be cut short by a caller's cancellation: they record
	// what already happened.
	ctx := context.Background()
	if l.wconn == nil {
		return errors.New("write ledger: opened read-only")
	}
	d := withNext
	for _, o := range batch {
		d = min(d, o.durability)
	}
	if err := l.setSynchronous(ctx, d); err != nil {
		return err
	}
	tx, err := l.wconn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write ledger: begin: %w", err)
	}
	defer tx.Rollback()
	for _, o := range batch {
		if err := o.fn(tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write ledger: commit: %w", err)
	}
	l.unsynced = d != onDisk
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
