// Package sendertest is a fake of the Messages API (v1 and v2) served over
// real HTTP on the loopback interface, like net/http/httptest. Tests use it
// to see exactly what pregon sent and when; `pregon send -sandbox` uses it
// so a new user can watch a whole campaign run without a token or network.
//
// It answers as the platform is documented to, including what makes a
// client's life hard: a path outside the API gets the web server's HTML
// 404, not JSON. It records every request and can be told to answer
// slowly, to refuse a token, to answer given statuses for given contacts,
// to enforce a rate limit with 429s, to cut the connection after reading a
// request, to reset the first connections before any answer, to answer v1
// sends with 201 as some brands do, or to be a web site rather than the
// API. It does not resolve names or refuse connections: tests use an
// .invalid host or a closed port for those.
package sendertest

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
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
	Status  int    // what the fake answered; 0 when it cut the connection
}

// Config tells the fake how to behave. The zero value accepts everything
// instantly with any non-empty token.
type Config struct {
	// Token, when set, is the only bearer token accepted; others get 401.
	Token string
	// Latency delays every answer, ±Jitter (a fraction, e.g. 0.2).
	Latency time.Duration
	Jitter  float64
	// PerSecond, when above 0, answers 429 with Retry-After: 1 to any
	// request that would be more than PerSecond in the last second, like
	// the platform does.
	PerSecond int
	// NoRateHeaders leaves out X-RateLimit-Limit, as some brands' proxies do.
	NoRateHeaders bool
	// Respond, when set, can decide the answer for a request: return a
	// status (and a message for error answers), or 0 for the default.
	// Return -1 to cut the connection without answering, after the
	// request was read.
	Respond func(r *Request) (status int, message string)
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
}

// SandboxHeader is set to "1" on every answer of a fake with Config.Sandbox.
const SandboxHeader = "X-Pregon-Sandbox"

// Server is a running fake.
type Server struct {
	*httptest.Server
	cfg Config

	mu       sync.Mutex
	inFlight int // requests being handled
	requests []Request
	recent   []time.Time // accepted request times in the last second, for PerSecond
	nextID   int64
}

// New starts a fake on a loopback port. Close it when done.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, nextID: 1000}
	s.Server = httptest.NewUnstartedServer(s)
	s.Server.Listener = stampingListener{s.Server.Listener}
	if cfg.ResetFirst > 0 {
		s.Server.Listener = &resettingListener{Listener: s.Server.Listener, s: s, left: cfg.ResetFirst, pending: map[net.Conn]bool{}}
	}
	s.Server.Config.ConnContext = withConn
	s.Server.Start()
	return s
}

// NewServer starts a fake for a test and closes it when the test ends.
func NewServer(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s := New(cfg)
	tb.Cleanup(s.Close)
	return s
}

// Handler returns the fake as an http.Handler, for serving on an address
// of one's choosing.
func Handler(cfg Config) http.Handler { return &Server{cfg: cfg, nextID: 1000} }

// Requests returns a copy of every request received so far, in the order
// they arrived.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	out := append([]Request(nil), s.requests...)
	s.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Request) int { return a.At.Compare(b.At) })
	return out
}

// InFlight is how many requests the fake is still handling (their
// answers, after Latency, not yet recorded).
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight
}

// ByContact counts the requests the fake accepted (2xx) per contact. A
// WebSite's 200s accept nothing.
func (s *Server) ByContact() map[string]int {
	out := map[string]int{}
	if s.cfg.WebSite {
		return out
	}
	for _, r := range s.Requests() {
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
	if s.cfg.Sandbox {
		w.Header().Set(SandboxHeader, "1")
	}
	s.mu.Lock()
	s.inFlight++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	req := Request{
		At:     at,
		Method: r.Method,
		Path:   r.URL.EscapedPath(),
		Body:   body,
		Token:  bearer(r.Header),
	}
	v1, contact, routed := route(r.URL.Path)
	req.Contact = contact
	var status int
	var msg, page string
	switch {
	case s.cfg.WebSite:
		status, page = http.StatusOK, homePage
	case routed:
		status, msg = s.decide(&req, r, v1)
	default:
		status, page = http.StatusNotFound, notFoundPage
	}
	if s.cfg.Log != nil {
		fmt.Fprintf(s.cfg.Log, "sandbox: %s %s %d %s\n", req.At.Format("15:04:05.000"), req.Path, status, summarize(body))
	}
	if s.cfg.Latency > 0 {
		d := float64(s.cfg.Latency) * (1 + s.cfg.Jitter*(2*rand.Float64()-1))
		time.Sleep(time.Duration(d))
	}
	req.Status = status
	id := s.record(req)
	if status < 0 {
		cut(w)
		return
	}
	if page != "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, page)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
		w.Header().Set("X-RateLimit-Remaining", "0")
	}
	if s.cfg.PerSecond > 0 && !s.cfg.NoRateHeaders {
		w.Header().Set("X-RateLimit-Limit", fmt.Sprint(s.cfg.PerSecond))
	}
	w.WriteHeader(status)
	switch {
	case status >= 200 && status < 300 && v1 && s.cfg.V1Created:
		fmt.Fprintf(w, `{"status":"success","message":"Message Sent","data":{"id":%d}}`, id)
	case status >= 200 && status < 300 && v1:
		io.WriteString(w, `{"status":"Success","message":"Message Sent","data":[]}`)
	case status >= 200 && status < 300:
		fmt.Fprintf(w, `{"messageId":%d}`, id)
	case v1:
		json.NewEncoder(w).Encode(v1Error{Status: "error", Message: msg, Data: []any{}})
	default:
		json.NewEncoder(w).Encode(v2Error{Code: status, Message: msg})
	}
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

// record adds a request to those received and returns the id the
// platform would give its message.
func (s *Server) record(req Request) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
	id := s.nextID
	s.nextID++
	return id
}

// bearer is the token presented in the Authorization header.
func bearer(h http.Header) string {
	return strings.TrimPrefix(h.Get("Authorization"), "Bearer ")
}

// decide picks the answer the way the platform would, then lets the test's
// Respond override it.
func (s *Server) decide(req *Request, r *http.Request, v1 bool) (int, string) {
	switch {
	case r.Method != http.MethodPost:
		return http.StatusMethodNotAllowed, "405 Method Not Allowed."
	case req.Token == "" || (s.cfg.Token != "" && req.Token != s.cfg.Token):
		return http.StatusUnauthorized, "API Token is invalid."
	case !json.Valid(req.Body):
		return http.StatusBadRequest, "the body is not valid JSON"
	}
	if s.cfg.Respond != nil {
		if status, msg := s.cfg.Respond(req); status != 0 {
			if msg == "" {
				msg = http.StatusText(status)
			}
			return status, msg
		}
	}
	if s.cfg.PerSecond > 0 && !s.admit(req.At) {
		return http.StatusTooManyRequests, "Too many requests"
	}
	if v1 && s.cfg.V1Created {
		return http.StatusCreated, ""
	}
	return http.StatusOK, ""
}

// admit applies the rate limit: at most PerSecond accepted requests in any
// one-second window.
func (s *Server) admit(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := s.recent[:0]
	for _, t := range s.recent {
		if now.Sub(t) < time.Second {
			keep = append(keep, t)
		}
	}
	s.recent = keep
	if len(s.recent) >= s.cfg.PerSecond {
		return false
	}
	s.recent = append(s.recent, now)
	return true
}

// route recognises the two send endpoints and returns the contact segment.
func route(p string) (v1 bool, contact string, ok bool) {
	if rest, found := strings.CutPrefix(p, "/v1/message/sendContent/"); found && rest != "" {
		return true, rest, true
	}
	// The base URL may carry a path ("https://app.brand/api"): match the tail.
	if i := strings.Index(p, "/v1/message/sendContent/"); i >= 0 {
		rest := p[i+len("/v1/message/sendContent/"):]
		return true, rest, rest != ""
	}
	if i := strings.Index(p, "/v2/contact/"); i >= 0 {
		rest := p[i+len("/v2/contact/"):]
		if c, found := strings.CutSuffix(rest, "/message"); found && c != "" && !strings.Contains(c, "/") {
			return false, c, true
		}
	}
	return false, "", false
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

func summarize(body []byte) string {
	s := string(body)
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
