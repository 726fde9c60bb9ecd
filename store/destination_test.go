package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pregon/pregon/campaign"
)

var (
	brand   = Destination{API: "v2", BaseURL: "https://api.brand.com/api"}
	fake    = Destination{API: "v2", BaseURL: "http://127.0.0.1:8025"}
	builtIn = Destination{API: "v2", Sandbox: true, Rehearsal: true}
	// sandbox is `pregon sandbox` at a URL: a rehearsal.
	sandbox  = Destination{API: "v2", BaseURL: "http://127.0.0.1:8025", Rehearsal: true}
	brandOld = Destination{API: "v1", BaseURL: "https://api.brand.com/api"}
)

func TestDestinationString(t *testing.T) {
	for _, tc := range []struct {
		d    Destination
		want string
	}{
		{brand, "v2 at https://api.brand.com/api"},
		{builtIn, "v2 at the built-in sandbox (-sandbox)"},
		{Destination{Sandbox: true}, "the built-in sandbox (-sandbox)"},
		{Destination{}, "an unrecorded address"},
	} {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("%#v: %q, want %q", tc.d, got, tc.want)
		}
	}
}

// history brings a fresh campaign to a point in its life.
type history func(t *testing.T, l *Ledger, id CampaignID)

var (
	nothing  history = func(*testing.T, *Ledger, CampaignID) {}
	imported history = func(t *testing.T, l *Ledger, id CampaignID) {
		importAll(t, l, id, msg(2, "phone:+1", "a"), msg(3, "phone:+2", "b"))
	}
	// retried: one request was made and answered 503; the contact is
	// pending again, with an attempt on record.
	retried history = func(t *testing.T, l *Ledger, id CampaignID) {
		ctx := context.Background()
		_, gen := importAll(t, l, id, msg(2, "phone:+1", "a"), msg(3, "phone:+2", "b"))
		q := l.Queue(id, gen, Eligible{})
		jobs, err := q.Next(ctx, 1)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("jobs = %v, %v", jobs, err)
		}
		if err := q.Attempt(ctx, jobs[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := q.Record(ctx, jobs[0].ID, campaign.Outcome{State: campaign.Pending, HTTPStatus: 503, Reason: campaign.Reason{Code: campaign.TryLater, Args: []any{503, "busy"}}}); err != nil {
			t.Fatal(err)
		}
	}
	sent history = func(t *testing.T, l *Ledger, id CampaignID) {
		_, gen := importAll(t, l, id, msg(2, "phone:+1", "a"))
		sendAll(t, l, id, gen, campaign.Outcome{State: campaign.Sent, HTTPStatus: 200})
	}
)

func TestRegisterChecksTheDestination(t *testing.T) {
	for _, tc := range []struct {
		name        string
		first       Destination
		history     history
		then        Destination
		wantErr     bool
		wantRecords Destination // after the second Register
	}{
		{"same destination after sends", brand, sent, brand, false, brand},
		// A 503 is an answer that acted on nothing: the contact is pending.
		{"other base URL after an attempt", fake, retried, brand, false, brand},
		{"other base URL after sends", fake, sent, brand, true, fake},
		{"other API after sends", brandOld, sent, brand, true, brandOld},
		{"other base URL, nothing sent", fake, imported, brand, false, brand},
		{"other base URL, no contacts", fake, nothing, brand, false, brand},
		{"built-in sandbox, then a URL after sends", builtIn, sent, fake, true, builtIn},
		{"a URL, then the built-in sandbox after sends", fake, sent, builtIn, true, fake},
		{"built-in sandbox again after sends", builtIn, sent, builtIn, false, builtIn},
		{"built-in sandbox, then a URL, nothing sent", builtIn, imported, brand, false, brand},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, _ := openTemp(t)
			ctx := context.Background()
			id, err := l.Register(ctx, "promo", "fp", tc.first, false)
			if err != nil {
				t.Fatal(err)
			}
			tc.history(t, l, id)
			before := states(t, l, id)
			id2, err := l.Register(ctx, "promo", "fp", tc.then, false)
			var de *DestinationError
			switch {
			case tc.wantErr && !errors.As(err, &de):
				t.Fatalf("err = %v, want a *DestinationError", err)
			case tc.wantErr:
				want := DestinationError{Name: "promo", Recorded: tc.first, Current: tc.then,
					Movable: !tc.first.Rehearsal && !tc.then.Rehearsal}
				if *de != want {
					t.Errorf("err = %+v, want %+v", *de, want)
				}
				msg := de.Error()
				if !strings.Contains(msg, tc.first.String()) || !strings.Contains(msg, tc.then.String()) {
					t.Errorf("%q does not name both destinations", msg)
				}
			case err != nil:
				t.Fatal(err)
			case id2 != id:
				t.Errorf("id = %v, want %v", id2, id)
			}
			s := summary(t, l, "promo")
			if s.Destination != tc.wantRecords || s.Rehearsal != tc.wantRecords.Rehearsal {
				t.Errorf("recorded %v (rehearsal %v), want %v", s.Destination, s.Rehearsal, tc.wantRecords)
			}
			if got := states(t, l, id); !equal(got, before) {
				t.Errorf("states = %v, want %v", got, before)
			}
		})
	}
}

func TestDestinationErrorNamesARehearsal(t *testing.T) {
	e := &DestinationError{Name: "promo", Recorded: sandbox, Current: Destination{API: "v2", BaseURL: "https://api.brand.com"}}
	want := `campaign "promo" was sent to v2 at http://127.0.0.1:8025 (a pregon sandbox: a rehearsal) in this ledger; this run would send to v2 at https://api.brand.com: contacts recorded as sent there would be skipped here`
	if e.Error() != want {
		t.Errorf("got  %s\nwant %s", e.Error(), want)
	}
}

// A destination the ledger must not record is refused, without repeating
// the URL: what is wrong with it may be a token.
func TestRegisterRefusesWhatItMustNotRecord(t *testing.T) {
	l, _ := openTemp(t)
	for _, d := range []Destination{
		{API: "v2", BaseURL: "https://user:s3cret@api.brand.com"},
		{API: "v2", BaseURL: "https://api.brand.com/api?token=s3cret"},
		{API: "v2", BaseURL: "https://api.brand.com/api#s3cret"},
		{API: "v2", BaseURL: "https://api.brand.com/api/"},
		{API: "v2", BaseURL: "api.brand.com"},
		{API: "v2", BaseURL: "ftp://api.brand.com"},
		{API: "v2"},
		{BaseURL: "https://api.brand.com"},
		{API: "v2", BaseURL: "http://127.0.0.1:8025", Sandbox: true},
	} {
		_, err := l.Register(context.Background(), "promo", "fp", d, false)
		if err == nil {
			t.Errorf("%+v was recorded", d)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%+v: the error repeats the secret: %v", d, err)
		}
	}
	if sums, err := l.Summaries(context.Background(), ""); err != nil || len(sums) != 0 {
		t.Errorf("campaigns = %+v, %v", sums, err)
	}
}

// A campaign from a format-1 ledger adopts the destination of its first
// run, unless the built-in sandbox and real sends would mix.
func TestFormat1CampaignAdoptsItsFirstDestination(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sandbox   bool // format 1's column: rehearsed against the built-in sandbox
		history   history
		then      Destination
		wantErr   bool
		wantAfter Destination // Summary.Destination after Register
	}{
		{"real sends, then a URL", false, sent, brand, false, brand},
		{"real sends, then the built-in sandbox", false, sent, builtIn, true, Destination{}},
		{"sandbox sends, then a URL", true, sent, brand, true, Destination{}},
		{"sandbox sends, then the built-in sandbox", true, sent, builtIn, false, builtIn},
		{"sandbox, nothing sent, then a URL", true, imported, brand, false, brand},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			old, path := ledgerAt(t, 1)
			id := registerFormat1(t, old, "promo", tc.sandbox)
			tc.history(t, old, id)
			old.Close()
			l, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if s := summary(t, l, "promo"); s.Destination != (Destination{}) || s.Rehearsal != tc.sandbox {
				t.Errorf("before: destination %v, rehearsal %v", s.Destination, s.Rehearsal)
			}
			_, err = l.Register(ctx, "promo", "fp", tc.then, false)
			var de *DestinationError
			switch {
			case tc.wantErr && !errors.As(err, &de):
				t.Fatalf("err = %v, want a *DestinationError", err)
			case tc.wantErr:
				want := DestinationError{Name: "promo", Recorded: Destination{Sandbox: tc.sandbox, Rehearsal: tc.sandbox}, Current: tc.then}
				if *de != want {
					t.Errorf("err = %+v, want %+v", *de, want)
				}
			case err != nil:
				t.Fatal(err)
			}
			s := summary(t, l, "promo")
			if s.Destination != tc.wantAfter {
				t.Errorf("after: destination %v, want %v", s.Destination, tc.wantAfter)
			}
		})
	}
}

func summary(t *testing.T, l *Ledger, name string) Summary {
	t.Helper()
	sums, err := l.Summaries(context.Background(), name)
	if err != nil || len(sums) != 1 {
		t.Fatalf("summaries = %+v, %v", sums, err)
	}
	return sums[0]
}

// A rehearsal at a URL and a real send are different destinations, both
// ways, whatever allowChanged says, once anything was acted on.
func TestRehearsalAndRealSendNeverShareACampaign(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		first, then Destination
	}{
		{"real send after a rehearsal", sandbox, Destination{API: "v2", BaseURL: "http://127.0.0.1:8025"}},
		{"rehearsal after a real send", Destination{API: "v2", BaseURL: "http://127.0.0.1:8025"}, sandbox},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, _ := openTemp(t)
			id, err := l.Register(ctx, "promo", "fp", tc.first, false)
			if err != nil {
				t.Fatal(err)
			}
			sent(t, l, id)
			_, err = l.Register(ctx, "promo", "fp", tc.then, true)
			var de *DestinationError
			if !errors.As(err, &de) || de.Movable {
				t.Fatalf("err = %v", err)
			}
			if s := summary(t, l, "promo"); s.Destination != tc.first {
				t.Errorf("the refused run changed the recorded destination to %v", s.Destination)
			}
		})
	}
}

// The platform may move: with allowChanged a campaign sent at one of its
// addresses goes on at another, keeping its states; never between a
// rehearsal and a real send.
func TestRegisterMovesWithAllowChanged(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		first, then Destination
		rehearsal   bool
		wantErr     bool
	}{
		{"the platform moved", brandOld, brand, false, false},
		{"a rehearsal at a URL", sandbox, brand, true, true},
		{"the built-in sandbox", builtIn, brand, true, true},
		{"to the built-in sandbox", brand, builtIn, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, _ := openTemp(t)
			id, err := l.Register(ctx, "promo", "fp", tc.first, false)
			if err != nil {
				t.Fatal(err)
			}
			sent(t, l, id)
			_, err = l.Register(ctx, "promo", "fp", tc.then, true)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && states(t, l, id)["phone:+1"] != campaign.Sent {
				t.Errorf("the move lost the contact's state: %v", states(t, l, id))
			}
		})
	}
}
