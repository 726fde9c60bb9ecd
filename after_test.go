package main

import (
	"encoding/json"
	"fmt"
	"html/template"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/sender/sendertest"
)

// A template the platform cannot send is refused before the first message:
// the platform's log shows only reads.
func TestTemplateCheckedBeforeTheFirstMessage(t *testing.T) {
	t.Setenv(tokenEnv, "t0ken")
	sampleCampaign := string(mustRead(t, sample("pedido-en-camino.json")))
	for _, tc := range []struct {
		name, from, to, says string
	}{
		{"misspelt", `"delivery_order"`, `"delivery_ordr"`, `the closest: "delivery_order"`},
		{"another language", `"languageCode": "es"`, `"languageCode": "en_US"`, `it exists in es, not in "en_US"`},
		{"pending", `"delivery_order"`, `"promo_fin_de_semana"`, "PENDING"},
		{"a parameter short", `"Hola, {{1}} tu pedido {{2}} está en camino.",
         "parameters": [{"type": "text", "text": "{{nombre}}"}, {"type": "text", "text": "{{pedido}}"}]`, `"Hola, {{1}}, su pedido está en camino.",
         "parameters": [{"type": "text", "text": "{{nombre}}"}]`, "its body takes 2 parameters on the platform, the campaign gives 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			broken := strings.Replace(sampleCampaign, tc.from, tc.to, 1)
			if broken == sampleCampaign {
				t.Fatalf("the sample has no %s", tc.from)
			}
			camp := writeTemp(t, dir, "c.json", broken)
			fake := sendertest.NewServer(t, sendertest.Config{})
			code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", sample("pedido-en-camino.csv"),
				"-ledger", filepath.Join(dir, "l.db"), "-base-url", fake.URL)
			if code != exitUsage || !strings.Contains(errOut, tc.says) {
				t.Errorf("exit %d, want 2 saying %q:\n%s", code, tc.says, errOut)
			}
			for _, r := range fake.Requests() {
				if r.Method != "GET" {
					t.Errorf("%s %s reached the platform before the template was checked", r.Method, r.Path)
				}
			}
			// The dry run, given the token, checks it too.
			code, out, errOut := pregon(t, "send", "-dry-run", "-campaign", camp, "-contacts", sample("pedido-en-camino.csv"),
				"-ledger", filepath.Join(dir, "l.db"), "-base-url", fake.URL)
			if code != exitUsage || !strings.Contains(errOut, tc.says) {
				t.Errorf("dry run: exit %d, want 2 saying %q:\n%s%s", code, tc.says, out, errOut)
			}
		})
	}
	// The sample itself passes the check and is sent.
	fake := sendertest.NewServer(t, sendertest.Config{})
	if code, _, errOut := pregon(t, "send", "-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"),
		"-ledger", filepath.Join(t.TempDir(), "l.db"), "-base-url", fake.URL, "-rate", "0"); code != 0 {
		t.Errorf("the sample: exit %d\n%s", code, errOut)
	}
}

// Lost answers become unknown; the next run asks the platform first: a
// message it holds makes the contact sent with its id, one it never got is
// sent once more; nobody gets it twice and nobody is skipped.
func TestUnknownResolvedByAskingThePlatform(t *testing.T) {
	t.Setenv(tokenEnv, "t0ken")
	var mu sync.Mutex
	cut := map[string]bool{}
	fake := sendertest.NewServer(t, sendertest.Config{OtherTraffic: true, Respond: func(r *sendertest.Request) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if cut[r.Contact] {
			return 0, ""
		}
		switch r.Contact {
		case "phone:+593991000003", "phone:+593991000007", "phone:+593991000011":
			cut[r.Contact] = true
			return -2, "" // taken, then the answer is lost
		case "phone:+593991000005", "phone:+593991000009":
			cut[r.Contact] = true
			return -1, "" // lost before the platform took it
		}
		return 0, ""
	}})
	ledger := filepath.Join(t.TempDir(), "l.db")
	args := []string{"send", "-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"),
		"-ledger", ledger, "-base-url", fake.URL, "-rate", "0", "-timeout", "1s"}
	code, _, errOut := pregon(t, args...)
	if st := status(t, ledger)[0]; code != exitIncomplete || st.Unknown != 5 {
		t.Fatalf("first run: exit %d, %d unknown\n%s", code, st.Unknown, errOut)
	}
	// At once, a lost request may still be under way at the platform:
	// what it holds is found, what it lacks stays unknown for now.
	code, _, errOut = pregon(t, args...)
	if code != exitIncomplete || !strings.Contains(errOut, "found_sent=3 absent_sent_again=0 still_unknown=2") {
		t.Fatalf("run at once: exit %d\n%s", code, errOut)
	}
	// Three timeouts later, it cannot be: what the platform lacks is sent.
	time.Sleep(3100 * time.Millisecond)
	code, _, errOut = pregon(t, args...)
	if code != 0 || !strings.Contains(errOut, "found_sent=0 absent_sent_again=2 still_unknown=0") {
		t.Fatalf("second run: exit %d\n%s", code, errOut)
	}
	stored := map[string]int{}
	for _, m := range fake.Stored() {
		if m.Traffic == "outgoing" && m.Source == "api" {
			stored[m.Contact]++
		}
	}
	if len(stored) != 30 {
		t.Errorf("the platform holds messages for %d contacts, want 30", len(stored))
	}
	for c, n := range stored {
		if n != 1 {
			t.Errorf("%s got the message %d times", c, n)
		}
	}
	if st := status(t, ledger)[0]; st.Sent != 30 || st.Unknown != 0 {
		t.Errorf("status = %+v", st)
	}
}

// When the platform's list cannot tell, the contact stays unknown: no
// guess, no duplicate.
func TestUnknownStaysWhenThePlatformCannotTell(t *testing.T) {
	t.Setenv(tokenEnv, "t0ken")
	var mu sync.Mutex
	lost := false
	fake := sendertest.NewServer(t, sendertest.Config{
		Respond: func(r *sendertest.Request) (int, string) {
			mu.Lock()
			defer mu.Unlock()
			if r.Contact == "phone:+593991000004" && !lost {
				lost = true
				return -2, ""
			}
			return 0, ""
		},
		RespondRead: func(r *sendertest.Request) (int, string) {
			if strings.Contains(r.Path, "/message/list") {
				return 500, "list unavailable"
			}
			return 0, ""
		}})
	ledger := filepath.Join(t.TempDir(), "l.db")
	args := []string{"send", "-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"),
		"-ledger", ledger, "-base-url", fake.URL, "-rate", "0"}
	pregon(t, args...)
	code, _, errOut := pregon(t, args...)
	if st := status(t, ledger)[0]; code != exitIncomplete || st.Unknown != 1 || !strings.Contains(errOut, "still_unknown=1") {
		t.Errorf("exit %d, status %+v\n%s", code, st, errOut)
	}
	if n := len(fake.Stored()); n != 30 {
		t.Errorf("the platform holds %d messages, want 30", n)
	}
}

// pregon track asks about each sent message until it is final, and status
// shows the funnel the platform reported.
func TestTrackRecordsWhatThePlatformSays(t *testing.T) {
	t.Setenv(tokenEnv, "t0ken")
	fake := sendertest.NewServer(t, sendertest.Config{Delivery: sendertest.Delivery{After: -1, ReadAfter: -1, ReadEvery: 2, FailEvery: 5}})
	ledger := filepath.Join(t.TempDir(), "l.db")
	if code, _, errOut := pregon(t, "send", "-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"),
		"-ledger", ledger, "-base-url", fake.URL, "-rate", "0"); code != 0 {
		t.Fatalf("send: exit %d\n%s", code, errOut)
	}
	if _, html, _ := pregon(t, "report", "-ledger", ledger, "-campaign", "pedido-en-camino"); !strings.Contains(html, "The platform has not been asked yet") || !strings.Contains(html, "pregon track -ledger") || strings.Contains(html, `id="funnel"`) {
		t.Errorf("before tracking, the report does not say how to track, or draws a funnel of zeros")
	}
	before := len(fake.Requests())
	code, out, errOut := pregon(t, "track", "-ledger", ledger, "-campaign", "pedido-en-camino", "-rate", "100")
	if code != 0 {
		t.Fatalf("track: exit %d\n%s%s", code, out, errOut)
	}
	reads := len(fake.Requests()) - before
	if reads != 30 {
		t.Errorf("track made %d requests for 30 messages", reads)
	}
	want := map[string]int{}
	for _, m := range fake.Stored() {
		want[m.Status[len(m.Status)-1].Value]++
	}
	var st []statusJSON
	_, js, _ := pregon(t, "status", "-ledger", ledger, "-json")
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		t.Fatal(err)
	}
	d := st[0].Delivery
	if d.Tracked != 30 || d.Read != want["read"] || d.Delivered != want["read"]+want["delivered"] || d.FailedAfter != want["failed"] || want["failed"] == 0 {
		t.Errorf("delivery = %+v, the platform says %v", d, want)
	}
	// Final ones are not asked again.
	before = len(fake.Requests())
	pregon(t, "track", "-ledger", ledger, "-campaign", "pedido-en-camino", "-rate", "100")
	if again := len(fake.Requests()) - before; again != 0 {
		t.Errorf("a second track asked %d more times about final messages", again)
	}
	_, text, _ := pregon(t, "status", "-ledger", ledger)
	if !strings.Contains(text, fmt.Sprintf("after sending: %d delivered (%d read), %d failed", d.Delivered, d.Read, d.FailedAfter)) {
		t.Errorf("status does not show the funnel:\n%s", text)
	}
	// The report shows the funnel and the platform's reasons.
	code, html, errOut := pregon(t, "report", "-ledger", ledger, "-campaign", "pedido-en-camino")
	if code != 0 {
		t.Fatalf("report: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{`id="funnel"`, fmt.Sprintf(">%d · ", d.Delivered), fmt.Sprintf(">%d · ", d.Read),
		fmt.Sprintf(">%d · ", d.FailedAfter), `id="after-reasons"`} {
		if !strings.Contains(html, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	for reason := range st[0].Delivery.Reasons {
		if !strings.Contains(html, template.HTMLEscapeString(reason)) {
			t.Errorf("the report lacks the reason %q", reason)
		}
	}
	if strings.Contains(html, "pregon track") {
		t.Errorf("the report asks to track a campaign whose every message was tracked")
	}
	// The export lists what happened after sending, and picks by it.
	for outcome, want := range map[string]int{"undelivered": d.FailedAfter, "read": d.Read, "delivered": d.Delivered, "sent": 30} {
		code, csv, errOut := pregon(t, "export", "-ledger", ledger, "-campaign", "pedido-en-camino", "-outcome", outcome)
		lines := strings.Split(strings.TrimSpace(csv), "\n")
		if code != 0 || len(lines)-1 != want || !strings.Contains(lines[0], "pregon_delivery;pregon_delivered_at;pregon_read_at") {
			t.Errorf("export -outcome %s: exit %d, %d rows, want %d\n%s%s", outcome, code, len(lines)-1, want, lines[0], errOut)
		}
		if outcome == "undelivered" && want > 0 && !strings.Contains(csv, "after sending: ") {
			t.Errorf("the undelivered rows do not say why:\n%s", csv)
		}
	}
}

// A read changes nothing on the platform: track asks again after a 429, a
// 5xx or a lost answer, and records every message.
func TestTrackAsksAgainWhenThePlatformIsBusy(t *testing.T) {
	t.Setenv(tokenEnv, "t0ken")
	var mu sync.Mutex
	tries := map[string]int{}
	fake := sendertest.NewServer(t, sendertest.Config{Delivery: sendertest.Delivery{After: -1, ReadAfter: -1},
		RespondRead: func(r *sendertest.Request) (int, string) {
			mu.Lock()
			defer mu.Unlock()
			if tries[r.Path]++; tries[r.Path] == 1 {
				return []int{429, 503, -1}[len(tries)%3], "Busy"
			}
			return 0, ""
		}})
	ledger := filepath.Join(t.TempDir(), "l.db")
	if code, _, errOut := pregon(t, "send", "-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"),
		"-ledger", ledger, "-base-url", fake.URL, "-rate", "0"); code != 0 {
		t.Fatalf("send: exit %d\n%s", code, errOut)
	}
	code, out, errOut := pregon(t, "track", "-ledger", ledger, "-campaign", "pedido-en-camino", "-rate", "1000")
	if code != 0 {
		t.Fatalf("track: exit %d\n%s%s", code, out, errOut)
	}
	if d := status(t, ledger)[0].Delivery; d.Tracked != 30 || d.Delivered+d.FailedAfter != 30 {
		t.Errorf("delivery = %+v, want 30 tracked, each delivered or failed", d)
	}
}

// Tracking beside a send shares the organization's limit with it: together
// they never put more than 25 requests into a second, and draw no 429.
func TestTrackBesideASendSharesTheLimit(t *testing.T) {
	t.Setenv(tokenEnv, "t0ken")
	dir := t.TempDir()
	fake := sendertest.NewServer(t, sendertest.Config{PerSecond: 25, Window: sendertest.Sliding,
		Latency: 50 * time.Millisecond, Jitter: 0.2, Delivery: sendertest.Delivery{After: time.Hour}})
	tracked := filepath.Join(dir, "tracked.db")
	if code, _, errOut := pregon(t, "send", "-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"),
		"-ledger", tracked, "-base-url", fake.URL); code != 0 {
		t.Fatalf("send: exit %d\n%s", code, errOut)
	}
	var rows strings.Builder
	rows.WriteString("phone,nombre,pedido,foto\n")
	for i := range 60 {
		fmt.Fprintf(&rows, "+59399200%04d,Cliente %d,PED-%d,https://cdn.example-brand.com/p/%d.jpg\n", i, i, i, i)
	}
	csv := writeTemp(t, dir, "otros.csv", rows.String())
	camp := writeTemp(t, dir, "otros.json", strings.Replace(string(mustRead(t, sample("pedido-en-camino.json"))),
		`"name": "pedido-en-camino"`, `"name": "otros"`, 1))
	time.Sleep(time.Second) // the first send's last second leaves the window
	before := len(fake.Requests())
	var wg sync.WaitGroup
	var sendCode, trackCode int
	var sendErr, trackErr string
	wg.Go(func() {
		sendCode, _, sendErr = pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", filepath.Join(dir, "otros.db"), "-base-url", fake.URL)
	})
	wg.Go(func() {
		time.Sleep(300 * time.Millisecond) // the send is under way
		trackCode, _, trackErr = pregon(t, "track", "-ledger", tracked, "-campaign", "pedido-en-camino")
	})
	wg.Wait()
	if sendCode != 0 || trackCode != 0 {
		t.Fatalf("send exit %d, track exit %d\n%s\n%s", sendCode, trackCode, sendErr, trackErr)
	}
	reqs := fake.Requests()[before:]
	refused, reads := 0, 0
	var firstRead, lastSend time.Time
	for _, r := range reqs {
		if r.Status == 429 {
			refused++
		}
		switch {
		case r.Method == "GET" && strings.Contains(r.Contact, "+593991"): // the tracked campaign's, not a send's probe
			reads++
			if firstRead.IsZero() {
				firstRead = r.At
			}
		case r.Method == "POST":
			lastSend = r.At
		}
	}
	if !firstRead.Before(lastSend) {
		t.Errorf("the track did not run beside the send: first read %v, last send %v", firstRead, lastSend)
	}
	if busiest := sendertest.MaxInWindow(reqs, time.Second); busiest > 25 || refused > 0 || reads < 30 {
		t.Errorf("together: %d requests in the busiest second, %d × 429, %d reads (want ≤ 25, 0, ≥ 30)", busiest, refused, reads)
	}
	if d := status(t, tracked)[0].Delivery; d.Tracked != 30 {
		t.Errorf("tracked %d of 30", d.Tracked)
	}
}

// A contact left unknown by a request to an address the campaign has left
// (send -allow-changed) cannot be proved absent by the new address: the
// message may sit where the request went. It stays unknown, never sent
// again by reconciliation.
func TestUnknownFromAnOldAddressIsNotProvedAbsentByTheNew(t *testing.T) {
	t.Setenv(tokenEnv, "t0ken")
	var mu sync.Mutex
	cut := map[string]bool{}
	old := sendertest.NewServer(t, sendertest.Config{Respond: func(r *sendertest.Request) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if cut[r.Contact] {
			return 0, ""
		}
		switch r.Contact {
		case "phone:+593991000003":
			cut[r.Contact] = true
			return -2, "" // taken, then the answer is lost
		case "phone:+593991000005":
			cut[r.Contact] = true
			return -1, "" // lost before the platform took it
		}
		return 0, ""
	}})
	moved := sendertest.NewServer(t, sendertest.Config{})
	ledger := filepath.Join(t.TempDir(), "l.db")
	args := []string{"send", "-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"),
		"-ledger", ledger, "-rate", "0", "-timeout", "1s"}
	code, _, errOut := pregon(t, append(args, "-base-url", old.URL)...)
	if st := status(t, ledger)[0]; code != exitIncomplete || st.Unknown != 2 {
		t.Fatalf("first run: exit %d, %d unknown\n%s", code, st.Unknown, errOut)
	}
	time.Sleep(3100 * time.Millisecond) // long enough for the old address to have proved them absent
	code, _, errOut = pregon(t, append(args, "-base-url", moved.URL, "-allow-changed")...)
	if code != exitIncomplete || !strings.Contains(errOut, "still_unknown=2") {
		t.Fatalf("run at the new address: exit %d\n%s", code, errOut)
	}
	if n := len(moved.Messages()); n != 0 {
		t.Errorf("the new address got %d messages; want none (28 were sent at the old one, 2 are in doubt)", n)
	}
	if st := status(t, ledger)[0]; st.Unknown != 2 || st.Sent != 28 {
		t.Errorf("status = %+v", st)
	}
	_, rows, _ := pregon(t, "export", "-ledger", ledger, "-campaign", "pedido-en-camino", "-outcome", "unknown")
	if n := strings.Count(rows, "its request went to "+old.URL+" before the campaign moved"); n != 2 {
		t.Errorf("the export says why for %d of the 2 unknown contacts:\n%s", n, rows)
	}
	// Back at the old address, the one it took is found; the ledger does
	// not say which address the other's request went to, so it stays.
	code, _, errOut = pregon(t, append(args, "-base-url", old.URL, "-allow-changed")...)
	if code != exitIncomplete || !strings.Contains(errOut, "found_sent=1 absent_sent_again=0 still_unknown=1") {
		t.Errorf("back at the old address: exit %d\n%s", code, errOut)
	}
}

// A rehearsal in the built-in sandbox has nothing to track: its report
// says so, and never suggests pregon track, which would refuse it.
func TestSandboxReportDoesNotSuggestTracking(t *testing.T) {
	ledger := filepath.Join(t.TempDir(), "ensayo.db")
	if code, _, errOut := pregon(t, "send", "-sandbox", "-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"),
		"-ledger", ledger, "-rate", "0"); code != 0 {
		t.Fatalf("send: exit %d\n%s", code, errOut)
	}
	_, html, _ := pregon(t, "report", "-ledger", ledger, "-campaign", "pedido-en-camino")
	if !strings.Contains(html, "built-in sandbox, which forgets its messages") || strings.Contains(html, "pregon track") {
		t.Errorf("the sandbox's report does not say there is nothing to track, or suggests track")
	}
}
