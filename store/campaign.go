package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ChangedError says that the campaign file no longer describes the
// messages the ledger already holds for that campaign name.
type ChangedError struct {
	Name     string
	Recorded string // fingerprint the ledger has
	Current  string // fingerprint of the campaign file
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("campaign %q: the campaign file differs from what the ledger recorded for this campaign", e.Name)
}

// ErrSandboxMismatch is returned when a campaign rehearsed against the
// sandbox is about to be sent for real on the same ledger, or the reverse:
// the sandbox's "sent" would make the real run skip everyone.
var ErrSandboxMismatch = errors.New("this ledger holds a sandbox rehearsal of the campaign; use another -ledger for the real send (or the reverse)")

// CampaignID identifies a campaign in the ledger.
type CampaignID int64

// Register finds the campaign by name, or records it. The fingerprint is
// what decides every contact's message: when it differs from the recorded
// one Register returns a *ChangedError, unless allowChanged, in which case
// the new one is recorded.
func (l *Ledger) Register(ctx context.Context, name, fingerprint string, sandbox, allowChanged bool) (CampaignID, error) {
	var id CampaignID
	err := l.write(ctx, onDisk, func(tx *sql.Tx) error {
		var recorded string
		var wasSandbox bool
		err := tx.QueryRowContext(ctx, `SELECT id, fingerprint, sandbox FROM campaigns WHERE name = ?`, name).
			Scan(&id, &recorded, &wasSandbox)
		now := stamp(time.Now())
		switch {
		case errors.Is(err, sql.ErrNoRows):
			res, err := tx.ExecContext(ctx, `INSERT INTO campaigns (name, fingerprint, sandbox, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?)`, name, fingerprint, sandbox, now, now)
			if err != nil {
				return fmt.Errorf("record campaign: %w", err)
			}
			n, err := res.LastInsertId()
			id = CampaignID(n)
			return err
		case err != nil:
			return fmt.Errorf("find campaign: %w", err)
		}
		if wasSandbox != sandbox {
			return ErrSandboxMismatch
		}
		if recorded == fingerprint {
			return nil
		}
		if !allowChanged {
			return &ChangedError{Name: name, Recorded: recorded, Current: fingerprint}
		}
		_, err = tx.ExecContext(ctx, `UPDATE campaigns SET fingerprint = ?, updated_at = ? WHERE id = ?`, fingerprint, now, id)
		return err
	})
	return id, err
}

// Lookup returns the id of a campaign already in the ledger.
func (l *Ledger) Lookup(ctx context.Context, name string) (CampaignID, bool, error) {
	var id CampaignID
	err := l.db.QueryRowContext(ctx, `SELECT id FROM campaigns WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("find campaign: %w", err)
	}
	return id, true, nil
}

// Recover marks as unknown every contact of the campaign that a previous
// run left in flight: that run died after recording the attempt, so the
// message may or may not have been delivered. Call it only while holding
// the campaign's Lock. It returns how many contacts it marked.
func (l *Ledger) Recover(ctx context.Context, id CampaignID) (int, error) {
	var n int64
	err := l.write(ctx, onDisk, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE contacts SET state = 'unknown',
			error = 'the run stopped while this message was in flight: it may or may not have been delivered',
			updated_at = ? WHERE campaign_id = ? AND state = 'sending'`, stamp(time.Now()), id)
		if err != nil {
			return fmt.Errorf("recover in-flight contacts: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// Empty reports whether the campaign has no contacts yet: its first import
// may be followed by the queue while it runs (see Queue.Follow).
func (l *Ledger) Empty(ctx context.Context, id CampaignID) (bool, error) {
	var n int
	err := l.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM contacts WHERE campaign_id = ? LIMIT 1)`, id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("count contacts: %w", err)
	}
	return n == 0, nil
}
