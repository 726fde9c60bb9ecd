package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/sender/sendertest"
)

// A second start of a campaign the page is sending is refused, and says
// with which files the first one is being sent: the second file's
// contacts are neither imported nor sent behind the person's back, and
// the live page shows the running send's own files.
func TestSecondStartOfARunningCampaignRefused(t *testing.T) {
	e := serve(t, Options{Token: testToken})
	e.fake = sendertest.NewServer(t, sendertest.Config{Token: testToken, Latency: 300 * time.Millisecond})
	e.campaignFiles("dup", 4)
	e.write("dupB.csv", "phone,nombre,pedido,foto\n+593992000001,Otro,PED-9,https://cdn.example-brand.com/p/9.jpg\n")
	c := e.client()
	first := url.Values{"mode": {"real"}, "campaign": {"d/dup.json"}, "contacts": {"d/dup.csv"}}
	resp, _ := e.post(c, "/start", first)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.Path, "/live") {
		t.Fatalf("first start: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	second := url.Values{"mode": {"real"}, "campaign": {"d/dup.json"}, "contacts": {"d/dupB.csv"}}
	resp, body := e.post(c, "/start", second)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "already being sent from this page, with the contacts file dup.csv") {
		t.Errorf("second start: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	_, live := e.get(c, "/live?mode=real&name=dup&campaign=d%2Fdup.json&contacts=d%2FdupB.csv")
	if strings.Contains(live, "dupB.csv") || !strings.Contains(live, "d/dup.csv") {
		t.Errorf("the live page shows the second pick:\n%s", live)
	}
	waitFor(t, "the send's end", func() bool {
		r := e.srv.runs.get(runKey{mode: real, campaign: "dup"})
		return r != nil && r.view().phase == ended
	})
	for _, m := range e.fake.Messages() {
		if strings.Contains(m.Contact, "593992000001") || strings.Contains(string(m.Body), "593992000001") {
			t.Errorf("dupB's contact was sent: %s", m.Path)
		}
	}
	if got := len(e.fake.Messages()); got != 3 {
		t.Errorf("the fake got %d messages, want dup.csv's 3", got)
	}
	if n := ledgerCounts(t, e.o.Ledger, "dup"); n["sent"]+n["invalid"] != 4 {
		t.Errorf("the ledger holds %v, want dup.csv's 4 contacts only", n)
	}
}
