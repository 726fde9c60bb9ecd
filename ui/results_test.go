package ui

import (
	"net/url"
	"strings"
	"testing"

	"github.com/pregon/pregon/sender/sendertest"
)

// The results ask the platform what became of the sent messages as
// pregon track does, and show the funnel it fills.
func TestResultsTrack(t *testing.T) {
	e := serve(t, Options{Token: testToken})
	e.fake = sendertest.NewServer(t, sendertest.Config{Token: testToken,
		Delivery: sendertest.Delivery{After: -1, ReadAfter: -1, ReadEvery: 1, FailEvery: -1}})
	e.campaignFiles("promo", 5)
	c := e.client()
	start := url.Values{"mode": {"real"}, "campaign": {"d/promo.json"}, "contacts": {"d/promo.csv"}}
	e.confirm(c, start)
	e.post(c, "/start", start)
	waitFor(t, "the send's end", func() bool {
		r := e.srv.runs.get(runKey{mode: real, campaign: "promo"})
		return r != nil && r.view().phase == ended
	})
	if _, body := e.get(c, "/results"); !strings.Contains(body, "Ask the platform what happened next") {
		t.Fatalf("the results offer no tracking:\n%s", body)
	}
	// The fake delivers and reads every message at once.
	e.post(c, "/track", url.Values{"mode": {"real"}, "name": {"promo"}})
	waitFor(t, "the tracking's end", func() bool { return e.srv.runs.tracking("promo").view().done })
	_, body := e.get(c, "/results")
	for _, want := range []string{"Asked about 4 messages: 4 delivered, read or failed by now", "What happened after sending"} {
		if !strings.Contains(body, want) {
			t.Errorf("the results lack %q:\n%s", want, body)
		}
	}
}
