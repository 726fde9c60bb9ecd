package store

import (
	"context"
	"testing"
	"time"

	"github.com/pregon/pregon/campaign"
)

// Tracking asks about sent messages with an id, not final yet, until they
// are; the funnel counts what the platform said.
func TestTrackingAndTheFunnel(t *testing.T) {
	l, _ := openTemp(t)
	ctx := context.Background()
	id, err := l.Register(ctx, "promo", "fp", Destination{API: "v2", BaseURL: "https://api.brand.com"}, false)
	if err != nil {
		t.Fatal(err)
	}
	_, gen := importAll(t, l, id, msg(2, "phone:+1", "a"), msg(3, "phone:+2", "b"), msg(4, "phone:+3", "c"), msg(5, "phone:+4", "d"))
	q := l.Queue(id, gen, Eligible{})
	jobs, _ := q.Next(ctx, 10)
	outcomes := []campaign.Outcome{
		{State: campaign.Sent, HTTPStatus: 200, MessageID: "101"},
		{State: campaign.Sent, HTTPStatus: 200, MessageID: "102"},
		{State: campaign.Sent, HTTPStatus: 200}, // v1: no id, nothing to ask
		{State: campaign.Failed, HTTPStatus: 404, Permanent: true},
	}
	for i, j := range jobs {
		if err := q.Attempt(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		if err := q.Record(ctx, j.ID, outcomes[i]); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	todo, err := l.ToTrack(ctx, id, 0, 10, now.Add(-time.Hour), now)
	if err != nil || len(todo) != 2 || todo[0].MessageID != "101" || todo[1].Contact != "phone:+2" {
		t.Fatalf("to track = %+v, %v", todo, err)
	}
	delivered := now.Add(-time.Minute)
	l.RecordDelivery(ctx, todo[0].ID, Delivery{Status: "read", DeliveredAt: delivered, ReadAt: now}, now)
	l.RecordDelivery(ctx, todo[1].ID, Delivery{Status: "sent"}, now)
	// The read one is final; the other is asked again after a while.
	if todo, _ := l.ToTrack(ctx, id, 0, 10, now.Add(-time.Hour), now); len(todo) != 0 {
		t.Errorf("asked again at once: %+v", todo)
	}
	later := now.Add(time.Hour)
	todo, _ = l.ToTrack(ctx, id, 0, 10, now.Add(-time.Hour), later)
	if len(todo) != 1 || todo[0].MessageID != "102" {
		t.Fatalf("to track later = %+v", todo)
	}
	l.RecordDelivery(ctx, todo[0].ID, Delivery{Status: "failed", FailedAt: later, Error: "Message undeliverable"}, later)
	f, err := l.Funnel(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if f.Sent != 3 || f.Tracked != 2 || f.Delivered != 1 || f.Read != 1 || f.Failed != 1 || f.Reasons["Message undeliverable"] != 1 {
		t.Errorf("funnel = %+v", f)
	}
	// Too old: never asked again.
	if todo, _ := l.ToTrack(ctx, id, 0, 10, later.Add(time.Hour), later.Add(time.Hour)); len(todo) != 0 {
		t.Errorf("old messages still tracked: %+v", todo)
	}
}

// Reconciliation settles only unknown contacts: a contact that a run sent
// meanwhile is never turned back.
func TestSettleOnlyUnknown(t *testing.T) {
	l, _ := openTemp(t)
	ctx := context.Background()
	id, _ := l.Register(ctx, "promo", "fp", Destination{API: "v2", BaseURL: "https://api.brand.com"}, false)
	_, gen := importAll(t, l, id, msg(2, "phone:+1", "a"), msg(3, "phone:+2", "b"), msg(4, "phone:+3", "c"))
	q := l.Queue(id, gen, Eligible{})
	jobs, _ := q.Next(ctx, 10)
	for i, j := range jobs {
		q.Attempt(ctx, j.ID)
		state := campaign.Unknown
		if i == 2 {
			state = campaign.Sent
		}
		q.Record(ctx, j.ID, campaign.Outcome{State: state})
	}
	us, err := l.Unknowns(ctx, id)
	if err != nil || len(us) != 2 || us[0].AttemptedAt.IsZero() || len(us[0].Payload) == 0 {
		t.Fatalf("unknowns = %+v, %v", us, err)
	}
	if err := l.FoundOnPlatform(ctx, us[0].ID, "555", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := l.AbsentFromPlatform(ctx, us[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := l.AbsentFromPlatform(ctx, jobs[2].ID); err != nil {
		t.Fatal(err)
	}
	got := states(t, l, id)
	if got["phone:+1"] != campaign.Sent || got["phone:+2"] != campaign.Pending || got["phone:+3"] != campaign.Sent {
		t.Errorf("states = %v", got)
	}
}
