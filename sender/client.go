package sender

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
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
	base  *url.URL
	token string
	http  *http.Client
	// gate, when set, is called just before each request is written to
	// its connection (the moment that counts for the platform's rate
	// limit); the function it returns is called once the write is done.
	gate func() (written func())
	// roots, when set, replaces the system's certificate authorities
	// (tests of the TLS path).
	roots *x509.CertPool
}

// NewClient returns a client for the API at baseURL that authenticates
// with token and keeps up to conns connections open. timeout bounds each
// request, answer included.
func NewClient(baseURL, token string, conns int, timeout time.Duration) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base URL %q: want an absolute http or https URL", baseURL)
	}
	if u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("base URL %q: must not carry credentials or a query", u.Redacted())
	}
	c := &Client{base: u, token: token}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns
	tr.MaxIdleConnsPerHost = conns
	tr.IdleConnTimeout = 90 * time.Second
	tr.DialContext, tr.DialTLSContext = c.dialers()
	tr.ForceAttemptHTTP2 = false
	c.http = &http.Client{
		Transport: tr,
		Timeout:   timeout,
		// A redirect means a wrong base URL; following it would turn the
		// POST into a GET. Report it instead (see Classify).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// Response is what came back for one request.
type Response struct {
	Status int
	Body   []byte // at most maxBody bytes
	Header http.Header
	// Err is a transport error: no answer arrived.
	Err error
	// Wrote is true once the whole request was written to the connection:
	// from then on, a lost answer may hide a delivered message.
	Wrote bool
}

// Send posts payload to the API path. It does not retry: whether a retry
// is safe depends on what happened, which is Classify's call.
func (c *Client) Send(ctx context.Context, path string, payload []byte) Response {
	var r Response
	u := *c.base
	// path arrives escaped (a Viber id's Base64 may hold '/', sent as %2F).
	unescaped, err := url.PathUnescape(path)
	if err != nil {
		r.Err = fmt.Errorf("bad API path %q: %w", path, err)
		return r
	}
	u.Path = c.base.Path + unescaped
	u.RawPath = c.base.EscapedPath() + path
	trace := &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if gc, ok := info.Conn.(*gatedConn); ok {
				gc.armed.Store(true) // the gate runs at the request's first write
			} else if c.gate != nil {
				c.gate()() // a connection not made by our dialers (a proxy's)
			}
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				r.Wrote = true
			}
		},
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, u.String(), bytes.NewReader(payload))
	if err != nil {
		r.Err = err
		return r
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	// No Idempotency-Key header, on purpose: with one, Go's transport
	// silently re-sends a POST on a reused connection, which here means a
	// customer may get the message twice.
	resp, err := c.http.Do(req)
	if err != nil {
		r.Err = err
		return r
	}
	defer resp.Body.Close()
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
