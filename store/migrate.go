package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// The ledger's format is SQLite's user_version: migration/NNNN.sql (or
// NNNN_what.sql) takes a ledger from format NNNN-1 to NNNN, and the last
// file's number is the format this pregon writes. A file, once released, never changes: a
// change of format is a new file.
//
//go:embed migration/*.sql
var migrationFS embed.FS

// migration is one step of the ledger's format.
type migration struct {
	version int
	sql     string
}

// migrations are every step, in order. A misnamed or missing file is a
// build mistake that every test catches, hence the panic.
var migrations = func() []migration {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		panic(err)
	}
	return ms
}()

// latestVersion is the ledger format this pregon writes.
var latestVersion = migrations[len(migrations)-1].version

// loadMigrations reads migration/*.sql, whose names must number 1, 2, …
// without a gap: a gap would leave a ledger stamped with a format whose
// tables it does not have.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migration/*.sql")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no ledger migrations")
	}
	// fs.Glob returns names sorted, and the zero padding makes that the
	// numeric order.
	var out []migration
	for i, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".sql")
		if num, what, ok := strings.Cut(base, "_"); ok && what != "" {
			base = num
		}
		v, err := strconv.Atoi(base)
		if err != nil || len(base) != 4 || v != i+1 {
			return nil, fmt.Errorf("ledger migration %s: want migration/%04d.sql", name, i+1)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, sql: string(b)})
	}
	return out, nil
}

// ledgerVersion reads the ledger's format.
func ledgerVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read ledger version: %w", err)
	}
	return v, nil
}

// newerError refuses a ledger written by a newer pregon: this one cannot
// know what that format's columns mean.
func newerError(v int) error {
	return fmt.Errorf("the ledger was written by a newer pregon (format %d, this one knows %d): use that version", v, latestVersion)
}

// migrate brings the ledger up to the last of steps, each step in its own
// transaction that also stamps its number: a ledger is always at one
// format or the next, never half-way, whatever interrupts it. It returns
// how many steps it applied.
func migrate(ctx context.Context, db *sql.DB, steps []migration) (int, error) {
	v, err := ledgerVersion(ctx, db)
	if err != nil {
		return 0, err
	}
	if last := steps[len(steps)-1].version; v > last {
		return 0, newerError(v)
	}
	applied := 0
	for _, m := range steps {
		if m.version <= v {
			continue
		}
		done, err := migrateOne(ctx, db, m)
		if err != nil {
			return applied, fmt.Errorf("upgrade ledger to format %d: %w", m.version, err)
		}
		if done {
			applied++
		}
	}
	return applied, nil
}

// migrateOne applies m unless the ledger is already there. The transaction
// is BEGIN IMMEDIATE (_txlock in the DSN) and reads the version again
// inside it: two processes opening an old ledger at once take turns, and
// the second finds the step done rather than applying it twice (ALTER
// TABLE is not idempotent).
func migrateOne(ctx context.Context, db *sql.DB, m migration) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return false, err
	}
	if v >= m.version {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, err
	}
	// user_version lives in the file's header page, which the transaction
	// writes: a rollback undoes the stamp with the step.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, m.version)); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
