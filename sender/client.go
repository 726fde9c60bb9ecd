package sender

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds how much of an answer is kept: enough for any error
// message, never a whole HTML error page.
const maxBody = 4 << 10

// Client makes Messages API requests.
type Client struct {
	base    *url.URL
	token   string
	timeout time.Duration
	http    *http.Client
	// gate, when set, is called just before each request's first byte is
	// written to its connection (the moment that counts for the
	// platform's rate limit); it waits for the request's slot, or fails
	// when ctx ends first, and the function it returns is called once the
	// write is done.
	gate func(ctx context.Context) (written func() int, err error)
	// roots, when set, replaces the system's certificate authorities
	// (tests of the TLS path).
	roots *x509.CertPool
}

// NewClient returns a client for the API at baseURL that authenticates
// with token and keeps up to conns connections open. timeout bounds each
// request, answer included.
func NewClient(baseURL, token string, conns int, timeout time.Duration) (*Client, error) {
	u, err := ParseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if err := CheckToken(token); err != nil {
		return nil, err
	}
	c := &Client{base: u, token: token, timeout: timeout}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns
	tr.MaxIdleConnsPerHost = conns
	tr.IdleConnTimeout = 90 * time.Second
	tr.DialContext, tr.DialTLSContext = c.dialers()
	tr.ForceAttemptHTTP2 = false
	c.http = &http.Client{
		Transport: tr,
		// A redirect means a wrong base URL; following it would turn the
		// POST into a GET. Report it instead (see Classify).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// Response is what came back for one request.
type Response struct {
	API    string // "v1" or "v2", from the request's path
	Status int
	Body   []byte // at most maxBody bytes
	Header http.Header
	// Err is a transport error: no answer arrived.
	Err error
	// Wrote is true once any byte of the request went to the connection:
	// from then on, a lost answer may hide a delivered message. It is
	// decided at the connection, not by the HTTP client's trace, which
	// fires before the bytes are flushed.
	Wrote bool
	// WroteAt is when the request's first write ended (zero when nothing
	// was written, or the connection was not ours), and InWindow how many
	// sends the rate window held then, this one included.
	WroteAt  time.Time
	InWindow int
	// Held: the request waited for its slot at the rate limit and its
	// time ran out (or the run stopped) first. Nothing of it left, and it
	// says nothing about the platform.
	Held bool
}

// FromSandbox reports whether a pregon sandbox answered, not the platform.
func (r Response) FromSandbox() bool { return r.Header.Get(SandboxHeader) != "" }

// SandboxHeader marks every answer of a pregon sandbox (sendertest with
// Config.Sandbox, and `pregon sandbox`), so that a rehearsal is recognised
// as one whatever address it was reached at.
const SandboxHeader = "X-Pregon-Sandbox"

// Send posts payload to the API path. It does not retry: whether a retry
// is safe depends on what happened, which is Classify's call.
//
// ctx bounds the request only until it is written: a request still
// waiting for its slot when ctx ends is not made, but once written it is
// not cut (that would make its outcome unknown), and only the client's
// timeout bounds it.
func (c *Client) Send(ctx context.Context, path string, payload []byte) Response {
	return c.do(ctx, http.MethodPost, path, payload, true)
}

// Probe asks the address once, before any message: any HTTP answer proves
// it reachable, and a pregon sandbox marks its answers (FromSandbox). With
// v2 it reads the message list of a contact that cannot exist (id:0),
// with the token: the API's answer, in its own shape, proves the address,
// the version and the token before anything is sent. v1 has no reads: a
// GET of the base URL, without the token.
func (c *Client) Probe(ctx context.Context, api string) Response {
	if api == "v2" {
		return c.do(ctx, http.MethodGet, "/v2/contact/id:0/message/list?limit=1", nil, true)
	}
	return c.do(ctx, http.MethodGet, "/", nil, false)
}

// do makes one request; see Send.
func (c *Client) do(ctx context.Context, method, path string, payload []byte, auth bool) Response {
	r := Response{API: "v2"}
	if strings.HasPrefix(path, "/v1/") {
		r.API = "v1"
	}
	u := *c.base
	path, u.RawQuery, _ = strings.Cut(path, "?")
	// path arrives escaped (a Viber id's Base64 may hold '/', sent as %2F).
	unescaped, err := url.PathUnescape(path)
	if err != nil {
		r.Err = fmt.Errorf("bad API path %q: %w", path, err)
		return r
	}
	u.Path = c.base.Path + unescaped
	u.RawPath = c.base.EscapedPath() + path

	reqCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	// The wait for a slot ends with the run (ctx) or the request's time.
	gateCtx, cancelGate := context.WithCancel(reqCtx)
	defer cancelGate()
	defer context.AfterFunc(ctx, cancelGate)()
	a := &attempt{ctx: gateCtx}
	gated, heldOutside, traceWrote := false, false, false
	trace := &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if gc, ok := info.Conn.(*gatedConn); ok {
				gated = true
				gc.next.Store(a) // the gate runs at the request's first write
			} else if c.gate != nil {
				// A connection not made by our dialers (a proxy's TLS
				// tunnel): pace here, as close to the write as we get,
				// and give the request up when no slot came.
				written, err := c.gate(gateCtx)
				if err != nil {
					heldOutside = true
					cancel()
					return
				}
				written()
			}
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) { traceWrote = info.Err == nil },
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(reqCtx, trace), method, u.String(), body)
	if err != nil {
		r.Err = err
		return r
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	// No Idempotency-Key header, on purpose: with one, Go's transport
	// silently re-sends a POST on a reused connection, which here means a
	// customer may get the message twice.
	resp, err := c.http.Do(req)
	if err != nil {
		r.Err = err
		// From here on no byte of this request may leave; a write under
		// way finishes first, so what it did is known.
		r.Wrote, r.Held, r.WroteAt, r.InWindow = a.abandon()
		r.Wrote = r.Wrote || (!gated && traceWrote)
		r.Held = r.Held || (heldOutside && !r.Wrote)
		return r
	}
	defer resp.Body.Close()
	_, _, r.WroteAt, r.InWindow = a.abandon()
	r.Wrote = true
	r.Status = resp.StatusCode
	r.Header = resp.Header
	r.Body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		// The status line arrived, so the platform decided; the body is
		// only detail.
		r.Body = append(r.Body, []byte(" (answer cut short)")...)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
	return r
}

// BaseURLError is a base URL no request should go to.
type BaseURLError struct {
	URL string // as given, or redacted when it carries credentials
	// Carries: it has credentials, a query or a fragment; otherwise it is
	// not an absolute http or https URL.
	Carries bool
}

func (e *BaseURLError) Error() string {
	if e.Carries {
		return fmt.Sprintf("base URL %q: must not carry credentials, a query or a fragment", e.URL)
	}
	return fmt.Sprintf("base URL %q: want an absolute http or https URL, like https://api.example-brand.com", e.URL)
}

// ParseBaseURL checks an API base URL: absolute http or https, with a
// host, and neither credentials nor a query (a token belongs in a header,
// never in a URL).
func ParseBaseURL(baseURL string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &BaseURLError{URL: shown(baseURL, u, err)}
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, &BaseURLError{URL: shown(baseURL, u, err), Carries: true}
	}
	// Names are case-insensitive: one destination, one spelling.
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	return u, nil
}

// shown is a base URL as an error may show it: a query or fragment, or
// user info, may hold a secret (a token pasted into the URL), so they are
// masked; what cannot be parsed is masked from its first '@', '?' or '#'.
func shown(raw string, u *url.URL, err error) string {
	if err != nil || u == nil {
		if i := strings.IndexAny(raw, "@?#"); i >= 0 {
			return raw[:i] + "…"
		}
		return raw
	}
	c := *u
	if c.User != nil {
		c.User = url.User("…")
	}
	if c.RawQuery != "" {
		c.RawQuery, c.ForceQuery = "", true
	}
	s := c.String()
	if c.ForceQuery {
		s = strings.Replace(s, "?", "?…", 1)
	}
	if c.Fragment != "" {
		s = strings.Replace(s, "#"+c.EscapedFragment(), "#…", 1)
	}
	return s
}

// Insecure reports whether requests to u would carry the token across a
// network in clear: plain http to a host that is not this machine.
func Insecure(u *url.URL) bool {
	if u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// TokenError is a token that cannot be sent as a header value. It says
// what is wrong and where, never the token.
type TokenError struct {
	What string // empty, cr, lf, space, control or non_ascii
	At   int    // the byte's position, from 0
	Len  int    // the token's length in bytes
}

func (e *TokenError) Error() string {
	if e.What == "empty" {
		return "the API token is empty"
	}
	what := map[string]string{"cr": `a carriage return (\r), as files saved on Windows end their lines`, "lf": `a line break (\n)`,
		"space": "a space or a tab", "control": "a control character", "non_ascii": "a character that is not ASCII"}[e.What]
	where := fmt.Sprintf("at character %d of %d", e.At+1, e.Len)
	switch e.At {
	case 0:
		where = "at its start"
	case e.Len - 1:
		where = "at its end"
	}
	return fmt.Sprintf("the API token contains %s %s: a token is one word of letters, digits and signs; copy it again", what, where)
}

// CheckToken refuses a token that cannot be sent as a header value, saying
// what is wrong without showing it: a token pasted with a space, or read
// from a file saved on Windows (a trailing carriage return), would
// otherwise fail every request the same way.
func CheckToken(token string) error {
	if token == "" {
		return &TokenError{What: "empty"}
	}
	for i := 0; i < len(token); i++ {
		b := token[i]
		var what string
		switch {
		case b == '\r':
			what = "cr"
		case b == '\n':
			what = "lf"
		case b == ' ' || b == '\t':
			what = "space"
		case b < 0x20 || b == 0x7f:
			what = "control"
		case b >= 0x80:
			what = "non_ascii"
		default:
			continue
		}
		return &TokenError{What: what, At: i, Len: len(token)}
	}
	return nil
}

// retryAfter reads the Retry-After header: seconds, or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// headerInt reads an integer header, or -1.
func headerInt(h http.Header, name string) int {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(name)))
	if err != nil {
		return -1
	}
	return n
}
