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

// CampaignID identifies a campaign in the ledger.
type CampaignID int64

// Register finds the campaign by name, or records it with its
// destination.
//
// A campaign recorded with another destination (API, base URL, or the
// built-in sandbox instead of a URL) takes the new one if nothing there
// may have acted on any of its contacts (see actedOn): a run that could
// not reach a wrong address leaves its contacts pending, and the right
// address then sends them all. Otherwise Register returns a
// *DestinationError, unless allowChanged and both are the platform's
// addresses (the platform moved): a rehearsal's states never count for a
// real send, nor the reverse. A campaign registered before the ledger
// recorded destinations adopts dest, unless one of the two is the built-in
// sandbox and the other not and contacts were acted on.
//
// The fingerprint is what decides every contact's message: when it differs
// from the recorded one Register returns a *ChangedError, unless
// allowChanged, in which case the new one is recorded.
func (l *Ledger) Register(ctx context.Context, name, fingerprint string, dest Destination, allowChanged bool) (CampaignID, error) {
	if err := dest.check(); err != nil {
		return 0, fmt.Errorf("register campaign %q: %w", name, err)
	}
	dest.Rehearsal = dest.Rehearsal || dest.Sandbox
	var id CampaignID
	err := l.write(ctx, onDisk, func(tx *sql.Tx) error {
		var recorded string
		var rehearsal bool
		var api, baseURL sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT id, fingerprint, sandbox, api, base_url FROM campaigns WHERE name = ?`, name).
			Scan(&id, &recorded, &rehearsal, &api, &baseURL)
		now := stamp(time.Now())
		switch {
		case errors.Is(err, sql.ErrNoRows):
			res, err := tx.ExecContext(ctx, `INSERT INTO campaigns (name, fingerprint, sandbox, api, base_url, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, name, fingerprint, dest.Rehearsal, dest.API, dest.BaseURL, now, now)
			if err != nil {
				return fmt.Errorf("record campaign: %w", err)
			}
			n, err := res.LastInsertId()
			id = CampaignID(n)
			return err
		case err != nil:
			return fmt.Errorf("find campaign: %w", err)
		}
		if err := setDestination(ctx, tx, id, name, dest, api, baseURL, rehearsal, allowChanged, now); err != nil {
			return err
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

// setDestination checks an existing campaign's destination against dest,
// and records dest where Register may.
func setDestination(ctx context.Context, tx *sql.Tx, id CampaignID, name string, dest Destination,
	api, baseURL sql.NullString, rehearsal, allowChanged bool, now string) error {
	rec, known := recordedDestination(api, baseURL, rehearsal)
	same, err := destinationConflict(ctx, tx, id, name, rec, known, dest, allowChanged)
	if err != nil {
		return err
	}
	if same && known {
		return nil
	}
	// A move after contacts were acted on at the old address: the
	// unknown ones among them can no longer be proved absent.
	moved, from := sql.NullString{}, sql.NullString{}
	if !same {
		acted, err := actedOnAny(ctx, tx, id)
		if err != nil {
			return err
		}
		moved = sql.NullString{String: now, Valid: acted}
		// The address alone, never words: the reader's language words it.
		from = sql.NullString{String: rec.BaseURL, Valid: acted && rec.BaseURL != ""}
	}
	_, err = tx.ExecContext(ctx, `UPDATE campaigns SET api = ?, base_url = ?, sandbox = ?, updated_at = ?,
		moved_at = coalesce(?, moved_at), moved_from = coalesce(?, moved_from) WHERE id = ?`,
		dest.API, dest.BaseURL, dest.Rehearsal, now, moved, from, id)
	if err != nil {
		return fmt.Errorf("record campaign destination: %w", err)
	}
	return nil
}

// destinationConflict compares a campaign's recorded destination with
// dest: same, or a *DestinationError when contacts were acted on at the
// recorded one and the change is not a move that allowChanged allows.
func destinationConflict(ctx context.Context, tx *sql.Tx, id CampaignID, name string, rec Destination, known bool,
	dest Destination, allowChanged bool) (same bool, err error) {
	same = rec == dest
	if !known {
		// Format 1 did not record where it sent, only whether it was
		// the built-in sandbox.
		same = rec.Sandbox == dest.Sandbox && rec.Rehearsal == dest.Rehearsal
	}
	if !same {
		acted, err := actedOnAny(ctx, tx, id)
		if err != nil {
			return false, err
		}
		movable := known && !rec.Rehearsal && !dest.Rehearsal
		if acted && !(movable && allowChanged) {
			return false, &DestinationError{Name: name, Recorded: rec, Current: dest, Movable: movable}
		}
	}
	return same, nil
}

// CheckDestination says, writing nothing, whether Register would refuse
// dest for the campaign: what a dry run tells of the send it rehearses. A
// rehearsal recorded at dest's own address counts as dest: only a send's
// first answer can tell that the address is a pregon sandbox.
func (l *Ledger) CheckDestination(ctx context.Context, name string, dest Destination, allowChanged bool) error {
	tx, err := l.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("check campaign destination: %w", err)
	}
	defer tx.Rollback()
	var id CampaignID
	var rehearsal bool
	var api, baseURL sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT id, sandbox, api, base_url FROM campaigns WHERE name = ?`, name).
		Scan(&id, &rehearsal, &api, &baseURL)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("find campaign: %w", err)
	}
	dest.Rehearsal = dest.Rehearsal || dest.Sandbox
	rec, known := recordedDestination(api, baseURL, rehearsal)
	if known && rec.Rehearsal && !rec.Sandbox && rec.API == dest.API && rec.BaseURL == dest.BaseURL {
		dest.Rehearsal = true
	}
	_, err = destinationConflict(ctx, tx, id, name, rec, known, dest, allowChanged)
	return err
}

// actedOn is the condition on a contact that some server may have acted
// on its request: sent, unknown, in flight, or refused by an answer.
// Refused connections leave no such trace: no request arrived anywhere.
const actedOn = `(state IN ('sending', 'sent', 'unknown') OR (state = 'failed' AND http_status IS NOT NULL))`

// actedOnAny reports whether a server may have acted on any of the
// campaign's contacts: then the ledger's states are its destination's.
func actedOnAny(ctx context.Context, tx *sql.Tx, id CampaignID) (bool, error) {
	var ok bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM contacts WHERE campaign_id = ? AND `+actedOn+`)`, id).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("find contacts acted on: %w", err)
	}
	return ok, nil
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
			error = NULL, reason = '{"code":"in_flight"}', updated_at = ? WHERE campaign_id = ? AND state = 'sending'`, stamp(time.Now()), id)
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
