package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pregon/pregon/campaign"
)

// Row is one contact's record as an export writes it: the CSV row it came
// from and what became of it.
type Row struct {
	ID        int64  // the record's id: what an export row fed back names
	Source    string // the file the row was read from
	Line      int
	State     campaign.State
	Reason    campaign.Reason // why not sent, for records written since format 7
	Error     string          // older records' English prose, when Reason is zero
	Attempts  int
	MessageID string
	SentAt    time.Time
	// Cells are the row's values, in the order of Header: the columns of
	// the file the row was read from, as written.
	Cells    []string
	Header   []string
	HeaderID int64 // identifies Header among the campaign's; 0 for records of before format 3
	// Delivery is what the platform last said of a sent message (see
	// pregon track): its status ("" when never asked), when it was
	// delivered and read, and the failure's text.
	Delivery      string
	DeliveredAt   time.Time
	ReadAt        time.Time
	DeliveryError string
}

// Header returns the column names of the campaign's last imported CSV.
func (l *Ledger) Header(ctx context.Context, id CampaignID) ([]string, error) {
	var hj string
	if err := l.db.QueryRowContext(ctx, `SELECT header FROM campaigns WHERE id = ?`, id).Scan(&hj); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	var h []string
	if err := json.Unmarshal([]byte(hj), &h); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	return h, nil
}

// stateFilter is the SQL condition and arguments for records of the
// campaign in one of the states (any, when none are given).
func stateFilter(id CampaignID, states []campaign.State) (string, []any) {
	q := `campaign_id = ?`
	args := []any{id}
	if len(states) > 0 {
		q += ` AND state IN (?` + strings.Repeat(`, ?`, len(states)-1) + `)`
		for _, s := range states {
			args = append(args, s)
		}
	}
	return q, args
}

// Headers returns the headers (column names as written) that the
// campaign's records in the states follow, in the order the ledger first
// met them: what an export's columns are made of.
func (l *Ledger) Headers(ctx context.Context, id CampaignID, states []campaign.State) ([][]string, error) {
	headers, err := l.headers(ctx, id)
	if err != nil {
		return nil, err
	}
	where, args := stateFilter(id, states)
	rows, err := l.db.QueryContext(ctx, `SELECT DISTINCT coalesce(header_id, 0) AS h FROM contacts WHERE `+where+` ORDER BY h`, args...)
	if err != nil {
		return nil, fmt.Errorf("read headers: %w", err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		var h int64
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("read headers: %w", err)
		}
		out = append(out, headers[h])
	}
	return out, rows.Err()
}

// headers returns every header the campaign's records may follow, by id;
// 0 is the one records of before format 3 follow.
func (l *Ledger) headers(ctx context.Context, id CampaignID) (map[int64][]string, error) {
	out := map[int64][]string{}
	var legacy string
	if err := l.db.QueryRowContext(ctx, `SELECT coalesce(legacy_header, header) FROM campaigns WHERE id = ?`, id).Scan(&legacy); err != nil {
		return nil, fmt.Errorf("read headers: %w", err)
	}
	var h []string
	if err := json.Unmarshal([]byte(legacy), &h); err != nil {
		return nil, fmt.Errorf("read headers: %w", err)
	}
	out[0] = h
	// Headers are few (one per distinct header ever imported), and shared
	// by campaigns: read them all rather than scan the contacts for theirs.
	rows, err := l.db.QueryContext(ctx, `SELECT id, columns FROM headers`)
	if err != nil {
		return nil, fmt.Errorf("read headers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var hid int64
		var cols string
		if err := rows.Scan(&hid, &cols); err != nil {
			return nil, fmt.Errorf("read headers: %w", err)
		}
		var h []string
		if err := json.Unmarshal([]byte(cols), &h); err != nil {
			return nil, fmt.Errorf("read header %d: %w", hid, err)
		}
		out[hid] = h
	}
	return out, rows.Err()
}

// Export calls fn for every contact of the campaign in one of the states
// (all when none are given), file by file in CSV order, reading one row
// at a time.
func (l *Ledger) Export(ctx context.Context, id CampaignID, states []campaign.State, fn func(Row) error) error {
	headers, err := l.headers(ctx, id)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	where, args := stateFilter(id, states)
	rows, err := l.db.QueryContext(ctx, `SELECT contacts.id, source, line, state, coalesce(contacts.reason, ''), coalesce(contacts.error, ''), attempts,
		coalesce(message_id, ''), sent_at, cells, coalesce(header_id, 0),
		coalesce(d.status, ''), d.delivered_at, d.read_at, coalesce(d.error, '')
		FROM contacts LEFT JOIN deliveries d ON d.contact_id = contacts.id
		WHERE `+where+` ORDER BY source, line, contacts.id`, args...)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Row
		var sent, delivered, read sql.NullString
		var cells, why string
		if err := rows.Scan(&r.ID, &r.Source, &r.Line, &r.State, &why, &r.Error, &r.Attempts, &r.MessageID, &sent, &cells, &r.HeaderID,
			&r.Delivery, &delivered, &read, &r.DeliveryError); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		r.Reason = readReason(why)
		r.SentAt, r.DeliveredAt, r.ReadAt = parseStamp(sent), parseStamp(delivered), parseStamp(read)
		r.Header = headers[r.HeaderID]
		if err := json.Unmarshal([]byte(cells), &r.Cells); err != nil {
			return fmt.Errorf("export %s line %d: %w", r.Source, r.Line, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// PayloadBytes is the total size of the payloads the ledger holds: what
// the ledger's size is measured against.
func (l *Ledger) PayloadBytes(ctx context.Context) (int64, error) {
	var n int64
	if err := l.db.QueryRowContext(ctx, `SELECT coalesce(sum(length(payload)), 0) FROM contacts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("measure payloads: %w", err)
	}
	return n, nil
}
