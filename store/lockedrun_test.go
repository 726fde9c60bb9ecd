package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/sender"
	"github.com/pregon/pregon/sender/sendertest"
	"github.com/pregon/pregon/store"
)

// A ledger that another process keeps locked stops a run of 64 requests
// in flight after one wait of the busy timeout, or at once when the run is
// stopped (Ctrl-C) meanwhile; either way no request goes out, because no
// attempt could be recorded.
func TestLockedLedgerStopsARun(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		stop    bool
	}{
		{"busy timeout", 300 * time.Millisecond, false},
		// The lock is released only after Run returns: a run that waited
		// for the busy timeout would end a minute later, with the
		// ledger's error.
		{"stopped", time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "pregon.db")
			l, err := store.Open(ctx, path, store.WithBusyTimeout(tc.timeout))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			id, err := l.Register(ctx, "c", "fp", store.Destination{API: "v2", BaseURL: "https://api.example.com"}, false)
			if err != nil {
				t.Fatal(err)
			}
			im, err := l.Import(ctx, id, "c.csv", []string{"id"})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 200 {
				c := fmt.Sprintf("id:%d", i)
				if err := im.Add(ctx, campaign.Message{Line: i + 2, Contact: c, Path: "/v2/contact/" + c + "/message", Payload: []byte(`{}`)}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := im.Finish(ctx); err != nil {
				t.Fatal(err)
			}

			other, err := sql.Open("sqlite3", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			lock, err := other.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Close()
			if _, err := lock.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
				t.Fatal(err)
			}

			fake := sendertest.NewServer(t, sendertest.Config{})
			client, err := sender.NewClient(fake.URL, "t", 64, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			s := sender.New(client, sender.NewPacer(0, sender.PacerOptions{}), sender.Options{Concurrency: 64})
			run, stop := context.WithCancel(ctx)
			defer stop()
			if tc.stop {
				time.AfterFunc(200*time.Millisecond, stop) // while the attempts wait for the lock
			}
			err = s.Run(run, l.Queue(id, im.Generation(), store.Eligible{}))
			var le *sender.LedgerError
			switch {
			case tc.stop && !errors.Is(err, context.Canceled):
				t.Errorf("stopped run: %v, want context.Canceled", err)
			case !tc.stop && !errors.As(err, &le):
				t.Errorf("run: %v, want a ledger error", err)
			}
			if _, err := lock.ExecContext(ctx, "ROLLBACK"); err != nil {
				t.Fatal(err)
			}
			if n := len(fake.Requests()); n != 0 {
				t.Errorf("%d requests went out with no attempt on record", n)
			}
			sums, err := l.Summaries(ctx, "c")
			if err != nil {
				t.Fatal(err)
			}
			if got := sums[0].Counts[campaign.Pending]; got != 200 {
				t.Errorf("%d contacts pending, want all 200", got)
			}
		})
	}
}
