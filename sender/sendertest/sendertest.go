// Package sendertest is a fake of the Messages API (v1 and v2) served over
// real HTTP on the loopback interface, like net/http/httptest. Tests use it
// to see exactly what pregon sent and when; `pregon send -sandbox` uses it
// so a new user can watch a whole campaign run without a token or network.
//
// It answers as the platform is documented to, including what makes a
// client's life hard: a path outside the API gets the web server's HTML
// 404, not JSON; with a rate limit, every answer of the API carries
// X-RateLimit-Limit and X-RateLimit-Remaining, counted at the request's
// arrival in a sliding or a fixed window. It records every request and can
// be told to answer slowly, to refuse a token, to answer given statuses for
// given contacts, to enforce a rate limit with 429s, to spend part of that
// limit on another integration's requests, to close connections every few
// answers as a load balancer does, to cut the connection after reading a
// request or after taking its message, to reset the first connections
// before any answer, to answer v1 sends with 201 as some brands do, or to
// be a web site rather than the API. It does not resolve names or refuse
// connections: tests use an .invalid host or a closed port for those.
//
// Like the platform, it keeps each v2 message it took (a dropped answer's
// too, see Respond) and answers v2's reads of them: one message with its
// status history, which advances with the message's age (Delivery), and a
// contact's messages in pages (with OtherTraffic, among what others sent
// it and what it wrote), in an order that follows neither time nor id,
// since the documentation gives none; and a channel's WhatsApp
// templates, in the shapes brands differ by. Reads need the token and
// spend the same rate limit as sends. v1 has no reads.
package sendertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Request is one request the fake received.
type Request struct {
	At      time.Time // when it reached the machine (see arrival)
	Method  string
	Path    string // as sent, escaped
	Contact string // the path's contact segment, unescaped
	Body    []byte
	Token   string // the bearer token presented
	// Status is what the fake answered: 0 for a connection reset before
	// it was read (ResetFirst), and what Respond returned (-1 or -2) for a
	// connection cut after.
	Status int

	endpoint kind // what the path asked of the API
}

// Config tells the fake how to behave. The zero value accepts everything
// instantly with any non-empty token.
type Config struct {
	// Token, when set, is the only bearer token accepted; others get 401.
	Token string
	// Latency delays every answer, ±Jitter (a fraction, e.g. 0.2).
	Latency time.Duration
	Jitter  float64
	// PerSecond, when above 0, is the organization's limit, enforced as
	// the platform does: every request to the API is counted in the
	// Window that holds its arrival, whatever its token, method or body
	// (the limit stands in front of the API, as a gateway's does); one
	// that finds PerSecond requests already counted there gets 429 with
	// Retry-After: 1 and is not counted. Every answer of the API carries
	// X-RateLimit-Limit: PerSecond and X-RateLimit-Remaining: PerSecond
	// minus the requests counted in that window up to and including this
	// one, 0 on a 429 (a web server's HTML page carries neither). Such an
	// answer comes no sooner than 50 ms after its arrival, so that
	// requests are counted in the order they arrived, whatever order their
	// handlers run in. Without a limit, answers carry no quota headers
	// but a 429's Remaining: 0.
	PerSecond int
	// Window is how PerSecond is counted: Sliding (any one second, the
	// zero value) or Fixed (each calendar second of the fake's clock).
	Window Window
	// NoRateHeaders leaves out X-RateLimit-Limit, and
	// X-RateLimit-Remaining from every answer but a 429, as some brands'
	// proxies do.
	NoRateHeaders bool
	// Background, with PerSecond, is another integration of the same
	// organization spending its quota: this many requests per second,
	// evenly spaced from the start of the fake until Close, counted in the
	// window like the client's (and refused like them when it is full).
	// They are not real requests: Requests leaves them out, and
	// BackgroundSent counts them.
	Background float64
	// CloseEvery, when above 0, closes each connection after its
	// CloseEvery-th answer, which says Connection: close, as load
	// balancers do: the client must open a new connection. Through
	// Handler, which sees no connections, it counts all answers instead.
	CloseEvery int
	// Respond, when set, can decide the answer for a send: return a
	// status (and a message for error answers), or 0 for the default.
	// Return -1 to cut the connection without answering, after the
	// request was read: the platform took nothing. Return -2 for a
	// dropped answer: the platform takes the message (a v2 one is kept,
	// an id given, as for a 2xx), then the connection is cut before the
	// answer leaves.
	Respond func(r *Request) (status int, message string)
	// RespondRead is Respond for the reads (GETs of messages and
	// templates), once the token was checked: a status and message for
	// an error answer, 0 (or a 2xx) for the read, -1 or -2 to cut the
	// connection.
	RespondRead func(r *Request) (status int, message string)
	// Log, when set, receives one line per request.
	Log io.Writer
	// Sandbox marks every answer with SandboxHeader, so a client can tell
	// a rehearsal from the platform whatever the URL. Leave it off in tests
	// that pretend to be the platform.
	Sandbox bool
	// WebSite makes the address a web site rather than the API, like a
	// wrong base URL that lands on a company's home page or a proxy's
	// login page: every request, whatever its path and method, gets 200
	// with an HTML page. Nothing is delivered (ByContact stays empty).
	WebSite bool
	// V1Created answers v1 sends as some brands do: 201
	// {"status":"success","message":"Message Sent","data":{"id":N}}
	// instead of 200 {"status":"Success","message":"Message Sent","data":[]}.
	V1Created bool
	// ResetFirst resets (TCP RST) the first ResetFirst connections the
	// fake accepts as soon as their first bytes arrive, before any answer:
	// what arrived is recorded as a Request with Status 0 (Method, Path
	// and Contact from the request line when it is there), then the
	// connection is reset. Later connections are served as usual. It
	// counts connections, not requests, and applies to New and NewServer
	// only: Handler never sees a connection.
	ResetFirst int

	// Delivery is how the statuses of the v2 messages the platform keeps
	// advance with their age; zero fields take DefaultDelivery's.
	Delivery Delivery
	// TimestampMillis gives the timestamps of statuses in Unix
	// milliseconds instead of seconds: the documentation says either.
	TimestampMillis bool
	// ClockSkew is how far the platform's clock is ahead of this
	// machine's (negative: behind), in every timestamp it gives.
	ClockSkew time.Duration
	// OtherTraffic gives each contact's list what else the platform
	// holds for it: what the customer wrote, and what agents ("user"),
	// workflows and broadcasts sent, some of it pregon's template with
	// other parameters, some sent moments after pregon's message. It is
	// the same for the same identifiers and requests.
	OtherTraffic bool
	// Templates are the WhatsApp templates the platform lists, by their
	// channel; a channel none of them is on is unknown (404). Nil means
	// DefaultTemplates; an empty slice, none. As brands differ, one
	// answer mixes shapes: the i-th template's status is in upper case
	// for an even i and in lower case for an odd one; its components
	// are an array for i%4 of 0 or 3, a JSON string holding the array
	// for 1 or 2.
	Templates []Template
	// TemplatesAtMTM lists templates at
	// /v2/space/channel/{channelId}/mtm, as one official client reads
	// them, and leaves /template to the web server's HTML 404.
	TemplatesAtMTM bool
}

// SandboxHeader is set to "1" on every answer of a fake with Config.Sandbox.
const SandboxHeader = "X-Pregon-Sandbox"

// Server is a running fake.
type Server struct {
	*httptest.Server
	cfg Config

	accepted atomic.Int64 // connections
	answers  atomic.Int64 // for CloseEvery, where connections are unknown

	mu       sync.Mutex
	inFlight int // requests being handled
	requests []Request
	limit    *limiter // nil without PerSecond
	kept     platform

	templates []templateJSON // as listed; never changes
}

func newServer(cfg Config) *Server {
	ts := cfg.Templates
	if ts == nil {
		ts = DefaultTemplates()
	}
	s := &Server{cfg: cfg, kept: newPlatform(), templates: listed(ts)}
	if cfg.PerSecond > 0 {
		s.limit = newLimiter(cfg, time.Now())
	}
	return s
}

// New starts a fake on a loopback port. Close it when done.
func New(cfg Config) *Server {
	s := newServer(cfg)
	s.Server = httptest.NewUnstartedServer(s)
	s.Server.Listener = s.listener(s.Server.Listener)
	s.Server.Config.ConnContext = withConn
	s.Server.Start()
	return s
}

// listener wraps ln so that requests are stamped with their arrival,
// connections counted, and the first ResetFirst reset.
func (s *Server) listener(ln net.Listener) net.Listener {
	ln = stampingListener{Listener: ln, accepted: &s.accepted}
	if s.cfg.ResetFirst > 0 {
		ln = &resettingListener{Listener: ln, s: s, left: s.cfg.ResetFirst, pending: map[net.Conn]bool{}}
	}
	return ln
}

// Close stops the background integration, then the server; it blocks
// until the answers in flight are written.
func (s *Server) Close() {
	s.stopBackground()
	s.Server.Close()
}

// NewServer starts a fake for a test and closes it when the test ends.
func NewServer(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s := New(cfg)
	tb.Cleanup(s.Close)
	return s
}

// Handler returns the fake as an http.Handler, for serving on an address
// of one's choosing. It sees no connections: a request's arrival is when
// its handler starts, which on a busy machine can be milliseconds late
// and out of order, so its rate limit is not the platform's; Serve
// stamps arrivals as New does. ResetFirst does not apply, and the
// background integration, if any, never stops.
func Handler(cfg Config) http.Handler { return newServer(cfg) }

// Serve serves the fake on ln until ctx is done, as New does: each
// request is stamped with the kernel's receive time, so the rate limit
// counts arrivals, not handlers. When ctx is done it stops accepting and
// lets the answers in flight finish (for at most 5 seconds).
func Serve(ctx context.Context, ln net.Listener, cfg Config) error {
	s := newServer(cfg)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ConnContext: withConn}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		s.stopBackground()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	err := srv.Serve(s.listener(ln))
	cancel()
	<-stopped // Serve returns when Shutdown starts; the answers in flight finish first
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Requests returns a copy of every request received so far, in the order
// they arrived.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	out := append([]Request(nil), s.requests...)
	s.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Request) int { return a.At.Compare(b.At) })
	return out
}

// Accepted is how many connections the fake accepted, reset ones
// included.
func (s *Server) Accepted() int { return int(s.accepted.Load()) }

// SetPerSecond changes the organization's limit from now on (a plan that
// changes; a bench that fills the platform with messages first, at a
// limit no sender reaches, and then measures what reads them). Only a
// fake made with a PerSecond has a limit to change.
func (s *Server) SetPerSecond(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limit == nil || n <= 0 {
		panic("sendertest: SetPerSecond needs a fake made with a PerSecond, and a limit above 0")
	}
	s.limit.limit = n
}

// BackgroundSent is how many requests the background integration sent so
// far (Config.Background); they are not in Requests.
func (s *Server) BackgroundSent() int {
	if s.limit == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limit.backgroundSent(time.Now())
}

func (s *Server) stopBackground() {
	if s.limit == nil {
		return
	}
	s.mu.Lock()
	s.limit.stop(time.Now())
	s.mu.Unlock()
}

// InFlight is how many requests the fake is still handling (their
// answers, after Latency, not yet recorded).
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight
}

// ByContact counts the sends the fake accepted (2xx) per contact. A
// WebSite's 200s accept nothing.
func (s *Server) ByContact() map[string]int {
	out := map[string]int{}
	if s.cfg.WebSite {
		return out
	}
	for _, r := range s.Messages() {
		if r.Status >= 200 && r.Status < 300 {
			out[r.Contact]++
		}
	}
	return out
}

// MaxInWindow returns the largest number of requests the fake received
// within any window of the given length.
func (s *Server) MaxInWindow(window time.Duration) int {
	return MaxInWindow(s.Requests(), window)
}

// MaxInWindow returns the largest number of requests within any window of
// the given length (requests must be in arrival order).
func MaxInWindow(reqs []Request, window time.Duration) int {
	best, lo := 0, 0
	for hi := range reqs {
		for reqs[hi].At.Sub(reqs[lo].At) >= window {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := arrival(r.Context())
	ep := route(r.URL.Path, s.cfg.TemplatesAtMTM)
	api := ep.kind != notAPI && !s.cfg.WebSite
	var q *quota // the request's place in the limit, for the API's answers
	s.mu.Lock()
	s.inFlight++
	if api && s.limit != nil {
		q = s.limit.register(at)
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	answerAt := time.Now().Add(s.latency())
	if s.cfg.Sandbox {
		w.Header().Set(SandboxHeader, "1")
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	req := Request{
		At:       at,
		Method:   r.Method,
		Path:     r.URL.EscapedPath(),
		Contact:  ep.contact,
		Body:     body,
		Token:    bearer(r.Header),
		endpoint: ep.kind,
	}
	if q != nil {
		if settled := q.at.Add(reorderWait); settled.After(answerAt) {
			answerAt = settled
		}
	}
	time.Sleep(time.Until(answerAt))
	if q != nil {
		s.mu.Lock()
		s.limit.settle(q.at)
		s.mu.Unlock()
	}
	var a reply
	switch {
	case s.cfg.WebSite:
		a = reply{status: http.StatusOK, page: homePage}
	case api:
		a = s.reply(&req, r, ep, q)
	default:
		a = reply{status: http.StatusNotFound, page: notFoundPage}
	}
	if s.cfg.Log != nil {
		fmt.Fprintf(s.cfg.Log, "sandbox: %s %s %d %s\n", req.At.Format("15:04:05.000"), r.URL.EscapedPath()+query(r.URL), a.status, summarize(body))
	}
	req.Status = a.status
	s.record(req)
	if a.status < 0 {
		cut(w)
		return
	}
	if s.closes(r.Context()) {
		w.Header().Set("Connection", "close")
	}
	if a.page != "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(a.status)
		io.WriteString(w, a.page)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	s.quotaHeaders(w.Header(), a.status, q)
	w.WriteHeader(a.status)
	w.Write(a.body)
}

// reply is an answer of the fake: a status (negative to cut the
// connection) and an HTML page or a JSON body.
type reply struct {
	status int
	page   string
	body   []byte
}

// reply answers a request to the API: decide says how, then a send the
// platform took is kept, and a read let through is answered.
func (s *Server) reply(req *Request, r *http.Request, ep endpoint, q *quota) reply {
	status, msg := s.decide(req, r, ep, q)
	taken := status == -2 || status >= 200 && status < 300
	switch {
	case taken && ep.send():
		id := s.take(req, ep)
		if status < 0 {
			return reply{status: status}
		}
		switch {
		case ep.kind == sendV2:
			return reply{status: status, body: fmt.Appendf(nil, `{"messageId":%d}`, id)}
		case s.cfg.V1Created:
			return reply{status: status, body: fmt.Appendf(nil, `{"status":"success","message":"Message Sent","data":{"id":%d}}`, id)}
		default:
			return reply{status: status, body: []byte(`{"status":"Success","message":"Message Sent","data":[]}`)}
		}
	case taken && status > 0:
		return s.read(r, ep, status)
	case status < 0:
		s.untaken(req, ep)
		return reply{status: status}
	case ep.kind == sendV1:
		return reply{status: status, body: jsonLine(v1Error{Status: "error", Message: msg, Data: []any{}})}
	default:
		return reply{status: status, body: jsonLine(v2Error{Code: status, Message: msg})}
	}
}

// take gives a send the platform took its message id and, for v2, keeps
// the message.
func (s *Server) take(req *Request, ep endpoint) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.kept.id()
	if ep.kind == sendV2 {
		channel, msg := sent(req.Body)
		c := s.touch(ep.contact, req.At, channel, msg)
		s.kept.keep(&message{id: id, contact: c, identifier: ep.contact, channel: channel,
			traffic: "outgoing", source: "api", body: msg, at: req.At})
		s.around(c, ep.contact, req.At, channel, msg)
	}
	return id
}

// untaken is what follows a v2 send the platform read but did not take
// (-1): with OtherTraffic, others may still write to the contact.
func (s *Server) untaken(req *Request, ep endpoint) {
	if ep.kind != sendV2 || !s.cfg.OtherTraffic {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	channel, msg := sent(req.Body)
	s.around(s.touch(ep.contact, req.At, channel, msg), ep.contact, req.At, channel, msg)
}

// jsonLine is v as JSON and a newline, as json.Encoder writes it.
func jsonLine(v any) []byte {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// latency is how long this answer takes: Latency ±Jitter.
func (s *Server) latency() time.Duration {
	if s.cfg.Latency <= 0 {
		return 0
	}
	return time.Duration(float64(s.cfg.Latency) * (1 + s.cfg.Jitter*(2*rand.Float64()-1)))
}

// quotaHeaders sets the rate-limit headers of an API answer: q says what
// the limit counted at the request's arrival (nil without a limit).
func (s *Server) quotaHeaders(h http.Header, status int, q *quota) {
	if status == http.StatusTooManyRequests {
		h.Set("Retry-After", "1")
		h.Set("X-RateLimit-Remaining", "0")
	}
	if q == nil || s.cfg.NoRateHeaders {
		return
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(q.limit))
	if status != http.StatusTooManyRequests {
		h.Set("X-RateLimit-Remaining", strconv.Itoa(q.remaining))
	}
}

// closes says whether this answer is the one after which its connection
// closes (Config.CloseEvery).
func (s *Server) closes(ctx context.Context) bool {
	if s.cfg.CloseEvery <= 0 {
		return false
	}
	n := &s.answers
	if c := connOf(ctx); c != nil {
		n = &c.answers
	}
	return n.Add(1)%int64(s.cfg.CloseEvery) == 0
}

// The error answers, their fields in the order the documentation shows.
type v1Error struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Data    []any  `json:"data"`
}

type v2Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// notFoundPage is what a path outside the API gets: the web server in
// front of the API answers it, as nginx does, before the API's own error
// handling (and its JSON) is reached.
const notFoundPage = `<html>
<head><title>404 Not Found</title></head>
<body>
<center><h1>404 Not Found</h1></center>
<hr><center>nginx</center>
</body>
</html>
`

// homePage is what a WebSite answers to everything.
const homePage = `<!DOCTYPE html>
<html lang="es">
<head>
<meta charset="utf-8">
<title>Bienvenido | Iniciar sesión</title>
</head>
<body>
<h1>Bienvenido</h1>
<form method="post" action="/login">
<label>Correo <input type="email" name="email"></label>
<label>Contraseña <input type="password" name="password"></label>
<button type="submit">Entrar</button>
</form>
</body>
</html>
`

// record adds a request to those received.
func (s *Server) record(req Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
}

// bearer is the token presented in the Authorization header.
func bearer(h http.Header) string {
	return strings.TrimPrefix(h.Get("Authorization"), "Bearer ")
}

// decide picks the answer the way the platform would, then lets the test's
// Respond (RespondRead for a read) override it. The limit comes first: a request it refuses (q not
// admitted) reaches nothing else.
func (s *Server) decide(req *Request, r *http.Request, ep endpoint, q *quota) (int, string) {
	if q != nil && !q.admitted {
		return http.StatusTooManyRequests, "Too many requests"
	}
	method, respond := http.MethodGet, s.cfg.RespondRead
	if ep.send() {
		method, respond = http.MethodPost, s.cfg.Respond
	}
	switch {
	case r.Method != method:
		return http.StatusMethodNotAllowed, "405 Method Not Allowed."
	case req.Token == "" || (s.cfg.Token != "" && req.Token != s.cfg.Token):
		return http.StatusUnauthorized, "API Token is invalid."
	case ep.send() && !json.Valid(req.Body):
		return http.StatusBadRequest, "the body is not valid JSON"
	}
	if respond != nil {
		if status, msg := respond(req); status != 0 {
			if msg == "" {
				msg = http.StatusText(status)
			}
			return status, msg
		}
	}
	if ep.kind == sendV1 && s.cfg.V1Created {
		return http.StatusCreated, ""
	}
	return http.StatusOK, ""
}

// kind is what a path asks of the API.
type kind int

const (
	notAPI        kind = iota // a path the web server in front of the API answers
	sendV1                    // POST /v1/message/sendContent/{contactId}
	sendV2                    // POST /v2/contact/{identifier}/message
	readMessage               // GET /v2/contact/{identifier}/message/{messageId}
	listMessages              // GET /v2/contact/{identifier}/message/list
	listTemplates             // GET /v2/space/channel/{channelId}/template, or /mtm
)

// endpoint is a path the API answers, with its segments unescaped.
type endpoint struct {
	kind    kind
	contact string // sends and a contact's messages
	id      string // readMessage: the message id
	channel string // listTemplates
}

func (e endpoint) send() bool { return e.kind == sendV1 || e.kind == sendV2 }

// route recognises the API's endpoints in a path. The base URL may carry a
// path ("https://app.brand/api"), so it matches the tail. mtm says the
// brand lists templates at /mtm rather than /template.
func route(p string, mtm bool) endpoint {
	if i := strings.Index(p, "/v1/message/sendContent/"); i >= 0 {
		if rest := p[i+len("/v1/message/sendContent/"):]; rest != "" {
			return endpoint{kind: sendV1, contact: rest}
		}
		return endpoint{}
	}
	if i := strings.Index(p, "/v2/contact/"); i >= 0 {
		c, tail, _ := strings.Cut(p[i+len("/v2/contact/"):], "/")
		id, _ := strings.CutPrefix(tail, "message/")
		switch {
		case c == "":
		case tail == "message":
			return endpoint{kind: sendV2, contact: c}
		case tail == "message/list":
			return endpoint{kind: listMessages, contact: c}
		case id != tail && id != "" && !strings.Contains(id, "/"):
			return endpoint{kind: readMessage, contact: c, id: id}
		}
		return endpoint{}
	}
	if i := strings.Index(p, "/v2/space/channel/"); i >= 0 {
		want := "template"
		if mtm {
			want = "mtm"
		}
		if ch, tail, _ := strings.Cut(p[i+len("/v2/space/channel/"):], "/"); ch != "" && tail == want {
			return endpoint{kind: listTemplates, channel: ch}
		}
	}
	return endpoint{}
}

func cut(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("sendertest: cannot cut a connection that is not HTTP/1")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
			tc.SetLinger(0) // a reset, as a dropped connection looks
		}
		conn.Close()
	}
}

// query is the URL's query with its "?", for a log line.
func query(u *url.URL) string {
	if u.RawQuery == "" {
		return ""
	}
	return "?" + u.RawQuery
}

// summarize is a body for a log line: whole (a person rehearsing reads
// the message as it was sent), on one line.
func summarize(body []byte) string {
	return strings.Join(strings.Fields(string(body)), " ")
}
