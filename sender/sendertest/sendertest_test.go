package sendertest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// send makes one request to the fake and returns its answer with the body
// read.
func send(t *testing.T, method, url, token, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// A rehearsal marks every answer, whatever its status; a fake pretending
// to be the platform marks none.
func TestSandboxHeaderOnEveryAnswer(t *testing.T) {
	cfg := Config{Token: "t", Respond: func(r *Request) (int, string) {
		if r.Contact == "phone:+593990000429" {
			return http.StatusTooManyRequests, "Too many requests"
		}
		return 0, ""
	}}
	cases := []struct {
		name, method, path, token, body string
		status                          int
	}{
		{"v2 success", "POST", "/v2/contact/phone:+593990000001/message", "t", `{}`, 200},
		{"v1 success", "POST", "/v1/message/sendContent/3001", "t", `{}`, 200},
		{"bad token", "POST", "/v2/contact/phone:+593990000001/message", "x", `{}`, 401},
		{"bad body", "POST", "/v2/contact/phone:+593990000001/message", "t", `{`, 400},
		{"wrong method", "GET", "/v1/message/sendContent/3001", "t", ``, 405},
		{"rate limit", "POST", "/v2/contact/phone:+593990000429/message", "t", `{}`, 429},
		{"unknown path", "POST", "/v3/contact/phone:+593990000001/message", "t", `{}`, 404},
		{"v2 read", "GET", "/v2/contact/phone:+593990000001/message/1000", "t", ``, 200},
		{"v2 list", "GET", "/v2/contact/phone:+593990000001/message/list?limit=5", "t", ``, 200},
		{"v2 read of another's", "GET", "/v2/contact/phone:+593990000002/message/1000", "t", ``, 404},
		{"v2 read without token", "GET", "/v2/contact/phone:+593990000001/message/list", "", ``, 401},
	}
	for _, sandbox := range []bool{true, false} {
		cfg.Sandbox = sandbox
		s := NewServer(t, cfg)
		for _, c := range cases {
			resp, _ := send(t, c.method, s.URL+c.path, c.token, c.body)
			if resp.StatusCode != c.status {
				t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
			}
			want := ""
			if sandbox {
				want = "1"
			}
			if got := resp.Header.Get(SandboxHeader); got != want {
				t.Errorf("Sandbox %v, %s: %s = %q, want %q", sandbox, c.name, SandboxHeader, got, want)
			}
		}
	}
	site := NewServer(t, Config{Sandbox: true, WebSite: true})
	if resp, _ := send(t, "GET", site.URL+"/", "", ""); resp.Header.Get(SandboxHeader) != "1" {
		t.Errorf("web site page: %s = %q, want 1", SandboxHeader, resp.Header.Get(SandboxHeader))
	}
}

// A path outside the API gets the web server's HTML 404; a send endpoint
// asked with the wrong method gets the API's own 405, in its version's
// shape.
func TestUnknownPathIsAWebServersNotFound(t *testing.T) {
	s := NewServer(t, Config{})
	cases := []struct {
		name, method, path string
		status             int
		contentType, body  string
	}{
		{"root", "GET", "/", 404, "text/html; charset=utf-8", "<title>404 Not Found</title>"},
		{"no version", "POST", "/contact/phone:+593990000001/message", 404, "text/html; charset=utf-8", "<title>404 Not Found</title>"},
		{"v2 read of a message the platform lacks", "GET", "/v2/contact/phone:+593990000001/message/1001", 404, "application/json",
			`{"code":404,"message":"Message not found"}`},
		{"v2 read beyond a message", "GET", "/v2/contact/phone:+593990000001/message/1001/status", 404, "text/html; charset=utf-8", "<title>404 Not Found</title>"},
		{"v2 list wrong method", "POST", "/v2/contact/phone:+593990000001/message/list", 405, "application/json",
			`{"code":405,"message":"405 Method Not Allowed."}`},
		{"v1 without contact", "POST", "/v1/message/sendContent/", 404, "text/html; charset=utf-8", "<title>404 Not Found</title>"},
		{"v1 wrong method", "GET", "/v1/message/sendContent/3001", 405, "application/json",
			`{"status":"error","message":"405 Method Not Allowed.","data":[]}`},
		{"v2 wrong method", "PUT", "/api/v2/contact/phone:+593990000001/message", 405, "application/json",
			`{"code":405,"message":"405 Method Not Allowed."}`},
	}
	for _, c := range cases {
		resp, body := send(t, c.method, s.URL+c.path, "t", `{}`)
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != c.contentType || !strings.Contains(body, c.body) {
			t.Errorf("%s: %d %q %q, want %d %q and a body with %q", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), body, c.status, c.contentType, c.body)
		}
	}
	for i, r := range s.Requests() {
		if r.Status != cases[i].status {
			t.Errorf("%s: recorded status %d, want %d", cases[i].name, r.Status, cases[i].status)
		}
	}
}

// A web site answers 200 with a page to anything, a send included, and
// delivers nothing.
func TestWebSiteAnswersEverythingWithAPage(t *testing.T) {
	s := NewServer(t, Config{WebSite: true, Token: "t"})
	for _, c := range []struct{ method, path, token string }{
		{"POST", "/v2/contact/phone:+593990000001/message", "t"},
		{"POST", "/api/v1/message/sendContent/3001", ""},
		{"GET", "/v1/message/sendContent/3001", "wrong"},
		{"DELETE", "/no/such/thing", "t"},
	} {
		resp, body := send(t, c.method, s.URL+c.path, c.token, `{}`)
		ct := resp.Header.Get("Content-Type")
		if resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, "<html") {
			t.Errorf("%s %s: %d %q %q, want 200 and an HTML page", c.method, c.path, resp.StatusCode, ct, body)
		}
	}
	if n := len(s.Requests()); n != 4 {
		t.Errorf("recorded %d requests, want 4", n)
	}
	if got := s.ByContact(); len(got) != 0 {
		t.Errorf("ByContact = %v: a web site delivered messages", got)
	}
}

// V1Created changes v1's success answer and nothing else.
func TestV1Created(t *testing.T) {
	cases := []struct {
		name      string
		v1Created bool
		path      string
		status    int
		body      string
	}{
		{"v1", false, "/v1/message/sendContent/3001", 200, `{"status":"Success","message":"Message Sent","data":[]}`},
		{"v1 created", true, "/v1/message/sendContent/3001", 201, `{"status":"success","message":"Message Sent","data":{"id":1000}}`},
		{"v2", false, "/v2/contact/id:3001/message", 200, `{"messageId":1000}`},
		{"v2 beside v1 created", true, "/v2/contact/id:3001/message", 200, `{"messageId":1000}`},
	}
	for _, c := range cases {
		s := NewServer(t, Config{V1Created: c.v1Created})
		resp, body := send(t, "POST", s.URL+c.path, "t", `{}`)
		if resp.StatusCode != c.status || body != c.body || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q %q, want %d %q", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), body, c.status, c.body)
		}
		if got := s.ByContact()["3001"] + s.ByContact()["id:3001"]; got != 1 {
			t.Errorf("%s: ByContact counted %d accepted requests, want 1", c.name, got)
		}
	}
}
