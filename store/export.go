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
	Error     string
	Attempts  int
	MessageID string
	SentAt    time.Time
	Cells     []string // the CSV row's values, in Header order
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

// Export calls fn for every contact of the campaign in one of the states
// (all when none are given), file by file in CSV order, reading one row
// at a time.
func (l *Ledger) Export(ctx context.Context, id CampaignID, states []campaign.State, fn func(Row) error) error {
	q := `SELECT id, source, line, state, coalesce(error, ''), attempts, coalesce(message_id, ''), sent_at, cells
		FROM contacts WHERE campaign_id = ?`
	args := []any{id}
	if len(states) > 0 {
		q += ` AND state IN (?` + strings.Repeat(`, ?`, len(states)-1) + `)`
		for _, s := range states {
			args = append(args, s)
		}
	}
	rows, err := l.db.QueryContext(ctx, q+` ORDER BY source, line, id`, args...)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Row
		var sent sql.NullString
		var cells string
		if err := rows.Scan(&r.ID, &r.Source, &r.Line, &r.State, &r.Error, &r.Attempts, &r.MessageID, &sent, &cells); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		r.SentAt = parseStamp(sent)
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
