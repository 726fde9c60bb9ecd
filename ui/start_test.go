package ui

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
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
	second := url.Values{"mode": {"real"}, "campaign": {"d/dup.json"}, "contacts": {"d/dupB.csv"}}
	e.confirm(c, first)
	e.confirm(c, second) // in another tab, before the first is started
	resp, _ := e.post(c, "/start", first)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.Path, "/live") {
		t.Fatalf("first start: %d at %s", resp.StatusCode, resp.Request.URL)
	}
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

// A real send sends what its confirmation stated: a campaign or contacts
// file changed between the confirmation and the button (another address,
// another text, other rows), a count or digest that is not the
// confirmation's, or none, is refused and asks to confirm again; nothing
// is sent.
func TestStartRefusesWhatTheConfirmationDidNotState(t *testing.T) {
	e := serve(t, Options{Token: testToken})
	e.campaignFiles("promo", 5)
	c := e.client()
	camp, _ := os.ReadFile(filepath.Join(e.o.Dir, "promo.json"))
	rows, _ := os.ReadFile(filepath.Join(e.o.Dir, "promo.csv"))
	for _, tc := range []struct {
		name   string
		change func(form url.Values)
	}{
		{"no digest", func(f url.Values) { f.Del("digest"); f.Del("count") }},
		{"another count", func(f url.Values) { f.Set("count", "400") }},
		{"another digest", func(f url.Values) { f.Set("digest", "x"+f.Get("digest")) }},
		{"another address", func(url.Values) {
			e.write("promo.json", strings.Replace(string(camp), e.fake.URL, "http://evil.example", 1))
		}},
		{"another text", func(url.Values) {
			e.write("promo.json", strings.Replace(string(camp), "está en camino", "fue cancelado", 1))
		}},
		{"other rows", func(url.Values) {
			e.write("promo.csv", strings.Replace(string(rows), "Cliente 1,", "Cliente X,", 1))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.write("promo.json", string(camp))
			e.write("promo.csv", string(rows))
			form := url.Values{"mode": {"real"}, "campaign": {"d/promo.json"}, "contacts": {"d/promo.csv"}}
			e.confirm(c, form)
			tc.change(form)
			resp, body := e.post(c, "/start", form)
			if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "Confirm again") {
				t.Errorf("start: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
			}
			if r := e.srv.runs.get(runKey{mode: real, campaign: "promo"}); r != nil {
				t.Fatal("a run was started")
			}
		})
	}
	if n := len(e.fake.Messages()); n != 0 {
		t.Errorf("the fake got %d messages", n)
	}
	// Unchanged, it is sent.
	e.write("promo.json", string(camp))
	e.write("promo.csv", string(rows))
	form := url.Values{"mode": {"real"}, "campaign": {"d/promo.json"}, "contacts": {"d/promo.csv"}}
	e.confirm(c, form)
	if resp, _ := e.post(c, "/start", form); resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/live" {
		t.Errorf("the confirmed start: %d at %s", resp.StatusCode, resp.Request.URL)
	}
}

// The page's check gives the API token only to an address the campaign
// has been sent to from its ledger: a campaign file names any host it
// likes (an uploaded one too), and a check is no confirmation. Otherwise
// it says the template was not checked, and the send checks it.
func TestCheckGivesTheTokenToKnownAddressesOnly(t *testing.T) {
	e := serve(t, Options{Token: testToken})
	e.campaignFiles("promo", 5)
	c := e.client()
	pick := url.Values{"campaign": {"d/promo.json"}, "contacts": {"d/promo.csv"}}
	_, body := e.post(c, "/check", pick)
	if !strings.Contains(body, "not checked here") || len(e.fake.Requests()) != 0 {
		t.Errorf("a first check: %d requests to the campaign's address\n%s", len(e.fake.Requests()), body)
	}
	start := url.Values{"mode": {"real"}, "campaign": pick["campaign"], "contacts": pick["contacts"]}
	e.confirm(c, start)
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("the confirmation made %d requests", n)
	}
	e.post(c, "/start", start)
	waitFor(t, "the send's end", func() bool {
		r := e.srv.runs.get(runKey{mode: real, campaign: "promo"})
		return r != nil && r.view().phase == ended
	})
	if got := len(e.fake.Messages()); got != 4 {
		t.Fatalf("the send: %d messages, want 4", got)
	}
	before := len(e.fake.Requests())
	_, body = e.post(c, "/check", pick)
	if !strings.Contains(body, "approved") || len(e.fake.Requests()) == before {
		t.Errorf("a check at the address sent to: %d requests\n%s", len(e.fake.Requests())-before, body)
	}
	// Another campaign at another host (as an uploaded file may name):
	// not asked.
	other := sendertest.NewServer(t, sendertest.Config{Token: testToken})
	camp, _ := os.ReadFile(filepath.Join(e.o.Dir, "promo.json"))
	otra := strings.Replace(string(camp), e.fake.URL, other.URL, 1)
	e.write("otra.json", strings.Replace(otra, `"name": "promo"`, `"name": "otra"`, 1))
	_, body = e.post(c, "/check", url.Values{"campaign": {"d/otra.json"}, "contacts": {"d/promo.csv"}})
	if !strings.Contains(body, "not checked here") || len(other.Requests()) != 0 {
		t.Errorf("a check at another host: %d requests\n%s", len(other.Requests()), body)
	}
}

// A campaign without an address, checked by a page that holds the
// token: the check says the address is missing, not that the token is.
func TestCheckWithoutAnAddressSaysSo(t *testing.T) {
	e := serve(t, Options{Token: testToken})
	e.campaignFiles("promo", 3)
	camp, _ := os.ReadFile(filepath.Join(e.o.Dir, "promo.json"))
	e.write("promo.json", strings.Replace(string(camp), `"baseUrl": "`+e.fake.URL+`", `, "", 1))
	_, body := e.post(e.client(), "/check", url.Values{"campaign": {"d/promo.json"}, "contacts": {"d/promo.csv"}})
	if strings.Contains(body, "not checked here") || strings.Contains(body, "to check it against the platform") || !strings.Contains(body, "no baseUrl") {
		t.Errorf("the template line:\n%s", body)
	}
}
