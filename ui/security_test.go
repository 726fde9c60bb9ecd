package ui

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Without the key nothing is served, not even the style sheet; a wrong
// key is refused.
func TestNoKeyNoPage(t *testing.T) {
	e := serve(t, Options{})
	for _, path := range []string{"/", "/prepare", "/results", "/static/app.css", "/events?mode=real&name=x", "/export?mode=real&name=x"} {
		resp, body := e.get(http.DefaultClient, path)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without the key: %d", path, resp.StatusCode)
		}
		if strings.Contains(body, "<form") {
			t.Errorf("GET %s without the key shows the page", path)
		}
	}
	resp, _ := e.get(http.DefaultClient, "/?key=not-the-key")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a wrong key: %d", resp.StatusCode)
	}
	resp, _ = e.post(http.DefaultClient, "/start", url.Values{"mode": {"rehearsal"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without the key: %d", resp.StatusCode)
	}
}

// The key comes in the URL once: it becomes a cookie that scripts cannot
// read and other sites cannot make the browser send, and the browser is
// sent on without it in the address.
func TestKeyBecomesAStrictHttpOnlyCookie(t *testing.T) {
	e := serve(t, Options{})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := e.get(c, strings.TrimPrefix(e.srv.URL(), e.base)+"&campaign=d%2Fx.json")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?campaign=d%2Fx.json" {
		t.Errorf("opening the URL: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Value != e.srv.key {
		t.Errorf("cookie: %+v", cookies)
	}
}

// A POST needs the page's token and its own origin: another site's form
// or script is refused, even from the browser that holds the cookie.
func TestForeignPostsRefused(t *testing.T) {
	e := serve(t, Options{Token: testToken})
	e.campaignFiles("promo", 3)
	c := e.client()
	form := url.Values{"mode": {"real"}, "campaign": {"d/promo.json"}, "contacts": {"d/promo.csv"}, "csrf": {e.srv.csrf}}
	for _, tc := range []struct {
		name   string
		origin string
		csrf   string
	}{
		{"foreign origin", "http://evil.example", e.srv.csrf},
		{"null origin", "null", e.srv.csrf},
		{"no origin", "", e.srv.csrf},
		{"no token", e.base, ""},
		{"wrong token", e.base, "x" + e.srv.csrf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form.Set("csrf", tc.csrf)
			req, _ := http.NewRequest(http.MethodPost, e.base+"/start", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			resp, _ := e.do(c, req)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403", resp.StatusCode)
			}
		})
	}
	if n := len(e.fake.Messages()); n != 0 {
		t.Errorf("a refused POST sent %d messages", n)
	}
	if _, err := os.Stat(e.o.Ledger); err == nil {
		t.Error("a refused POST made a ledger")
	}
}

// A name that resolves to this machine (DNS rebinding) is another site:
// the browser would send it no cookie, and the page answers it nothing.
func TestForeignHostRefused(t *testing.T) {
	e := serve(t, Options{})
	c := e.client()
	u, _ := url.Parse(e.base)
	withHost := func(host string) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, e.base+"/prepare", nil)
		req.Host = host
		// The client's jar would not send the cookie to another host:
		// a rebinding attacker's page would have it no more, but the
		// check must not depend on that.
		for _, ck := range c.Jar.Cookies(u) {
			req.AddCookie(ck)
		}
		return req
	}
	for _, host := range []string{"evil.example", "evil.example:" + u.Port(), "127.0.0.1:1", "localhost.evil.example:" + u.Port()} {
		resp, body := e.do(http.DefaultClient, withHost(host))
		if resp.StatusCode != http.StatusMisdirectedRequest || strings.Contains(body, "<form") {
			t.Errorf("Host %s: %d", host, resp.StatusCode)
		}
	}
	if resp, _ := e.do(http.DefaultClient, withHost("localhost:"+u.Port())); resp.StatusCode != http.StatusOK {
		t.Errorf("Host localhost: %d", resp.StatusCode)
	}
}

// An upload is kept in pregon's folder, readable by its user only, under
// a name of its own; one over the limit is refused and leaves nothing.
func TestUploadKeptPrivateAndLimited(t *testing.T) {
	e := serve(t, Options{MaxUpload: 1000})
	c := e.client()
	upload := func(name, content string) *http.Response {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("csrf", e.srv.csrf)
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write([]byte(content))
		mw.Close()
		req, _ := http.NewRequest(http.MethodPost, e.base+"/upload", &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Origin", e.base)
		resp, _ := e.do(c, req)
		return resp
	}
	if resp := upload("../../clientes nuevos.csv", "phone\n+593991000001\n"); resp.StatusCode != http.StatusOK ||
		resp.Request.URL.Query().Get("contacts") != "u/clientes nuevos.csv" {
		t.Fatalf("upload: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	fi, err := os.Stat(filepath.Join(e.o.StateDir, "uploads", "clientes nuevos.csv"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the upload: %v %v", fi, err)
	}
	if resp := upload("otro.csv", strings.Repeat("x", 1001)); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("too large: %d", resp.StatusCode)
	}
	if resp := upload("programa.exe", "MZ"); resp.StatusCode != http.StatusOK {
		t.Errorf("not a csv: %d", resp.StatusCode)
	}
	entries, _ := os.ReadDir(filepath.Join(e.o.StateDir, "uploads"))
	if len(entries) != 1 {
		t.Errorf("uploads: %v", entries)
	}
}

// The API token stays in the server: no page, event, download or header
// of a whole prepare, confirm, send and results carries it.
func TestTokenNeverReachesTheBrowser(t *testing.T) {
	e := serve(t, Options{Token: testToken})
	e.campaignFiles("promo", 5)
	c := e.client()
	pick := url.Values{"campaign": {"d/promo.json"}, "contacts": {"d/promo.csv"}}
	var bodies []string
	keep := func(resp *http.Response, body string) {
		t.Helper()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s %s: %d\n%s", resp.Request.Method, resp.Request.URL, resp.StatusCode, body)
		}
		var h strings.Builder
		resp.Header.Write(&h)
		bodies = append(bodies, h.String(), body)
	}
	for _, path := range []string{"/prepare?" + pick.Encode(), "/rehearse?" + pick.Encode(), "/send?" + pick.Encode(), "/static/app.js", "/static/app.css"} {
		keep(e.get(c, path))
	}
	keep(e.post(c, "/check", pick))
	resp, body := e.post(c, "/confirm", pick)
	keep(resp, body)
	if !strings.Contains(body, "4 messages to 127.0.0.1:") {
		t.Errorf("the confirmation does not state the count and the host:\n%s", body)
	}
	start := url.Values{"mode": {"real"}, "campaign": pick["campaign"], "contacts": pick["contacts"]}
	start.Set("count", hiddenValue(body, "count"))
	start.Set("digest", hiddenValue(body, "digest"))
	keep(e.post(c, "/start", start))
	waitFor(t, "the send's end", func() bool {
		r := e.srv.runs.get(runKey{mode: real, campaign: "promo"})
		return r != nil && r.view().phase == ended
	})
	bodies = append(bodies, e.firstEvent(c, real, "promo"))
	for _, path := range []string{"/live?mode=real&name=promo", "/results", "/results?mode=rehearsal",
		"/report?mode=real&name=promo", "/export?mode=real&name=promo"} {
		keep(e.get(c, path))
	}
	for _, b := range bodies {
		if strings.Contains(b, testToken) {
			t.Fatalf("the token reached the browser:\n%s", b)
		}
	}
	if got := len(e.fake.Messages()); got != 4 {
		t.Errorf("the fake got %d messages, want 4", got)
	}
	for _, r := range e.fake.Messages() {
		if r.Token != testToken {
			t.Errorf("a request went with token %q", r.Token)
		}
	}
}

// The browser is opened on a file, not on the URL: a process's arguments
// are for every user of the machine to read, and the URL carries the
// key. The file is this user's only, leads to the URL, and is gone when
// the server stops.
func TestLaunchFileKeepsTheKeyOutOfArguments(t *testing.T) {
	e := serve(t, Options{})
	path, err := e.srv.LaunchFile()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(path, e.srv.key) || filepath.Dir(path) != e.o.StateDir {
		t.Errorf("the file to open: %s", path)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the file: %v %v", fi, err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `http-equiv="refresh" content="0;url=`+e.srv.URL()+`"`) || !strings.Contains(string(b), `<a href="`+e.srv.URL()+`">`) {
		t.Errorf("the file does not lead to the URL:\n%s", b)
	}
	e.stop()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the file outlives the server: %v", err)
	}
}

// Idle connections and slow headers do not hold the server: both have
// their time limits.
func TestServerTimeouts(t *testing.T) {
	e := serve(t, Options{})
	hs := e.srv.httpServer(context.Background())
	if hs.IdleTimeout != 2*time.Minute || hs.ReadHeaderTimeout <= 0 || hs.ReadHeaderTimeout > 30*time.Second {
		t.Errorf("idle %v, read header %v", hs.IdleTimeout, hs.ReadHeaderTimeout)
	}
}

// The key's entry sends the browser on to a path of this server only:
// never to one a browser reads as another host's address.
func TestKeyEntryRedirectsOnThisServerOnly(t *testing.T) {
	e := serve(t, Options{})
	for _, target := range []string{`/\evil.example`, `//evil.example`, `/%5Cevil.example`, `/%5C%5Cevil.example`,
		`/%2F%2Fevil.example`, `/%09/evil.example`, `/%0A/evil.example`, `/./\evil.example`, `/x/../\evil.example`, `/\/evil.example`} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s?key=%s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, e.srv.key, strings.TrimPrefix(e.base, "http://"))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		resp.Body.Close()
		conn.Close()
		loc := resp.Header.Get("Location")
		// As a browser reads it: tabs and newlines dropped, a backslash
		// a slash.
		seen := strings.NewReplacer("\t", "", "\r", "", "\n", "", `\`, "/").Replace(loc)
		if resp.StatusCode == http.StatusSeeOther && (!strings.HasPrefix(seen, "/") || strings.HasPrefix(seen, "//")) {
			t.Errorf("GET %s?key=…: Location %q", target, loc)
		}
	}
	if got := localPath("/results"); got != "/results" {
		t.Errorf("a plain path: %q", got)
	}
}

// Only the upload's stream has its token checked in the handler: a
// multipart POST to any other path without the token is refused like
// any other form.
func TestMultipartPostsNeedTheToken(t *testing.T) {
	e := serve(t, Options{Token: testToken})
	e.campaignFiles("promo", 3)
	c := e.client()
	for _, path := range []string{"/start", "/check", "/init", "/stop", "/track", "/lang", "/confirm"} {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("mode", "rehearsal")
		mw.WriteField("campaign", "d/promo.json")
		mw.WriteField("contacts", "d/promo.csv")
		mw.Close()
		req, _ := http.NewRequest(http.MethodPost, e.base+path, &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Origin", e.base)
		if resp, _ := e.do(c, req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("multipart POST %s without the token: %d", path, resp.StatusCode)
		}
	}
	if r := e.srv.runs.get(runKey{mode: rehearsal, campaign: "promo"}); r != nil {
		t.Error("a multipart POST without the token started a rehearsal")
	}
}

// The page refuses to start when its ledger of real sends is the
// rehearsals' (pregon ui -ledger …/pregon-sandbox.db, or both named):
// rehearsals would count as real sends.
func TestSameLedgerForRehearsalsRefused(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "sub"), 0o700)
	os.Symlink(filepath.Join(dir, "sub"), filepath.Join(dir, "link"))
	for _, o := range []Options{
		{Ledger: filepath.Join(dir, "pregon-sandbox.db")},
		{Ledger: filepath.Join(dir, "a.db"), RehearsalLedger: filepath.Join(dir, "sub", "..", "a.db")},
		{Ledger: filepath.Join(dir, "sub", "a.db"), RehearsalLedger: filepath.Join(dir, "link", "a.db")},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		o.StateDir = t.TempDir()
		if _, err := New(ln, o); err == nil || !strings.Contains(err.Error(), "rehearsals' ledger") {
			t.Errorf("%s and %s: %v", o.Ledger, o.RehearsalLedger, err)
		}
		ln.Close()
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	if _, err := New(ln, Options{Ledger: filepath.Join(dir, "pregon.db"), StateDir: t.TempDir()}); err != nil {
		t.Errorf("apart: %v", err)
	}
}

// A key entry another page started (the launch file: Sec-Fetch-Site
// cross-site) sets the cookie and moves on by the page itself, as a
// same-site navigation, to a path of this server only.
func TestCrossSiteKeyEntryMovesOnByItself(t *testing.T) {
	e := serve(t, Options{})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, e.base+`/%5Cevil.example?campaign=d%2Fx.json&key=`+e.srv.key, nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, body := e.do(c, req)
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 1 || resp.Cookies()[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("status %d, cookies %+v", resp.StatusCode, resp.Cookies())
	}
	if !strings.Contains(body, `http-equiv="refresh" content="0;url=/%5Cevil.example?campaign=d%2Fx.json"`) || strings.Contains(body, e.srv.key) {
		t.Errorf("the page:\n%s", body)
	}
}
