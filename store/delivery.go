package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/pregon/pregon/campaign"
)

// Delivery is what the platform says became of a sent message.
type Delivery struct {
	Status      string // pending, sent, delivered, read, failed
	Error       string // the platform's failure text, verbatim
	DeliveredAt time.Time
	ReadAt      time.Time
	FailedAt    time.Time
}

// Final reports a status that will not change any more: read or failed.
func (d Delivery) Final() bool { return d.Status == "read" || d.Status == "failed" }

// Tracked is a sent contact whose delivery is still worth asking about.
type Tracked struct {
	ID        int64
	Contact   string // the identity, e.g. phone:+593991000001
	MessageID string
	SentAt    time.Time
}

// ToTrack returns up to n sent contacts of the campaign, after the one
// with id after, that carry the platform's message id, whose delivery is
// not final yet, that were sent since the given time, and that were last
// asked about before the given time (or never).
func (l *Ledger) ToTrack(ctx context.Context, id CampaignID, after int64, n int, sentSince, askedBefore time.Time) ([]Tracked, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT c.id, c.contact, c.message_id, c.sent_at FROM contacts c
		LEFT JOIN deliveries d ON d.contact_id = c.id
		WHERE c.campaign_id = ? AND c.state = 'sent' AND c.id > ? AND c.message_id IS NOT NULL AND c.message_id != ''
		  AND c.sent_at >= ? AND (d.contact_id IS NULL OR (d.status NOT IN ('read', 'failed') AND d.checked_at < ?))
		ORDER BY c.id LIMIT ?`, id, after, stamp(sentSince), stamp(askedBefore), n)
	if err != nil {
		return nil, fmt.Errorf("find messages to track: %w", err)
	}
	defer rows.Close()
	var out []Tracked
	for rows.Next() {
		var t Tracked
		var sent sql.NullString
		if err := rows.Scan(&t.ID, &t.Contact, &t.MessageID, &sent); err != nil {
			return nil, fmt.Errorf("find messages to track: %w", err)
		}
		t.SentAt = parseStamp(sent)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RecordDelivery records what the platform said of a sent contact's
// message, asked at the given time.
func (l *Ledger) RecordDelivery(ctx context.Context, contactID int64, d Delivery, asked time.Time) error {
	return l.write(ctx, withNext, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO deliveries (contact_id, status, error, delivered_at, read_at, failed_at, checked_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (contact_id) DO UPDATE SET status = excluded.status, error = excluded.error,
				delivered_at = coalesce(excluded.delivered_at, delivered_at), read_at = coalesce(excluded.read_at, read_at),
				failed_at = coalesce(excluded.failed_at, failed_at), checked_at = excluded.checked_at, checks = checks + 1`,
			contactID, d.Status, nullString(d.Error), nullStamp(d.DeliveredAt), nullStamp(d.ReadAt), nullStamp(d.FailedAt), stamp(asked))
		if err != nil {
			return fmt.Errorf("record delivery: %w", err)
		}
		return nil
	})
}

// Funnel counts what became of a campaign's sent messages, as far as
// tracking has asked.
type Funnel struct {
	Sent      int // contacts sent
	Tracked   int // of those, asked about at least once
	Delivered int // delivered, read included
	Read      int
	Failed    int            // failed after the platform accepted them
	Reasons   map[string]int // failure texts, verbatim
}

// Funnel returns the campaign's delivery funnel.
func (l *Ledger) Funnel(ctx context.Context, id CampaignID) (Funnel, error) {
	f := Funnel{Reasons: map[string]int{}}
	err := l.db.QueryRowContext(ctx, `SELECT count(*), count(d.contact_id),
			count(CASE WHEN d.status IN ('delivered', 'read') OR d.delivered_at IS NOT NULL THEN 1 END),
			count(CASE WHEN d.status = 'read' THEN 1 END),
			count(CASE WHEN d.status = 'failed' THEN 1 END)
		FROM contacts c LEFT JOIN deliveries d ON d.contact_id = c.id
		WHERE c.campaign_id = ? AND c.state = 'sent'`, id).Scan(&f.Sent, &f.Tracked, &f.Delivered, &f.Read, &f.Failed)
	if err != nil {
		return f, fmt.Errorf("count deliveries: %w", err)
	}
	rows, err := l.db.QueryContext(ctx, `SELECT coalesce(d.error, ''), count(*) FROM deliveries d JOIN contacts c ON c.id = d.contact_id
		WHERE c.campaign_id = ? AND d.status = 'failed' GROUP BY 1 ORDER BY 2 DESC`, id)
	if err != nil {
		return f, fmt.Errorf("count delivery failures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var reason string
		var n int
		if err := rows.Scan(&reason, &n); err != nil {
			return f, fmt.Errorf("count delivery failures: %w", err)
		}
		f.Reasons[reason] = n
	}
	return f, rows.Err()
}

// Unknown is a contact whose request may or may not have been delivered.
type Unknown struct {
	ID          int64
	Contact     string
	Payload     []byte
	AttemptedAt time.Time // of its last request
	// Moved: its last request went to an address the campaign has left
	// since (send -allow-changed): the new one can find the message, never
	// prove it absent. MovedFrom is that address, when recorded.
	Moved     bool
	MovedFrom string
}

// Unknowns returns the campaign's unknown contacts.
func (l *Ledger) Unknowns(ctx context.Context, id CampaignID) ([]Unknown, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT c.id, c.contact, c.payload, c.attempted_at,
			m.moved_at IS NOT NULL AND (c.attempted_at IS NULL OR c.attempted_at <= m.moved_at), coalesce(m.moved_from, '')
		FROM contacts c JOIN campaigns m ON m.id = c.campaign_id
		WHERE c.campaign_id = ? AND c.state = 'unknown' ORDER BY c.id`, id)
	if err != nil {
		return nil, fmt.Errorf("find unknown contacts: %w", err)
	}
	defer rows.Close()
	var out []Unknown
	for rows.Next() {
		var u Unknown
		var at sql.NullString
		if err := rows.Scan(&u.ID, &u.Contact, &u.Payload, &at, &u.Moved, &u.MovedFrom); err != nil {
			return nil, fmt.Errorf("find unknown contacts: %w", err)
		}
		u.AttemptedAt = parseStamp(at)
		out = append(out, u)
	}
	return out, rows.Err()
}

// MessageIDHeld reports whether a contact of the ledger already holds the
// platform's message id: one message settles one contact, never two.
func (l *Ledger) MessageIDHeld(ctx context.Context, messageID string) (bool, error) {
	var held bool
	err := l.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM contacts WHERE message_id = ?)`, messageID).Scan(&held)
	if err != nil {
		return false, fmt.Errorf("find message id: %w", err)
	}
	return held, nil
}

// FoundOnPlatform settles an unknown contact as sent: the platform lists
// its message, with that id. Only an unknown contact changes.
func (l *Ledger) FoundOnPlatform(ctx context.Context, contactID int64, messageID string, at time.Time) error {
	return l.settle(ctx, contactID, `UPDATE contacts SET state = 'sent', message_id = ?, sent_at = ?, updated_at = ?,
		error = NULL, reason = '{"code":"found_on_platform"}' WHERE id = ? AND state = 'unknown'`,
		messageID, stamp(at), stamp(time.Now()), contactID)
}

// AbsentFromPlatform settles an unknown contact as pending: the platform's
// list of its messages, read to its end, has no message of this campaign
// since the request, so the next run sends it, once.
func (l *Ledger) AbsentFromPlatform(ctx context.Context, contactID int64) error {
	return l.settle(ctx, contactID, `UPDATE contacts SET state = 'pending', updated_at = ?,
		error = NULL, reason = '{"code":"not_on_platform"}' WHERE id = ? AND state = 'unknown'`,
		stamp(time.Now()), contactID)
}

// StillUnknown records why an unknown contact stays unknown.
func (l *Ledger) StillUnknown(ctx context.Context, contactID int64, why campaign.Reason) error {
	return l.settle(ctx, contactID, `UPDATE contacts SET error = NULL, reason = ?, updated_at = ? WHERE id = ? AND state = 'unknown'`,
		reasonValue(why), stamp(time.Now()), contactID)
}

func (l *Ledger) settle(ctx context.Context, contactID int64, query string, args ...any) error {
	return l.write(ctx, onDisk, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("settle unknown contact %d: %w", contactID, err)
		}
		return nil
	})
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullStamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return stamp(t)
}
