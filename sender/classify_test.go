package sender

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pregon/pregon/campaign"
)

// answer is one HTTP answer, as a server sends it.
type answer struct {
	api    string // "v1" or "v2": which endpoint was asked
	status int
	ctype  string
	body   string
	header http.Header
}

func (a answer) response() Response {
	h := http.Header{}
	for k, v := range a.header {
		h[k] = v
	}
	if a.ctype != "" {
		h.Set("Content-Type", a.ctype)
	}
	return Response{API: a.api, Status: a.status, Body: []byte(a.body), Header: h, Wrote: true}
}

func (a answer) path() string {
	if a.api == "v1" {
		return "/v1/message/sendContent/123"
	}
	return "/v2/contact/phone:+593991000001/message"
}

type want struct {
	state     campaign.State
	retry     bool
	stop      Problem
	permanent bool
	msgID     string
}

const (
	jsonType = "application/json"
	htmlType = "text/html; charset=utf-8"
	v1OK     = `{"status":"Success","message":"Message Sent","data":[]}`
	htmlPage = "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>"
)

// httpCases are the answers the policy knows, each with what it means.
var httpCases = []struct {
	name string
	a    answer
	want want
}{
	{"200 v1", answer{"v1", 200, jsonType, v1OK, nil}, want{state: campaign.Sent}},
	{"201 v1 lower-case success", answer{"v1", 201, jsonType, `{"status":"success","message":"Message Sent","data":{"id":7}}`, nil}, want{state: campaign.Sent, msgID: "7"}},
	{"200 v2 with messageId", answer{"v2", 200, jsonType, `{"messageId":123}`, nil}, want{state: campaign.Sent, msgID: "123"}},
	{"201 v2 with messageId", answer{"v2", 201, jsonType, `{"messageId":"abc"}`, nil}, want{state: campaign.Sent, msgID: "abc"}},
	{"200 html web site", answer{"v2", 200, htmlType, "<!DOCTYPE html><html><head><title>Acme</title></head></html>", nil}, want{state: campaign.Unknown, stop: NotTheAPI}},
	{"200 empty", answer{"v2", 200, "", "", nil}, want{state: campaign.Unknown, stop: NotTheAPI}},
	{"200 v1 status error", answer{"v1", 200, jsonType, `{"status":"error","message":"channel disabled","data":[]}`, nil}, want{state: campaign.Unknown, stop: NotTheAPI}},
	{"200 v2 answer to a v1 call", answer{"v1", 200, jsonType, `{"messageId":5}`, nil}, want{state: campaign.Unknown, stop: NotTheAPI}},
	{"401 token", answer{"v1", 401, jsonType, `{"status":"error","message":"API Token is invalid.","data":[]}`, nil}, want{state: campaign.Pending, stop: TokenRejected}},
	{"405 endpoint", answer{"v1", 405, jsonType, `{"status":"error","message":"405 Method Not Allowed.","data":[]}`, nil}, want{state: campaign.Pending, stop: WrongAddress}},
	{"301 redirect", answer{"v2", 301, htmlType, "moved", http.Header{"Location": {"https://x/"}}}, want{state: campaign.Pending, stop: WrongAddress}},
	{"400 validation", answer{"v2", 400, jsonType, `{"code":400,"message":"channelId is invalid"}`, nil}, want{state: campaign.Failed, permanent: true}},
	{"403 refused", answer{"v1", 403, jsonType, `{"status":"error","message":"Sorry, Url provided is not an image/audio/video file","data":[]}`, nil}, want{state: campaign.Failed, permanent: true}},
	{"404 contact", answer{"v2", 404, jsonType, `{"code":404,"message":"Contact not found"}`, nil}, want{state: campaign.Failed, permanent: true}},
	{"409 conflict", answer{"v2", 409, jsonType, `{"code":409,"message":"Conflict"}`, nil}, want{state: campaign.Failed, permanent: true}},
	{"400 validation with a list", answer{"v2", 400, jsonType, `{"code":400,"message":["text must not be empty","channelId must be a number"]}`, nil}, want{state: campaign.Failed, permanent: true}},
	{"404 in v2's shape to a v1 call", answer{"v1", 404, jsonType, `{"code":404,"message":"Not found"}`, nil}, want{state: campaign.Pending, stop: NotTheAPI}},
	{"404 in v1's shape to a v2 call", answer{"v2", 404, jsonType, `{"status":"error","message":"Not found","data":[]}`, nil}, want{state: campaign.Pending, stop: NotTheAPI}},
	{"404 html page", answer{"v2", 404, htmlType, htmlPage, nil}, want{state: campaign.Pending, stop: NotTheAPI}},
	{"403 waf page", answer{"v2", 403, htmlType, "<html><body>Access denied</body></html>", nil}, want{state: campaign.Pending, stop: NotTheAPI}},
	{"403 gateway json", answer{"v2", 403, jsonType, `{"message":"Missing Authentication Token"}`, nil}, want{state: campaign.Pending, stop: NotTheAPI}},
	{"401 proxy login page", answer{"v2", 401, htmlType, "<html>login</html>", nil}, want{state: campaign.Pending, stop: NotTheAPI}},
	{"408 request timeout", answer{"v2", 408, jsonType, `{"code":408,"message":"Request Timeout"}`, nil}, want{state: campaign.Pending, retry: true}},
	{"429 rate limit", answer{"v2", 429, jsonType, `{"code":429,"message":"Too many requests"}`, http.Header{"Retry-After": {"1"}}}, want{state: campaign.Pending, retry: true}},
	{"429 from a cdn", answer{"v2", 429, htmlType, "<html>slow down</html>", nil}, want{state: campaign.Pending, retry: true}},
	{"449 try later", answer{"v2", 449, jsonType, `{"code":449,"message":"try again later"}`, nil}, want{state: campaign.Pending, retry: true}},
	{"503 unavailable", answer{"v2", 503, htmlType, "<html>maintenance</html>", nil}, want{state: campaign.Pending, retry: true}},
	{"502 bad gateway may have delivered", answer{"v2", 502, htmlType, "<html>502 Bad Gateway</html>", nil}, want{state: campaign.Unknown}},
	{"500 may have delivered", answer{"v2", 500, jsonType, `{"code":500,"message":"Internal error"}`, nil}, want{state: campaign.Unknown}},
	{"504 may have delivered", answer{"v2", 504, htmlType, "<html>504 Gateway Time-out</html>", nil}, want{state: campaign.Unknown}},
}

func check(t *testing.T, v Verdict, w want) {
	t.Helper()
	if v.Outcome.State != w.state || v.Retry != w.retry || v.Stop != w.stop || v.Outcome.Permanent != w.permanent || v.Outcome.MessageID != w.msgID {
		t.Errorf("got state=%s retry=%v stop=%v permanent=%v id=%q, want %s %v %v %v %q (%+v)",
			v.Outcome.State, v.Retry, v.Stop, v.Outcome.Permanent, v.Outcome.MessageID,
			w.state, w.retry, w.stop, w.permanent, w.msgID, v.Outcome.Reason)
	}
}

func TestClassify(t *testing.T) {
	for _, tt := range httpCases {
		t.Run(tt.name, func(t *testing.T) { check(t, Classify(tt.a.response()), tt.want) })
	}
	refused := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}
	reset := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}
	timeout := &url.Error{Op: "Post", URL: "http://x", Err: context.DeadlineExceeded}
	noHost := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}}}
	transport := []struct {
		name string
		resp Response
		want want
	}{
		{"refused before writing", Response{Err: refused}, want{state: campaign.Pending, retry: true}},
		{"no such host", Response{Err: noHost}, want{state: campaign.Pending, stop: Unreachable}},
		{"reset after writing", Response{Err: reset, Wrote: true}, want{state: campaign.Unknown}},
		{"timeout after writing", Response{Err: timeout, Wrote: true}, want{state: campaign.Unknown}},
		{"timeout before writing", Response{Err: timeout}, want{state: campaign.Pending, retry: true}},
	}
	for _, tt := range transport {
		t.Run(tt.name, func(t *testing.T) { check(t, Classify(tt.resp), tt.want) })
	}
}

// Every row of the policy again, this time as real answers over real
// sockets through Client.Send, so what the client makes of the wire is
// tested too (headers, bodies, what counts as written).
func TestClassifyOverSockets(t *testing.T) {
	payload := []byte(`{"message":{"type":"text","text":"hola"}}`)
	for _, tt := range httpCases {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				for k, v := range tt.a.header {
					w.Header()[k] = v
				}
				if tt.a.ctype != "" {
					w.Header().Set("Content-Type", tt.a.ctype)
				}
				w.WriteHeader(tt.a.status)
				io.WriteString(w, tt.a.body)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, time.Second)
			check(t, Classify(c.Send(context.Background(), tt.a.path(), payload)), tt.want)
		})
	}

	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		r := newTestClient(t, "http://"+addr, time.Second).Send(context.Background(), "/v2/contact/id:1/message", payload)
		check(t, Classify(r), want{state: campaign.Pending, retry: true})
	})
	t.Run("no such host", func(t *testing.T) {
		r := newTestClient(t, "http://pregon-test.invalid", 5*time.Second).Send(context.Background(), "/v2/contact/id:1/message", payload)
		check(t, Classify(r), want{state: campaign.Pending, stop: Unreachable})
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := httptest.NewTLSServer(http.NotFoundHandler())
		defer srv.Close()
		r := newTestClient(t, srv.URL, time.Second).Send(context.Background(), "/v2/contact/id:1/message", payload)
		check(t, Classify(r), want{state: campaign.Pending, stop: Unreachable})
	})
	t.Run("https to a plain http port", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		r := newTestClient(t, strings.Replace(srv.URL, "http:", "https:", 1), time.Second).Send(context.Background(), "/v2/contact/id:1/message", payload)
		check(t, Classify(r), want{state: campaign.Pending, stop: Unreachable})
	})
	t.Run("reset after the request arrived", func(t *testing.T) {
		addr := rawServer(t, func(c net.Conn) {
			buf := make([]byte, 4096)
			c.Read(buf)
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		})
		r := newTestClient(t, "http://"+addr, time.Second).Send(context.Background(), "/v2/contact/id:1/message", payload)
		check(t, Classify(r), want{state: campaign.Unknown})
	})
	t.Run("no answer after the request arrived", func(t *testing.T) {
		addr := rawServer(t, func(c net.Conn) {
			buf := make([]byte, 4096)
			c.Read(buf)
			time.Sleep(time.Second)
			c.Close()
		})
		r := newTestClient(t, "http://"+addr, 200*time.Millisecond).Send(context.Background(), "/v2/contact/id:1/message", payload)
		check(t, Classify(r), want{state: campaign.Unknown})
	})
	t.Run("timeout while waiting for the slot", func(t *testing.T) {
		var received int
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { received++ }))
		defer srv.Close()
		c := newTestClient(t, srv.URL, 100*time.Millisecond)
		c.gate = func(ctx context.Context) (func() int, error) { <-ctx.Done(); return nil, ctx.Err() }
		start := time.Now()
		r := c.Send(context.Background(), "/v2/contact/id:1/message", payload)
		check(t, Classify(r), want{state: campaign.Pending, retry: true})
		if received != 0 {
			t.Errorf("the server received %d requests that were never admitted", received)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("the wait at the gate ignored the request's timeout (%s)", el)
		}
	})
}

func newTestClient(t *testing.T, base string, timeout time.Duration) *Client {
	t.Helper()
	c, err := NewClient(base, "t0ken", 4, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rawServer serves each connection with handle, on a loopback port.
func rawServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return ln.Addr().String()
}

func TestClassifyKeepsPlatformMessage(t *testing.T) {
	v := Classify(Response{Status: 403, Body: []byte(`{"code":403,"message":"Contact has opted out"}`)})
	if want := (campaign.Reason{Code: campaign.Refused, Args: []any{403, "Contact has opted out"}}); !reflect.DeepEqual(v.Outcome.Reason, want) {
		t.Errorf("reason = %+v, want %+v", v.Outcome.Reason, want)
	}
	v = Classify(Response{Err: &url.Error{Op: "Post", URL: "http://h/v2/contact/phone:+1/message", Err: errors.New("boom")}, Wrote: true})
	boom := campaign.Reason{Code: campaign.Network, Args: []any{"boom"}}
	if want := (campaign.Reason{Code: campaign.NoAnswer, Cause: &boom}); !reflect.DeepEqual(v.Outcome.Reason, want) {
		t.Errorf("reason = %+v, want %+v", v.Outcome.Reason, want)
	}
	v = Classify(answer{"v2", 400, jsonType, `{"code":400,"message":["text must not be empty","channelId must be a number"]}`, nil}.response())
	if want := []any{400, "text must not be empty; channelId must be a number"}; !reflect.DeepEqual(v.Outcome.Reason.Args, want) {
		t.Errorf("a list of messages: %q", v.Outcome.Reason.Args)
	}
	v = Classify(answer{"v2", 404, htmlType, htmlPage, nil}.response())
	if a := v.Outcome.Reason.Args; len(a) != 2 || !strings.Contains(a[1].(string), `text/html; charset=utf-8, "<html><head><title>404 Not Found</title>`) {
		t.Errorf("a web page's answer should say what came back: %q", a)
	}
}

func TestCheckToken(t *testing.T) {
	for _, tc := range []struct{ token, want string }{
		{"abc.DEF-123_~+/=", ""},
		{"", "empty"},
		{"abc\r", `carriage return (\r), as files saved on Windows end their lines at its end`},
		{"abc def", "a space or a tab at character 4 of 7"},
		{" abc", "a space or a tab at its start"},
		{"ab\x01c", "a control character"},
		{"abcñ", "not ASCII"},
	} {
		err := CheckToken(tc.token)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.token, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: got %v, want %q", tc.token, err, tc.want)
		case err != nil && tc.token != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.token)):
			t.Errorf("the error shows the token: %v", err)
		}
	}
}

func TestInsecure(t *testing.T) {
	for base, want := range map[string]bool{
		"https://api.brand.com":       false,
		"http://api.brand.com/api":    true,
		"http://127.0.0.1:8025":       false,
		"http://127.3.4.5:8025":       false,
		"http://localhost:8025":       false,
		"http://[::1]:8025":           false,
		"http://192.168.1.10:8025":    true,
		"http://localhost.evil.com:1": true,
	} {
		u, err := ParseBaseURL(base)
		if err != nil {
			t.Fatal(err)
		}
		if got := Insecure(u); got != want {
			t.Errorf("Insecure(%s) = %v, want %v", base, got, want)
		}
	}
}

// A base URL refused for carrying credentials, a query or a fragment, or
// for its scheme, is shown with those parts masked: they may hold a
// token.
func TestBaseURLErrorMasksSecrets(t *testing.T) {
	for _, raw := range []string{"htps://bob:SECRETP@api.brand.com", "https://api.brand.com/?access_token=SECRETQ",
		"https://bob:SECRETP@api.brand.com", "https://api.brand.com/#SECRETF", "%zz://x@SECRETZ"} {
		_, err := ParseBaseURL(raw)
		if err == nil || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("ParseBaseURL(%q) = %v", raw, err)
		}
	}
}
