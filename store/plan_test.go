package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pregon/pregon/campaign"
)

// The questions that a send's start, `status`, `export` and the queue ask
// of one campaign find its contacts through an index: none scans the
// contacts table, which holds every campaign's payloads (gigabytes for a
// ledger of millions). The queue's read takes each range of the index in
// rowid order and sorts at most :n ids of each, never the campaign. Run
// with -v to see each plan.
func TestQueriesUseAnIndex(t *testing.T) {
	// Queries of campaign.go and export.go, as those files write them.
	const (
		emptySQL   = `SELECT count(*) FROM (SELECT 1 FROM contacts WHERE campaign_id = ? LIMIT 1)`
		recoverSQL = `UPDATE contacts SET state = 'unknown', error = '', updated_at = ? WHERE campaign_id = ? AND state = 'sending'`
		actedSQL   = `SELECT EXISTS (SELECT 1 FROM contacts WHERE campaign_id = ? AND ` + actedOn + `)`
		realSQL    = `SELECT EXISTS (SELECT 1 FROM contacts WHERE campaign_id = ? AND state != 'sending' AND ` + actedOn + `)`
		exportSQL  = `SELECT line, state, coalesce(error, ''), attempts, coalesce(message_id, ''), sent_at, cells
		FROM contacts WHERE campaign_id = ?`
		timelineSQL = `SELECT substr(coalesce(sent_at, updated_at), 1, 16) AS minute, state, count(*)
		FROM contacts WHERE campaign_id = ? AND state IN ('sent', 'failed', 'unknown')
		GROUP BY minute, state ORDER BY minute`
	)
	const byState = "SEARCH contacts USING INDEX contacts_state (campaign_id=? AND state=?)"
	const rangeInOrder = "SEARCH contacts USING COVERING INDEX contacts_state (campaign_id=? AND state=? AND seen_gen=? AND permanent=? AND rowid>? AND rowid<?)"
	for _, tc := range []struct {
		name, query string
		want        []string // plan lines that must be there
	}{
		{"status counts", countSQL, []string{"SEARCH contacts USING COVERING INDEX contacts_state (campaign_id=?)"}},
		{"status reasons", reasonsSQL, []string{byState}},
		{"Empty", emptySQL, []string{"SEARCH contacts USING COVERING INDEX contacts_state (campaign_id=?)"}},
		{"Recover", recoverSQL, []string{byState}},
		{"Remaining", remainingSQL, []string{"SEARCH contacts USING COVERING INDEX contacts_state (campaign_id=? AND state=? AND seen_gen=?)"}},
		{"Next", nextSQL(Eligible{}), []string{rangeInOrder, "SEARCH contacts USING INTEGER PRIMARY KEY (rowid=?)"}},
		{"Next, -retry-failed -resend-unknown", nextSQL(Eligible{RetryFailed: true, ResendUnknown: true}),
			[]string{rangeInOrder, "SEARCH contacts USING INTEGER PRIMARY KEY (rowid=?)"}},
		{"Plan.WouldSend", planSQL, []string{"SEARCH contacts USING INDEX contacts_identity (campaign_id=? AND contact=?)"}},
		{"export", exportSQL + ` ORDER BY line, id`, []string{"SEARCH contacts USING INDEX contacts_state (campaign_id=?)"}},
		{"export by state", exportSQL + ` AND state IN (?, ?) ORDER BY line, id`, []string{byState}},
		{"actedOnAny", actedSQL, []string{"SEARCH contacts USING INDEX contacts_state (campaign_id=?)"}},
		{"MarkRehearsal", realSQL, []string{"SEARCH contacts USING INDEX contacts_state (campaign_id=?)"}},
		{"Timeline", timelineSQL, []string{byState}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := queryPlan(t, tc.query)
			t.Logf("%s:\n\t%s", tc.name, strings.Join(plan, "\n\t"))
			for _, line := range plan {
				if strings.HasPrefix(line, "SCAN contacts") {
					t.Errorf("%s scans the contacts table: %q", tc.name, line)
				}
			}
			for _, w := range tc.want {
				if !slices.Contains(plan, w) {
					t.Errorf("%s: no %q in its plan", tc.name, w)
				}
			}
			if strings.HasPrefix(tc.name, "Next") {
				// Each sort is of one range's first :n ids, after its
				// SEARCH; none may sort the campaign.
				for i, line := range plan {
					if strings.Contains(line, "TEMP B-TREE") && (i == 0 || !strings.HasPrefix(plan[i-1], "SCAN (subquery")) {
						t.Errorf("%s sorts more than a range's first ids: %q after %q", tc.name, line, plan[max(i-1, 0)])
					}
				}
			}
		})
	}
}

var paramName = regexp.MustCompile(`:[a-z_]+`)

// queryPlan returns what EXPLAIN QUERY PLAN says of q on a fresh ledger,
// a line per step.
func queryPlan(t *testing.T, q string) []string {
	t.Helper()
	l, _ := openTemp(t)
	// Every parameter NULL: SQLite plans without looking at the values.
	var args []any
	for _, name := range slices.Compact(slices.Sorted(slices.Values(paramName.FindAllString(q, -1)))) {
		args = append(args, sql.Named(name[1:], nil))
	}
	for range strings.Count(q, "?") {
		args = append(args, nil)
	}
	rows, err := l.db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// Next hands out every contact the run may send, once, in CSV order, page
// after page, whatever mix of states and imports the campaign holds.
func TestNextHandsOutEveryEligibleContactInOrder(t *testing.T) {
	l, _ := openTemp(t)
	ctx := context.Background()
	id, _ := l.Register(ctx, "c", "fp", platform, false)
	const n = 40
	var msgs []campaign.Message
	for i := range n {
		msgs = append(msgs, msg(i+2, fmt.Sprintf("phone:+1%03d", i), "x"))
	}
	importAll(t, l, id, msgs...)
	// This run's CSV lists all but the last 6.
	_, gen := importAll(t, l, id, msgs[:n-6]...)
	q := l.Queue(id, gen, Eligible{})
	jobs, err := q.Next(ctx, n)
	if err != nil || len(jobs) != n-6 {
		t.Fatalf("next: %d jobs, %v", len(jobs), err)
	}
	// What each contact became, by its index in the CSV: i%7 picks.
	outcomes := []*campaign.Outcome{
		nil, // pending, never tried
		{State: campaign.Sent, HTTPStatus: 200},
		{State: campaign.Failed, HTTPStatus: 403, Permanent: true},
		{State: campaign.Failed, HTTPStatus: 503},
		{State: campaign.Unknown},
		{State: campaign.Pending, Permanent: true}, // not sent, as a record may say
		nil,
	}
	for i, j := range jobs {
		if o := outcomes[i%7]; o != nil {
			if err := q.Attempt(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			if err := q.Record(ctx, j.ID, *o); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, e := range []Eligible{{}, {RetryFailed: true}, {ResendUnknown: true}, {RetryFailed: true, ResendUnknown: true}} {
		var want []string
		for i, j := range jobs {
			o := outcomes[i%7]
			if o == nil || o.State == campaign.Pending || (o.State == campaign.Failed && (!o.Permanent || e.RetryFailed)) ||
				(o.State == campaign.Unknown && e.ResendUnknown) {
				want = append(want, j.Contact)
			}
		}
		q := l.Queue(id, gen, e)
		left, err := q.Remaining(ctx)
		if err != nil || left != len(want) {
			t.Errorf("%+v: remaining %d, %v; want %d", e, left, err, len(want))
		}
		var got []string
		for {
			page, err := q.Next(ctx, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, j := range page {
				got = append(got, j.Contact)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%+v: handed out\n%v\nwant\n%v", e, got, want)
		}
	}
}
