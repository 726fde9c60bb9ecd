package sendertest

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// answer is what a client saw of one request (its contact is unique).
type answer struct {
	status           int
	limit, remaining string // "" when the header is absent
	close            bool
}

// collector posts to a fake and keeps what each contact's request got.
type collector struct {
	t      *testing.T
	url    string
	client *http.Client

	mu  sync.Mutex
	got map[string]answer
}

func newCollector(t *testing.T, url string) *collector {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &collector{t: t, url: url, client: &http.Client{Transport: tr}, got: map[string]answer{}}
}

// post sends one v2 message to contact and records the answer; wrote, if
// not nil, is called once the request has left (its bytes reached the
// kernel, so the fake's arrival stamp is no later). Safe from any
// goroutine.
func (c *collector) post(contact string, wrote func()) {
	ctx := context.Background()
	if wrote != nil {
		var once sync.Once
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { once.Do(wrote) },
		})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/v2/contact/"+contact+"/message", strings.NewReader(`{}`))
	if err != nil {
		c.t.Error(err)
		return
	}
	req.Header.Set("Authorization", "Bearer t")
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Errorf("%s: %v", contact, err)
		return
	}
	io.Copy(io.Discard, resp.Body) // read to the end, so the connection is kept
	resp.Body.Close()
	a := answer{status: resp.StatusCode, limit: resp.Header.Get("X-RateLimit-Limit"), close: resp.Close}
	if v := resp.Header.Values("X-RateLimit-Remaining"); len(v) > 0 {
		a.remaining = v[0]
	}
	c.mu.Lock()
	c.got[contact] = a
	c.mu.Unlock()
}

func (c *collector) answers() map[string]answer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.got)
}

// paced sends n requests from one goroutine per request, one every
// spacing, never letting more than perWindow of them leave within a
// second: request i waits until one second and a millisecond after
// request i-perWindow was written, should the ticker have bunched them.
// It returns once every answer is in.
func (c *collector) paced(prefix string, n int, spacing time.Duration, perWindow int) {
	wrote := make([]time.Time, n)
	left := make([]chan struct{}, n)
	for i := range left {
		left[i] = make(chan struct{})
	}
	tick := time.NewTicker(spacing)
	defer tick.Stop()
	var wg sync.WaitGroup
	for i := range n {
		if i > 0 {
			<-tick.C
		}
		if j := i - perWindow; j >= 0 {
			<-left[j]
			time.Sleep(time.Until(wrote[j].Add(time.Second + time.Millisecond)))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.post(fmt.Sprintf("%s%d", prefix, i), func() {
				wrote[i] = time.Now()
				close(left[i])
			})
		}()
	}
	wg.Wait()
}

// event is an arrival the fake counted or refused: a request (by its
// contact) or, with an empty contact, one of the background's.
type event struct {
	at      time.Time
	contact string
}

// want recomputes, from the arrival stamps alone, what the fake's window
// should have answered each request: the status class (429 or not) and
// X-RateLimit-Remaining, deciding arrivals one by one in stamp order.
func want(reqs []Request, background []time.Time, limit int, w Window) map[string]answer {
	var evs []event
	for _, r := range reqs {
		evs = append(evs, event{r.At.Round(0), r.Contact})
	}
	for _, t := range background {
		evs = append(evs, event{t, ""})
	}
	slices.SortStableFunc(evs, func(a, b event) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.contact, b.contact) // the background first
	})
	var counted []time.Time
	out := map[string]answer{}
	for _, e := range evs {
		n := 0
		for _, t := range counted {
			same := e.at.Sub(t) < time.Second
			if w == Fixed {
				same = t.Truncate(time.Second).Equal(e.at.Truncate(time.Second))
			}
			if same {
				n++
			}
		}
		a := answer{status: http.StatusTooManyRequests, remaining: "0"}
		if n < limit {
			a = answer{status: http.StatusOK, remaining: strconv.Itoa(limit - n - 1)}
			counted = append(counted, e.at)
		}
		if e.contact != "" {
			out[e.contact] = a
		}
	}
	return out
}

// backgroundTimes are the background's arrivals up to now, as the fake
// spaced them.
func backgroundTimes(s *Server) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.limit
	var out []time.Time
	for k := int64(1); k <= int64(l.backgroundSent(time.Now())); k++ {
		out = append(out, l.bgStart.Add(time.Duration(k)*l.bgStep))
	}
	return out
}

// checkQuota compares every answer with what the window says it should
// have been, and returns the answers in arrival order.
func checkQuota(t *testing.T, s *Server, got map[string]answer, limit int, w Window, background []time.Time) []answer {
	t.Helper()
	reqs := s.Requests()
	wants := want(reqs, background, limit, w)
	var ordered []answer
	for _, r := range reqs {
		g, ok := got[r.Contact]
		if !ok {
			t.Errorf("%s: no answer", r.Contact)
			continue
		}
		ordered = append(ordered, g)
		wnt := wants[r.Contact]
		if g.status != wnt.status || g.remaining != wnt.remaining || g.limit != strconv.Itoa(limit) {
			t.Errorf("%s arrived %s: %d, Limit %q, Remaining %q; its window says %d, Limit %d, Remaining %s",
				r.Contact, r.At.Format("05.000000"), g.status, g.limit, g.remaining, wnt.status, limit, wnt.remaining)
		}
	}
	if len(reqs) != len(got) {
		t.Errorf("the fake recorded %d requests, the client got %d answers", len(reqs), len(got))
	}
	return ordered
}

// Every answer of the API carries the quota, whatever its status; a web
// server's page does not. Without a limit there is none but a 429's
// Remaining: 0, and NoRateHeaders keeps only that.
func TestQuotaHeadersOnEveryAnswer(t *testing.T) {
	respond := func(r *Request) (int, string) {
		switch r.Contact {
		case "phone:+593990000403":
			return http.StatusForbidden, "Contact is blocked"
		case "phone:+593990000404":
			return http.StatusNotFound, "Contact not found"
		case "phone:+593990000429":
			return http.StatusTooManyRequests, "Too many requests"
		}
		return 0, ""
	}
	cases := []struct {
		name, method, path, token, body string
		status                          int
	}{
		{"v2 success", "POST", "/v2/contact/phone:+593990000001/message", "t", `{}`, 200},
		{"v1 success", "POST", "/v1/message/sendContent/3001", "t", `{}`, 200},
		{"bad token", "POST", "/v2/contact/phone:+593990000002/message", "x", `{}`, 401},
		{"bad body", "POST", "/v2/contact/phone:+593990000003/message", "t", `{`, 400},
		{"wrong method", "GET", "/v1/message/sendContent/3002", "t", ``, 405},
		{"refused", "POST", "/v2/contact/phone:+593990000403/message", "t", `{}`, 403},
		{"no such contact", "POST", "/v2/contact/phone:+593990000404/message", "t", `{}`, 404},
		{"told 429", "POST", "/v2/contact/phone:+593990000429/message", "t", `{}`, 429},
		{"web server's 404", "POST", "/v3/contact/phone:+593990000004/message", "t", `{}`, 404},
	}
	for _, tt := range []struct {
		name      string
		cfg       Config
		limit     bool // X-RateLimit-Limit on the API's answers
		remaining bool // X-RateLimit-Remaining on the API's answers but 429s
	}{
		{"limit", Config{PerSecond: 25}, true, true},
		{"limit without headers", Config{PerSecond: 25, NoRateHeaders: true}, false, false},
		{"no limit", Config{}, false, false},
	} {
		cfg := tt.cfg
		cfg.Token, cfg.Respond = "t", respond
		s := NewServer(t, cfg)
		for i, c := range cases {
			resp, _ := send(t, c.method, s.URL+c.path, c.token, c.body)
			if resp.StatusCode != c.status {
				t.Fatalf("%s, %s: status %d, want %d", tt.name, c.name, resp.StatusCode, c.status)
			}
			api := i < len(cases)-1
			wantLimit, wantRemaining := "", ""
			if api && tt.limit {
				wantLimit = "25"
			}
			switch {
			case c.status == 429:
				wantRemaining = "0"
			case api && tt.remaining:
				// Each request counts, whatever its answer.
				reqs := s.Requests()
				n := 0
				for _, r := range reqs {
					if reqs[i].At.Sub(r.At) < time.Second {
						n++
					}
				}
				wantRemaining = strconv.Itoa(25 - n)
			}
			if got := resp.Header.Get("X-RateLimit-Limit"); got != wantLimit {
				t.Errorf("%s, %s: X-RateLimit-Limit %q, want %q", tt.name, c.name, got, wantLimit)
			}
			if got := resp.Header.Get("X-RateLimit-Remaining"); got != wantRemaining {
				t.Errorf("%s, %s: X-RateLimit-Remaining %q, want %q", tt.name, c.name, got, wantRemaining)
			}
			if got, want := resp.Header.Get("Retry-After"), map[bool]string{true: "1"}[c.status == 429]; got != want {
				t.Errorf("%s, %s: Retry-After %q, want %q", tt.name, c.name, got, want)
			}
		}
	}

	// The limit's own 429s carry the quota too.
	s := NewServer(t, Config{PerSecond: 2})
	c := newCollector(t, s.URL)
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() { c.post(fmt.Sprintf("id:%d", i), nil) })
	}
	wg.Wait()
	refused := 0
	for _, a := range checkQuota(t, s, c.answers(), 2, Sliding, nil) {
		if a.status == 429 {
			refused++
		}
	}
	if refused == 0 {
		t.Error("6 requests at once against a limit of 2: no 429")
	}
}

// Remaining counts down as a window fills, a full window refuses, and the
// next window starts again from the top, for both kinds of window: each
// answer is what the window holding its arrival stamp says.
func TestRemainingCountsDownAndRecovers(t *testing.T) {
	t.Parallel()
	for _, w := range []Window{Sliding, Fixed} {
		t.Run(w.String(), func(t *testing.T) {
			t.Parallel()
			const limit = 5
			s := NewServer(t, Config{PerSecond: limit, Window: w})
			c := newCollector(t, s.URL)
			// Two bursts of 11 requests at once, far more than a second
			// apart: 11 arrivals within a second fill the window (a fixed
			// one, were they to straddle a second's end, on one side).
			for burst := range 2 {
				var wg sync.WaitGroup
				for i := range 11 {
					wg.Go(func() { c.post(fmt.Sprintf("id:%d%02d", burst, i), nil) })
				}
				wg.Wait()
				if burst == 0 {
					time.Sleep(1100 * time.Millisecond)
				}
			}
			got := checkQuota(t, s, c.answers(), limit, w, nil)
			if len(got) != 22 {
				t.Fatalf("%d answers, want 22", len(got))
			}
			for burst, answers := range [][]answer{got[:11], got[11:]} {
				if answers[0].remaining != "4" {
					t.Errorf("burst %d: the first answer's Remaining is %s, want 4: the window did not recover", burst, answers[0].remaining)
				}
				zero, refused := false, 0
				for _, a := range answers {
					zero = zero || (a.status == 200 && a.remaining == "0")
					if a.status == 429 {
						refused++
					}
				}
				if !zero || refused == 0 {
					t.Errorf("burst %d: %v: want a success with Remaining 0 and 429s", burst, answers)
				}
				if w == Sliding && refused != 11-limit {
					t.Errorf("burst %d: %d × 429, want %d", burst, refused, 11-limit)
				}
			}
		})
	}
}

// A fixed window starts again at each second of the fake's clock; a
// sliding one, on the same steady stream, never does.
func TestFixedWindowResetsAtTheSecond(t *testing.T) {
	t.Parallel()
	for _, w := range []Window{Sliding, Fixed} {
		t.Run(w.String(), func(t *testing.T) {
			t.Parallel()
			const limit = 100 // never reached: only the count matters
			s := NewServer(t, Config{PerSecond: limit, Window: w})
			c := newCollector(t, s.URL)
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for i := range 24 { // over 2.3 s: at least two seconds end
				if i > 0 {
					<-tick.C
				}
				c.post(fmt.Sprintf("id:%02d", i), nil)
			}
			got := checkQuota(t, s, c.answers(), limit, w, nil)
			full := 0 // answers that open a window
			for _, a := range got {
				if a.remaining == strconv.Itoa(limit-1) {
					full++
				}
			}
			switch {
			case w == Fixed && full < 3:
				t.Errorf("Remaining was back at %d only %d times over 2.3 s, want once per second started", limit-1, full)
			case w == Sliding && full != 1:
				t.Errorf("Remaining was back at %d %d times on a steady stream, want once", limit-1, full)
			}
		})
	}
}

// CloseEvery closes each connection after that many answers, which say
// so: a client sending in sequence opens a new connection each time.
func TestCloseEvery(t *testing.T) {
	for _, tt := range []struct {
		every, conns int
	}{
		{0, 1},
		{1, 10},
		{3, 4},
	} {
		s := NewServer(t, Config{CloseEvery: tt.every, PerSecond: 25})
		c := newCollector(t, s.URL)
		for i := range 10 {
			c.post(fmt.Sprintf("id:%d", i), nil)
			a := c.answers()[fmt.Sprintf("id:%d", i)]
			if want := tt.every > 0 && (i+1)%tt.every == 0; a.close != want || a.status != 200 {
				t.Errorf("CloseEvery %d, answer %d: %d, Connection: close %v, want 200 and %v", tt.every, i+1, a.status, a.close, want)
			}
		}
		if got := s.Accepted(); got != tt.conns {
			t.Errorf("CloseEvery %d: the fake accepted %d connections for 10 requests in sequence, want %d", tt.every, got, tt.conns)
		}
	}
}

// Another integration's requests lower Remaining by what they spend,
// though they are not among the requests received, and stop with Close.
func TestBackgroundSpendsTheQuota(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Config{PerSecond: 25, Background: 10})
	c := newCollector(t, s.URL)
	tick := time.NewTicker(200 * time.Millisecond)
	for i := range 13 { // 5/s for 2.4 s: with the background's 10/s, under 25
		if i > 0 {
			<-tick.C
		}
		c.post(fmt.Sprintf("id:%02d", i), nil)
	}
	tick.Stop()
	bg := backgroundTimes(s)
	got := checkQuota(t, s, c.answers(), 25, Sliding, bg)
	reqs := s.Requests()
	for i, a := range got {
		own := 0
		for _, r := range reqs[:i+1] {
			if reqs[i].At.Sub(r.At) < time.Second {
				own++
			}
		}
		if reqs[i].At.Sub(s.limit.bgStart) > time.Second {
			if spent := 25 - own - atoi(a.remaining); spent < 9 || spent > 11 {
				t.Errorf("request %d: Remaining %s with %d of its own in the window: the other integration spent %d, want about 10", i, a.remaining, own, spent)
			}
		}
	}
	if len(reqs) != 13 {
		t.Errorf("Requests has %d, want the client's 13", len(reqs))
	}
	if n := s.BackgroundSent(); n < 20 {
		t.Errorf("BackgroundSent = %d after 2.4 s at 10/s", n)
	}
	s.Close()
	stopped := s.BackgroundSent()
	time.Sleep(300 * time.Millisecond)
	if n := s.BackgroundSent(); n != stopped {
		t.Errorf("BackgroundSent went from %d to %d after Close", stopped, n)
	}
}

// A client sending at the full limit, unaware of the other integration,
// gets 429s: the window is shared.
func TestBackgroundAtTheFullLimitDraws429s(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Config{PerSecond: 25, Background: 10})
	c := newCollector(t, s.URL)
	c.paced("id:", 50, 41*time.Millisecond, 25)
	refused := 0
	for _, a := range checkQuota(t, s, c.answers(), 25, Sliding, backgroundTimes(s)) {
		if a.status == 429 {
			refused++
		}
	}
	if refused == 0 {
		t.Error("50 requests at 25/s beside another integration's 10/s: no 429")
	}
}

// Many clients, each far below the limit and on its own connection,
// together as many per second as the limit allows, their answers late by
// different amounts: however their handlers are ordered, no 429, and each
// Remaining is what the arrival stamps say.
func TestConcurrentClientsGetNoFalse429(t *testing.T) {
	t.Parallel()
	for _, w := range []Window{Sliding, Fixed} {
		t.Run(w.String(), func(t *testing.T) {
			t.Parallel()
			const clients = 10
			s := NewServer(t, Config{PerSecond: clients, Window: w, Latency: 40 * time.Millisecond, Jitter: 0.9})
			var wg sync.WaitGroup
			cs := make([]*collector, clients)
			for k := range clients {
				cs[k] = newCollector(t, s.URL)
				wg.Go(func() {
					// One request a second, measured from when the last
					// one left: never two in one second, sliding or fixed.
					time.Sleep(rand.N(time.Second))
					for i := range 4 {
						wrote := make(chan time.Time, 1)
						cs[k].post(fmt.Sprintf("id:%d-%d", k, i), func() { wrote <- time.Now() })
						select {
						case at := <-wrote:
							time.Sleep(time.Until(at.Add(time.Second + time.Millisecond)))
						case <-time.After(5 * time.Second):
							return // the request failed, and said so
						}
					}
				})
			}
			wg.Wait()
			all := map[string]answer{}
			for _, c := range cs {
				for k, v := range c.answers() {
					all[k] = v
				}
			}
			refused := 0
			for _, a := range checkQuota(t, s, all, clients, w, nil) {
				if a.status == 429 {
					refused++
				}
			}
			if refused > 0 {
				t.Errorf("%d × 429 to clients that never sent more than the limit in a second", refused)
			}
			if s.MaxInWindow(time.Second) > clients {
				t.Errorf("the clients sent %d in a second: the test paced them wrong", s.MaxInWindow(time.Second))
			}
		})
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// However handlers reach the limiter, as long as each does within
// reorderWait of its arrival, every arrival gets the decision and the
// Remaining it would get were they handled one by one in arrival order.
func TestLimiterDecidesInArrivalOrder(t *testing.T) {
	start := time.Unix(1_700_000_000, 250_000_000)
	for _, w := range []Window{Sliding, Fixed} {
		for _, bg := range []float64{0, 7} {
			cfg := Config{PerSecond: 10, Window: w, Background: bg}
			rng := rand.New(rand.NewPCG(1, uint64(w)))
			var arrivals []time.Time // bursts and lulls over 4 seconds
			for len(arrivals) < 120 {
				arrivals = append(arrivals, start.Add(time.Duration(rng.Int64N(int64(4*time.Second)))))
			}
			slices.SortFunc(arrivals, time.Time.Compare)

			inOrder := newLimiter(cfg, start)
			var want []quota
			for _, at := range arrivals {
				q := inOrder.register(at)
				inOrder.settle(at)
				want = append(want, *q)
			}

			// Each handler registers up to reorderWait late, and settles
			// reorderWait after its arrival or later.
			type step struct {
				when   time.Time
				i      int
				settle bool
			}
			var steps []step
			for i, at := range arrivals {
				reg := at.Add(time.Duration(rng.Int64N(int64(reorderWait))))
				steps = append(steps, step{reg, i, false}, step{at.Add(reorderWait + time.Duration(rng.Int64N(int64(reorderWait)))), i, true})
			}
			slices.SortStableFunc(steps, func(a, b step) int { return a.when.Compare(b.when) })
			l := newLimiter(cfg, start)
			got := make([]*quota, len(arrivals))
			for _, s := range steps {
				if s.settle {
					l.settle(arrivals[s.i])
				} else {
					got[s.i] = l.register(arrivals[s.i])
				}
			}
			for i := range arrivals {
				if g := got[i]; !g.decided || g.admitted != want[i].admitted || g.remaining != want[i].remaining {
					t.Errorf("%s, background %v, arrival %d: admitted %v Remaining %d, in arrival order %v %d",
						w, bg, i, g.admitted, g.remaining, want[i].admitted, want[i].remaining)
				}
			}
			if l.late != 0 {
				t.Errorf("%s, background %v: %d arrivals counted late", w, bg, l.late)
			}
		}
	}
}

// A handler later than reorderWait (its arrival decided after later ones)
// cannot be refused for them: a client that keeps to the limit gets no
// 429, however late its handlers.
func TestLateHandlersDrawNo429(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	for _, w := range []Window{Sliding, Fixed} {
		const limit = 10
		l := newLimiter(Config{PerSecond: limit, Window: w}, start)
		rng := rand.New(rand.NewPCG(2, uint64(w)))
		type step struct {
			when time.Time
			at   time.Time
		}
		var steps []step
		for i := range 60 { // exactly the limit: one every 100 ms and a nanosecond
			at := start.Add(time.Duration(i) * (time.Second/limit + 1))
			steps = append(steps, step{at.Add(time.Duration(rng.Int64N(int64(4 * reorderWait)))), at})
		}
		slices.SortStableFunc(steps, func(a, b step) int { return a.when.Compare(b.when) })
		var qs []*quota
		for _, s := range steps {
			qs = append(qs, l.register(s.at))
			l.settle(s.when.Add(-reorderWait))
		}
		l.settle(start.Add(time.Hour))
		for i, q := range qs {
			if !q.admitted {
				t.Errorf("%s: arrival %s refused", w, steps[i].at.Format("05.000000000"))
			}
		}
		if l.late == 0 {
			t.Errorf("%s: no handler was late: the test tests nothing", w)
		}
	}
}
