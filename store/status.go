package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pregon/pregon/campaign"
)

// Summary counts a campaign's contacts by state.
type Summary struct {
	ID      CampaignID
	Name    string
	Counts  map[campaign.State]int // every state in campaign.States, plus Sending
	Total   int
	LastRun *Run
	Reasons []Reason // most frequent failure reasons first
	// Destination is where the campaign's messages go; zero for a campaign
	// that has not run since the ledger began recording it.
	Destination Destination
	// Rehearsal: the campaign was rehearsed against a pregon sandbox (the
	// built-in one, or an address that answered as one).
	Rehearsal bool
	Created   time.Time
}

// Reason is one failure reason and how many contacts it hit.
type Reason struct {
	State  campaign.State
	Status int
	Why    campaign.Reason // the reason as a code, for records written since format 7
	Error  string          // older records' English prose, when Why is zero
	Count  int
}

// Summaries returns every campaign in the ledger, or only the one named.
func (l *Ledger) Summaries(ctx context.Context, name string) ([]Summary, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT id, name, sandbox, api, base_url, created_at FROM campaigns
		WHERE ? = '' OR name = ? ORDER BY created_at, id`, name, name)
	if err != nil {
		return nil, fmt.Errorf("read campaigns: %w", err)
	}
	var out []Summary
	for rows.Next() {
		var s Summary
		var created, api, baseURL sql.NullString
		if err := rows.Scan(&s.ID, &s.Name, &s.Rehearsal, &api, &baseURL, &created); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read campaigns: %w", err)
		}
		if d, known := recordedDestination(api, baseURL, s.Rehearsal); known {
			s.Destination = d
		}
		s.Created = parseStamp(created)
		out = append(out, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read campaigns: %w", err)
	}
	for i := range out {
		if err := l.fillSummary(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// countSQL counts a campaign's contacts by state, from the contacts_state
// index alone.
const countSQL = `SELECT state, count(*) FROM contacts WHERE campaign_id = ? GROUP BY state`

// reasonsSQL groups a campaign's failures and doubts by reason.
const reasonsSQL = `SELECT state, coalesce(http_status, 0), coalesce(reason, ''), coalesce(error, ''), count(*) AS n
	FROM contacts WHERE campaign_id = ? AND state IN ('failed', 'unknown')
	GROUP BY state, http_status, reason, error ORDER BY n DESC, reason, error LIMIT 10`

func (l *Ledger) fillSummary(ctx context.Context, s *Summary) error {
	id := s.ID
	s.Counts = map[campaign.State]int{}
	for _, st := range campaign.States {
		s.Counts[st] = 0
	}
	rows, err := l.db.QueryContext(ctx, countSQL, id)
	if err != nil {
		return fmt.Errorf("count contacts: %w", err)
	}
	for rows.Next() {
		var st campaign.State
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return fmt.Errorf("count contacts: %w", err)
		}
		s.Counts[st] = n
		s.Total += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("count contacts: %w", err)
	}
	rows, err = l.db.QueryContext(ctx, reasonsSQL, id)
	if err != nil {
		return fmt.Errorf("group failures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Reason
		var why string
		if err := rows.Scan(&r.State, &r.Status, &why, &r.Error, &r.Count); err != nil {
			return fmt.Errorf("group failures: %w", err)
		}
		r.Why = readReason(why)
		s.Reasons = append(s.Reasons, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("group failures: %w", err)
	}
	return nil
}

// Run is one `pregon send` invocation on a campaign.
type Run struct {
	ID       int64
	Host     string
	PID      int
	Flags    map[string]any
	Started  time.Time
	Ended    time.Time // zero while running, or when the process died
	Sent     int
	Failed   int
	Unknown  int
	Rate     float64
	EndedBy  string
	ExitCode int
}

// StartRun records that a run began.
func (l *Ledger) StartRun(ctx context.Context, id CampaignID, flags map[string]any) (int64, error) {
	host, _ := os.Hostname()
	fj, err := json.Marshal(flags)
	if err != nil {
		return 0, fmt.Errorf("record run: %w", err)
	}
	var runID int64
	wctx := context.WithoutCancel(ctx) // ctx stops the write only until it begins
	err = l.write(ctx, onDisk, func(tx *sql.Tx) error {
		return tx.QueryRowContext(wctx, `INSERT INTO runs (campaign_id, host, pid, flags, started_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, id, host, os.Getpid(), string(fj), stamp(time.Now())).Scan(&runID)
	})
	if err != nil {
		return 0, fmt.Errorf("record run: %w", err)
	}
	return runID, nil
}

// EndRun records how a run ended.
func (l *Ledger) EndRun(ctx context.Context, r Run) error {
	wctx := context.WithoutCancel(ctx) // ctx stops the write only until it begins
	return l.write(ctx, onDisk, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(wctx, `UPDATE runs SET ended_at = ?, sent = ?, failed = ?, unknown = ?, rate = ?,
			ended_by = ?, exit_code = ? WHERE id = ?`,
			stamp(r.Ended), r.Sent, r.Failed, r.Unknown, r.Rate, r.EndedBy, r.ExitCode, r.ID)
		if err != nil {
			return fmt.Errorf("record run end: %w", err)
		}
		return nil
	})
}

// Runs returns the campaign's runs, newest first; limit 0 means all.
func (l *Ledger) Runs(ctx context.Context, id CampaignID, limit int) ([]Run, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := l.db.QueryContext(ctx, `SELECT id, host, pid, flags, started_at, ended_at, sent, failed, unknown,
		coalesce(rate, 0), coalesce(ended_by, ''), coalesce(exit_code, -1)
		FROM runs WHERE campaign_id = ? ORDER BY id DESC LIMIT ?`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var flags string
		var started, ended sql.NullString
		if err := rows.Scan(&r.ID, &r.Host, &r.PID, &flags, &started, &ended, &r.Sent, &r.Failed, &r.Unknown,
			&r.Rate, &r.EndedBy, &r.ExitCode); err != nil {
			return nil, fmt.Errorf("read runs: %w", err)
		}
		r.Started, r.Ended = parseStamp(started), parseStamp(ended)
		_ = json.Unmarshal([]byte(flags), &r.Flags)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Contacts returns every record of the campaign, in CSV order: what tests
// compare with what the fake Messages API received.
func (l *Ledger) Contacts(ctx context.Context, id CampaignID) ([]Contact, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT line, contact, state, attempts, coalesce(http_status, 0),
		coalesce(message_id, ''), coalesce(reason, ''), coalesce(error, ''), payload, sent_at FROM contacts WHERE campaign_id = ? ORDER BY line, id`, id)
	if err != nil {
		return nil, fmt.Errorf("read contacts: %w", err)
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		var c Contact
		var sent sql.NullString
		var why string
		if err := rows.Scan(&c.Line, &c.Contact, &c.State, &c.Attempts, &c.HTTPStatus, &c.MessageID, &why, &c.Error, &c.Payload, &sent); err != nil {
			return nil, fmt.Errorf("read contacts: %w", err)
		}
		c.Reason = readReason(why)
		c.SentAt = parseStamp(sent)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Contact is one contact's record in the ledger.
type Contact struct {
	Line       int
	Contact    string
	State      campaign.State
	Attempts   int
	HTTPStatus int
	MessageID  string
	Reason     campaign.Reason
	Error      string // older records' prose, when Reason is zero
	Payload    []byte
	SentAt     time.Time
}

// Minute counts the outcomes recorded in one minute.
type Minute struct {
	At                    time.Time // the minute's start, UTC
	Sent, Failed, Unknown int
}

// Timeline returns, minute by minute, the outcomes recorded for the
// campaign (minutes without any are left out), oldest first.
func (l *Ledger) Timeline(ctx context.Context, id CampaignID) ([]Minute, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT substr(coalesce(sent_at, updated_at), 1, 16) AS minute, state, count(*)
		FROM contacts WHERE campaign_id = ? AND state IN ('sent', 'failed', 'unknown')
		GROUP BY minute, state ORDER BY minute`, id)
	if err != nil {
		return nil, fmt.Errorf("read timeline: %w", err)
	}
	defer rows.Close()
	var out []Minute
	for rows.Next() {
		var minute string
		var st campaign.State
		var n int
		if err := rows.Scan(&minute, &st, &n); err != nil {
			return nil, fmt.Errorf("read timeline: %w", err)
		}
		at, err := time.Parse("2006-01-02T15:04", minute)
		if err != nil {
			return nil, fmt.Errorf("read timeline: %w", err)
		}
		if len(out) == 0 || !out[len(out)-1].At.Equal(at) {
			out = append(out, Minute{At: at})
		}
		m := &out[len(out)-1]
		switch st {
		case campaign.Sent:
			m.Sent = n
		case campaign.Failed:
			m.Failed = n
		case campaign.Unknown:
			m.Unknown = n
		}
	}
	return out, rows.Err()
}

// Sampled is one contact's message, as the ledger holds it.
type Sampled struct {
	Contact string
	State   campaign.State
	Payload []byte
}

// Sample returns one message of the campaign as it was sent: the first
// sent, else the first with a message at all (pending, failed, in doubt).
// ok is false when no contact has one.
func (l *Ledger) Sample(ctx context.Context, id CampaignID) (s Sampled, ok bool, err error) {
	err = l.db.QueryRowContext(ctx, `SELECT contact, state, payload FROM contacts
		WHERE campaign_id = ? AND state IN ('sent', 'pending', 'failed', 'unknown') AND length(payload) > 0
		ORDER BY state <> 'sent', id LIMIT 1`, id).Scan(&s.Contact, &s.State, &s.Payload)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return s, false, nil
	case err != nil:
		return s, false, fmt.Errorf("sample message: %w", err)
	}
	return s, true, nil
}
