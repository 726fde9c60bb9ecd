package sender_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/sender"
	"github.com/pregon/pregon/sender/sendertest"
	"github.com/pregon/pregon/store"
)

// fixture is a real ledger holding n pending contacts.
type fixture struct {
	ledger *store.Ledger
	id     store.CampaignID
	gen    int64
	path   string
}

func newFixture(t testing.TB, n int, opts ...store.Option) *fixture {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pregon.db")
	l, err := store.Open(ctx, path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	id, err := l.Register(ctx, "test", "fp", store.Destination{API: "v2", Sandbox: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	im, err := l.Import(ctx, id, "test.csv", []string{"id"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		contact := fmt.Sprintf("id:%d", i+1)
		m := campaign.Message{Line: i + 2, Contact: contact, Path: "/v2/contact/" + contact + "/message",
			Payload: fmt.Appendf(nil, `{"message":{"type":"text","text":"hola %d"}}`, i+1)}
		if err := im.Add(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := im.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	return &fixture{ledger: l, id: id, gen: im.Generation(), path: path}
}

func (f *fixture) queue() *store.Queue { return f.ledger.Queue(f.id, f.gen, store.Eligible{}) }

func (f *fixture) counts(t *testing.T) map[campaign.State]int {
	t.Helper()
	sums, err := f.ledger.Summaries(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	return sums[0].Counts
}

func newSender(t *testing.T, url, token string, perSecond float64, opts sender.Options) *sender.Sender {
	t.Helper()
	c, err := sender.NewClient(url, token, 64, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Backoff == 0 {
		opts.Backoff = 20 * time.Millisecond
	}
	return sender.New(c, sender.NewPacer(perSecond, sender.PacerOptions{}), opts)
}

func TestEveryContactOnceWithinRate(t *testing.T) {
	f := newFixture(t, 60)
	fake := sendertest.NewServer(t, sendertest.Config{Token: "secret", Latency: 40 * time.Millisecond, Jitter: 0.9})
	s := newSender(t, fake.URL, "secret", 25, sender.Options{})
	if err := s.Run(context.Background(), f.queue()); err != nil {
		t.Fatal(err)
	}
	byContact := fake.ByContact()
	if len(byContact) != 60 {
		t.Errorf("fake accepted messages for %d contacts, want 60", len(byContact))
	}
	for c, n := range byContact {
		if n != 1 {
			t.Errorf("%s got %d messages", c, n)
		}
	}
	if got := fake.MaxInWindow(time.Second); got > 25 {
		t.Errorf("the fake saw %d requests within one second, limit 25", got)
	}
	if got := f.counts(t); got[campaign.Sent] != 60 || got[campaign.Sending] != 0 {
		t.Errorf("counts = %v", got)
	}
	cs, _ := f.ledger.Contacts(context.Background(), f.id)
	for _, c := range cs {
		if c.MessageID == "" || c.HTTPStatus != 200 || c.Attempts != 1 || c.SentAt.IsZero() {
			t.Errorf("contact %s recorded as %+v", c.Contact, c)
		}
	}
}

// A pacer alone, with no latency at all and many goroutines pushing: the
// window limit must still hold at the server.
func TestWindowHoldsUnderPressure(t *testing.T) {
	f := newFixture(t, 80)
	fake := sendertest.NewServer(t, sendertest.Config{})
	s := newSender(t, fake.URL, "t", 40, sender.Options{Concurrency: 80})
	if err := s.Run(context.Background(), f.queue()); err != nil {
		t.Fatal(err)
	}
	if got := fake.MaxInWindow(time.Second); got > 40 {
		t.Errorf("the fake saw %d requests within one second, limit 40", got)
	}
	if got := len(fake.Requests()); got != 80 {
		t.Errorf("requests = %d, want 80", got)
	}
}

func TestRejectedTokenStopsWithNothingFailed(t *testing.T) {
	f := newFixture(t, 40)
	fake := sendertest.NewServer(t, sendertest.Config{Token: "right"})
	s := newSender(t, fake.URL, "wrong", 25, sender.Options{Concurrency: 4})
	err := s.Run(context.Background(), f.queue())
	var rej *sender.StopError
	if !errors.As(err, &rej) || rej.Status != 401 || rej.Problem != sender.TokenRejected {
		t.Fatalf("err = %v, want a 401 rejection", err)
	}
	got := f.counts(t)
	if got[campaign.Failed] != 0 || got[campaign.Unknown] != 0 || got[campaign.Sending] != 0 || got[campaign.Pending] != 40 {
		t.Errorf("counts = %v, want all 40 pending", got)
	}
	if n := len(fake.Requests()); n > 4 {
		t.Errorf("%d requests after the token was rejected, want at most the 4 in flight", n)
	}
}

func TestRetriesWhatWasNotDelivered(t *testing.T) {
	f := newFixture(t, 10)
	var mu sync.Mutex
	seen := map[string]int{}
	fake := sendertest.NewServer(t, sendertest.Config{Respond: func(r *sendertest.Request) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		seen[r.Contact]++
		if seen[r.Contact] == 1 {
			return 503, "busy"
		}
		return 0, ""
	}})
	s := newSender(t, fake.URL, "t", 100, sender.Options{})
	if err := s.Run(context.Background(), f.queue()); err != nil {
		t.Fatal(err)
	}
	for c, n := range fake.ByContact() {
		if n != 1 {
			t.Errorf("%s accepted %d times", c, n)
		}
	}
	if got := f.counts(t); got[campaign.Sent] != 10 {
		t.Errorf("counts = %v", got)
	}
	cs, _ := f.ledger.Contacts(context.Background(), f.id)
	for _, c := range cs {
		if c.Attempts != 2 {
			t.Errorf("%s attempts = %d, want 2", c.Contact, c.Attempts)
		}
	}
}

func TestRetryBudget(t *testing.T) {
	f := newFixture(t, 3)
	fake := sendertest.NewServer(t, sendertest.Config{Respond: func(*sendertest.Request) (int, string) { return 503, "" }})
	s := newSender(t, fake.URL, "t", 100, sender.Options{MaxAttempts: 3})
	if err := s.Run(context.Background(), f.queue()); err != nil {
		t.Fatal(err)
	}
	if got := len(fake.Requests()); got != 9 {
		t.Errorf("requests = %d, want 3 per contact", got)
	}
	cs, _ := f.ledger.Contacts(context.Background(), f.id)
	for _, c := range cs {
		last := campaign.Reason{Code: campaign.TryLater, Args: []any{503, "Service Unavailable"}}
		if want := (campaign.Reason{Code: campaign.GaveUp, Args: []any{3}, Cause: &last}); c.State != campaign.Failed || !reflect.DeepEqual(c.Reason, want) {
			t.Errorf("%s: %s %+v", c.Contact, c.State, c.Reason)
		}
	}
	// Not refused by the platform: a plain re-run tries again.
	if n, _ := f.queue().Remaining(context.Background()); n != 3 {
		t.Errorf("eligible on re-run = %d, want 3", n)
	}
}

func TestOutcomesMatchWhatThePlatformDid(t *testing.T) {
	f := newFixture(t, 12)
	var mu sync.Mutex
	busy := map[string]bool{}
	fake := sendertest.NewServer(t, sendertest.Config{Respond: func(r *sendertest.Request) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		switch r.Contact {
		case "id:6", "id:7": // busy the first time, then fine
			if !busy[r.Contact] {
				busy[r.Contact] = true
				return 503, "try later"
			}
		case "id:2":
			return 403, "Contact has opted out"
		case "id:3":
			return 404, "Contact not found"
		case "id:4":
			return -1, "" // cut after reading the request
		case "id:5":
			return 500, ""
		}
		return 0, ""
	}})
	s := newSender(t, fake.URL, "t", 100, sender.Options{})
	if err := s.Run(context.Background(), f.queue()); err != nil {
		t.Fatal(err)
	}
	cs, _ := f.ledger.Contacts(context.Background(), f.id)
	accepted := fake.ByContact()
	for _, c := range cs {
		want := campaign.Sent
		switch c.Contact {
		case "id:2", "id:3":
			want = campaign.Failed
		case "id:4", "id:5":
			want = campaign.Unknown
		}
		if c.State != want {
			t.Errorf("%s: %s (%s), want %s", c.Contact, c.State, c.Error, want)
		}
		if (c.State == campaign.Sent) != (accepted[c.Contact] == 1) {
			t.Errorf("%s: ledger says %s, fake accepted %d", c.Contact, c.State, accepted[c.Contact])
		}
	}
	// The unknown ones were not retried.
	n := 0
	for _, r := range fake.Requests() {
		if r.Contact == "id:4" || r.Contact == "id:5" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("requests for the unknown contacts = %d, want 2", n)
	}
}

func TestStopLetsInFlightFinish(t *testing.T) {
	f := newFixture(t, 200)
	fake := sendertest.NewServer(t, sendertest.Config{Latency: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	s := newSender(t, fake.URL, "t", 50, sender.Options{
		OnOutcome: func(campaign.Job, campaign.Outcome) {},
	})
	time.AfterFunc(500*time.Millisecond, cancel)
	err := s.Run(ctx, f.queue())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	got := f.counts(t)
	if got[campaign.Sending] != 0 || got[campaign.Unknown] != 0 {
		t.Errorf("counts after stop = %v: nothing may be left in flight", got)
	}
	if got[campaign.Sent] != len(fake.Requests()) || got[campaign.Sent] == 0 || got[campaign.Pending] != 200-got[campaign.Sent] {
		t.Errorf("counts = %v, fake received %d", got, len(fake.Requests()))
	}
}

func TestSlowsDownForAStricterPlatform(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 15 seconds")
	}
	for _, tt := range []struct {
		name    string
		headers bool
		max429  int64
	}{
		{"with X-RateLimit-Limit", true, 2},
		{"with only 429 and Retry-After", false, 15},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 150)
			fake := sendertest.NewServer(t, sendertest.Config{PerSecond: 20, NoRateHeaders: !tt.headers})
			s := newSender(t, fake.URL, "t", 25, sender.Options{MaxAttempts: 10})
			if err := s.Run(context.Background(), f.queue()); err != nil {
				t.Fatal(err)
			}
			for c, n := range fake.ByContact() {
				if n != 1 {
					t.Errorf("%s accepted %d times", c, n)
				}
			}
			if got := f.counts(t); got[campaign.Sent] != 150 {
				t.Errorf("counts = %v", got)
			}
			st := s.Stats()
			t.Logf("429s: %d of %d requests, %.1f requests/s", st.RateLimited, st.Requests, float64(st.Requests-1)/st.Last.Sub(st.First).Seconds())
			if st.RateLimited > tt.max429 {
				t.Errorf("%d answers were 429, want at most %d: the sender did not slow down", st.RateLimited, tt.max429)
			}
		})
	}
}

// When the ledger cannot be written (here: another program holds the
// file's write lock), the run stops, and no request is made whose attempt
// is not on record.
func TestUnwritableLedgerStopsSending(t *testing.T) {
	f := newFixture(t, 60, store.WithBusyTimeout(100*time.Millisecond))
	// The other program: a plain SQLite connection holding a write
	// transaction open, as a backup tool or a stuck process would.
	other, err := sql.Open("sqlite3", "file:"+f.path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var lockOnce sync.Once
	var held *sql.Tx
	fake := sendertest.NewServer(t, sendertest.Config{Respond: func(r *sendertest.Request) (int, string) {
		if strings.HasSuffix(r.Contact, ":10") {
			lockOnce.Do(func() {
				tx, err := other.Begin()
				if err == nil {
					_, err = tx.Exec("UPDATE campaigns SET updated_at = updated_at")
				}
				if err != nil {
					t.Errorf("lock the ledger: %v", err)
				}
				held = tx
			})
		}
		return 0, ""
	}})
	s := newSender(t, fake.URL, "t", 200, sender.Options{Concurrency: 4})
	err = s.Run(context.Background(), f.queue())
	var le *sender.LedgerError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want a ledger error", err)
	}
	if held != nil {
		held.Rollback()
	}
	reqs := fake.Requests()
	if len(reqs) >= 60 {
		t.Fatalf("all %d contacts were sent to although the ledger was locked", len(reqs))
	}
	cs, err := f.ledger.Contacts(context.Background(), f.id)
	if err != nil {
		t.Fatal(err)
	}
	attempted := map[string]bool{}
	for _, c := range cs {
		if c.Attempts > 0 {
			attempted[c.Contact] = true
		}
	}
	for _, r := range reqs {
		if !attempted[r.Contact] {
			t.Errorf("request for %s was made without its attempt on record", r.Contact)
		}
	}
	t.Logf("%d requests before the stop, all with their attempt recorded", len(reqs))
}

// BenchmarkPipelineCeiling sends b.N messages with no rate limit to a fake
// that answers at once, over real HTTP, recording every attempt and
// outcome in a real ledger: what pregon itself can do, whatever the API.
func BenchmarkPipelineCeiling(b *testing.B) {
	f := newFixture(b, b.N)
	fake := sendertest.New(sendertest.Config{})
	defer fake.Close()
	c, err := sender.NewClient(fake.URL, "t", 64, 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	s := sender.New(c, sender.NewPacer(0, sender.PacerOptions{}), sender.Options{Concurrency: 64})
	b.ResetTimer()
	if err := s.Run(context.Background(), f.queue()); err != nil {
		b.Fatal(err)
	}
	if got := len(fake.Requests()); got != b.N {
		b.Fatalf("requests = %d, want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// A request that times out while it waits for its slot never leaves, so it
// must never be recorded unknown: at a fractional rate with a short timeout
// most requests wait longer than their timeout allows.
func TestRequestsCancelledAtTheGateAreNotUnknown(t *testing.T) {
	f := newFixture(t, 12)
	fake := sendertest.NewServer(t, sendertest.Config{Latency: 20 * time.Millisecond})
	c, err := sender.NewClient(fake.URL, "t", 64, 700*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	s := sender.New(c, sender.NewPacer(2.5, sender.PacerOptions{}), sender.Options{Concurrency: 12, MaxAttempts: 2, Backoff: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	s.Run(ctx, f.queue())
	received := map[string]bool{}
	for _, r := range fake.Requests() {
		received[r.Contact] = true
	}
	cs, _ := f.ledger.Contacts(context.Background(), f.id)
	pending := 0
	for _, c := range cs {
		switch c.State {
		case campaign.Unknown:
			if !received[c.Contact] {
				t.Errorf("%s is unknown but its request never reached the platform: %s", c.Contact, c.Error)
			}
		case campaign.Sent:
			if !received[c.Contact] {
				t.Errorf("%s is sent but the platform never saw it", c.Contact)
			}
		case campaign.Pending:
			pending++
		}
	}
	if pending == 0 {
		t.Errorf("no request timed out at the gate: the test proves nothing (%d received)", len(fake.Requests()))
	}
	if n := fake.MaxInWindow(time.Second); n > 2 {
		t.Errorf("%d requests in one second at 2.5/s", n)
	}
}

// A base URL where nothing listens stops the run after a few requests;
// every contact stays pending (none failed), so fixing the address and
// running again sends everyone once.
func TestUnreachablePlatformStopsWithNothingFailed(t *testing.T) {
	for _, tc := range []struct {
		name, base string
	}{
		{"refused", closedPort(t)},
		{"no such host", "http://pregon-test.invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 30)
			s := newSender(t, tc.base, "t", 25, sender.Options{Concurrency: 8})
			start := time.Now()
			err := s.Run(context.Background(), f.queue())
			var stop *sender.StopError
			if !errors.As(err, &stop) || stop.Problem != sender.Unreachable {
				t.Fatalf("err = %v, want the platform unreachable", err)
			}
			if el := time.Since(start); el > 20*time.Second {
				t.Errorf("took %s to give up", el)
			}
			got := f.counts(t)
			if got[campaign.Pending] != 30 {
				t.Errorf("counts = %v, want all 30 pending", got)
			}
			if !strings.Contains(err.Error(), tc.base) {
				t.Errorf("the message should name the address: %v", err)
			}
		})
	}
}

func closedPort(t *testing.T) string {
	t.Helper()
	srv := sendertest.New(sendertest.Config{})
	u := srv.URL
	srv.Close()
	return u
}

// A platform asking to wait a day is waited a bounded time, and told.
func TestLongRetryAfterIsCapped(t *testing.T) {
	f := newFixture(t, 2)
	var mu sync.Mutex
	first := true
	fake := sendertest.NewServer(t, sendertest.Config{Respond: func(r *sendertest.Request) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if first {
			first = false
			return 429, "slow down"
		}
		return 0, ""
	}})
	// sendertest's 429 asks for 1 s; a platform may ask for a day. Wrap
	// the fake to ask for one.
	proxy := httptestProxy(t, fake.URL, func(h http.Header) {
		if h.Get("Retry-After") != "" {
			h.Set("Retry-After", "86400")
		}
	})
	var asked time.Duration
	c, err := sender.NewClient(proxy, "t", 8, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	pacer := sender.NewPacer(25, sender.PacerOptions{MaxPause: 300 * time.Millisecond, OnLongPause: func(d time.Duration) { asked = d }})
	s := sender.New(c, pacer, sender.Options{MaxPause: 300 * time.Millisecond, Backoff: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Run(ctx, f.queue()); err != nil {
		t.Fatal(err)
	}
	if got := f.counts(t); got[campaign.Sent] != 2 {
		t.Errorf("counts = %v", got)
	}
	if asked != 24*time.Hour {
		t.Errorf("OnLongPause got %s, want 24h", asked)
	}
}

// httptestProxy serves base through a reverse proxy that edits each
// answer's headers.
func httptestProxy(t *testing.T, base string, edit func(http.Header)) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(r *http.Response) error { edit(r.Header); return nil }
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}

// The sandbox marks its answers with the header the sender looks for.
func TestSandboxHeaderIsTheSendersHeader(t *testing.T) {
	if sendertest.SandboxHeader != sender.SandboxHeader {
		t.Errorf("sendertest marks answers with %q, the sender looks for %q", sendertest.SandboxHeader, sender.SandboxHeader)
	}
}

// Against a platform that tells its quota on every answer, in either kind
// of window, the pacer holds the window at whole and fractional rates and
// draws no 429: Remaining 0 on a success is no reason to pause, and no
// reason to send more either.
func TestWindowHoldsWithQuotaHeadersEverywhere(t *testing.T) {
	for _, window := range []sendertest.Window{sendertest.Sliding, sendertest.Fixed} {
		for _, perSecond := range []float64{25, 7.5} {
			t.Run(fmt.Sprintf("%v/%g", window, perSecond), func(t *testing.T) {
				f := newFixture(t, 40)
				fake := sendertest.NewServer(t, sendertest.Config{PerSecond: 25, Window: window, Latency: 60 * time.Millisecond, Jitter: 0.3})
				s := newSender(t, fake.URL, "t", perSecond, sender.Options{})
				if err := s.Run(context.Background(), f.queue()); err != nil {
					t.Fatal(err)
				}
				if n, max := fake.MaxInWindow(time.Second), int(perSecond); n > max {
					t.Errorf("%d requests in one second at %g/s", n, perSecond)
				}
				if got := f.counts(t); got[campaign.Sent] != 40 {
					t.Errorf("counts = %v", got)
				}
				for _, r := range fake.Requests() {
					if r.Status == 429 {
						t.Errorf("a 429 at %s", r.At.Format("15:04:05.000"))
					}
				}
			})
		}
	}
}

// Another integration spending part of the organization's quota shows in
// Remaining: the pacer leaves it that share, so 429s stay rare, and every
// contact still gets its message once.
func TestLeavesOthersTheirShareOfTheQuota(t *testing.T) {
	f := newFixture(t, 60)
	fake := sendertest.NewServer(t, sendertest.Config{PerSecond: 25, Background: 10, Latency: 60 * time.Millisecond})
	c, err := sender.NewClient(fake.URL, "t", 64, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	pacer := sender.NewPacer(25, sender.PacerOptions{})
	s := sender.New(c, pacer, sender.Options{Backoff: 20 * time.Millisecond})
	if err := s.Run(context.Background(), f.queue()); err != nil {
		t.Fatal(err)
	}
	if got := f.counts(t); got[campaign.Sent] != 60 {
		t.Errorf("counts = %v", got)
	}
	limited := 0
	for _, r := range fake.Requests() {
		if r.Status == 429 {
			limited++
		}
	}
	// Before the first answers tell what others spend, a few may meet the
	// limit; after that, none should.
	if limited > 6 {
		t.Errorf("%d × 429 for 60 messages beside another integration at 10/s", limited)
	}
	if r := pacer.Rate(); r > 17 {
		t.Errorf("the pace is %.1f/s, though others spend 10 of the 25", r)
	}
}

// OnDrained comes once, when every contact's request has been written,
// retries included or not, and never on a run that was stopped.
func TestOnDrained(t *testing.T) {
	f := newFixture(t, 20)
	var mu sync.Mutex
	first := map[string]bool{}
	fake := sendertest.NewServer(t, sendertest.Config{Respond: func(r *sendertest.Request) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if r.Contact == "id:20" && !first[r.Contact] {
			first[r.Contact] = true
			return 503, "busy" // a retry after drained
		}
		return 0, ""
	}})
	var calls atomic.Int32
	var sentAtDrain int
	s := newSender(t, fake.URL, "t", 100, sender.Options{OnDrained: func() {
		calls.Add(1)
		sentAtDrain = len(fake.Messages())
	}})
	if err := s.Run(context.Background(), f.queue()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 || sentAtDrain < 20 {
		t.Errorf("OnDrained called %d times, with %d messages written", calls.Load(), sentAtDrain)
	}

	f = newFixture(t, 200)
	calls.Store(0)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	s = newSender(t, fake.URL, "t", 25, sender.Options{OnDrained: func() { calls.Add(1) }})
	s.Run(ctx, f.queue())
	if calls.Load() != 0 {
		t.Error("OnDrained on a run stopped with contacts left")
	}
}
