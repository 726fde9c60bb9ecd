package ui

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/sender/sendertest"
	"github.com/pregon/pregon/store"
)

// testToken is the API token the tests' page holds: no answer of the
// page may ever carry it.
const testToken = "s3cret-token-9f8e7d"

// env is a page served on a loopback port over real HTTP, with its files
// in a temporary folder and, for real sends, the fake Messages API.
type env struct {
	t    *testing.T
	srv  *Server
	o    Options
	base string // http://127.0.0.1:PORT
	fake *sendertest.Server
	stop func() // stops the server, as Ctrl-C does, and waits for Serve
}

// serve starts the page with o (its folder, ledger and state in
// temporary folders unless set) until the test ends.
func serve(t *testing.T, o Options) *env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Ledger == "" {
		o.Ledger = filepath.Join(t.TempDir(), "pregon.db")
	}
	o.StateDir = t.TempDir()
	if o.Poll == 0 {
		o.Poll = 200 * time.Millisecond
	}
	if o.Tools.Report == nil {
		o.Tools = plainTools()
	}
	srv, err := New(ln, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &env{t: t, srv: srv, o: srv.o, base: "http://" + ln.Addr().String(), stop: stop}
}

// plainTools stand in for the command line's report, export, init and
// words, which package main hands in (its tests check them through the
// page): they write what the ledger holds plainly.
func plainTools() Tools {
	return Tools{
		Report: func(ctx context.Context, tr *i18n.Printer, w io.Writer, ledger *store.Ledger, name string) error {
			_, err := fmt.Fprintf(w, "<!doctype html><title>%s</title>", name)
			return err
		},
		Export: func(ctx context.Context, tr *i18n.Printer, w io.Writer, ledger *store.Ledger, id store.CampaignID) error {
			return ledger.Export(ctx, id, []campaign.State{campaign.Invalid, campaign.Failed}, func(r store.Row) error {
				_, err := fmt.Fprintf(w, "%s;%d;%s\n", r.Source, r.Line, r.State)
				return err
			})
		},
		Init: func(tr *i18n.Printer, contacts, named, typ string) ([]byte, []string, error) {
			name := strings.TrimSuffix(named, filepath.Ext(named))
			return []byte(`{"name":"` + name + `","api":"v2","baseUrl":"https://api.example-brand.com","message":{"type":"text","text":"Hola, …"}}`),
				[]string{`set "baseUrl"`}, nil
		},
		Describe: func(tr *i18n.Printer, err error) string { return err.Error() },
	}
}

// write puts a file in the page's folder.
func (e *env) write(name, content string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.o.Dir, name), []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// client is a browser that opened the page's URL: it holds the key's
// cookie.
func (e *env) client() *http.Client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 60 * time.Second}
	resp, err := c.Get(e.srv.URL())
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Query().Get("key") != "" {
		e.t.Fatalf("opening the URL: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	return c
}

// post sends a form as the page does: its token, and its own Origin.
func (e *env) post(c *http.Client, path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	form.Set("csrf", e.srv.csrf)
	req, _ := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.base)
	return e.do(c, req)
}

func (e *env) get(c *http.Client, path string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.base+path, nil)
	return e.do(c, req)
}

func (e *env) do(c *http.Client, req *http.Request) (*http.Response, string) {
	e.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

// firstEvent reads the first server-sent event of a campaign's progress.
func (e *env) firstEvent(c *http.Client, m mode, name string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/events?"+runKey{mode: m, campaign: name}.query(), nil)
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		e.t.Fatalf("events: %d %s", resp.StatusCode, ct)
	}
	buf := make([]byte, 0, 4096)
	chunk := make([]byte, 1024)
	for !strings.Contains(string(buf), "\n\n") {
		n, err := resp.Body.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if err != nil {
			e.t.Fatalf("events: %v after %q", err, buf)
		}
	}
	return strings.TrimPrefix(strings.SplitN(string(buf), "\n\n", 2)[0], "data: ")
}

// campaignFiles are a v2 WhatsApp template campaign sent to the fake
// (the samples' delivery_order, which the fake lists approved on its
// channel) and a CSV of n customers, line 4 with a phone that is not one.
func (e *env) campaignFiles(name string, n int) {
	e.t.Helper()
	if e.fake == nil {
		e.fake = sendertest.NewServer(e.t, sendertest.Config{Token: testToken})
	}
	e.write(name+".json", `{"name": "`+name+`", "api": "v2", "baseUrl": "`+e.fake.URL+`", "channelId": 4242,
  "message": {"type": "whatsapp_template", "template": {"name": "delivery_order", "languageCode": "es", "components": [
    {"type": "header", "format": "image", "parameters": [{"type": "image", "image": {"link": "{{foto}}"}}]},
    {"type": "body", "text": "Hola, {{1}} tu pedido {{2}} está en camino.", "parameters": [{"type": "text", "text": "{{nombre}}"}, {"type": "text", "text": "{{pedido}}"}]},
    {"type": "footer", "text": "Gracias por tu compra"}]}}}`)
	var b strings.Builder
	b.WriteString("phone,nombre,pedido,foto\n")
	for i := 1; i <= n; i++ {
		phone := fmt.Sprintf("+5939910%05d", i)
		if i == 3 {
			phone = "12" // line 4
		}
		fmt.Fprintf(&b, "%s,Cliente %d,PED-%d,https://cdn.example-brand.com/p/%d.jpg\n", phone, i, i, i)
	}
	e.write(name+".csv", b.String())
}

// ledgerCounts are a campaign's contacts by state in a ledger.
func ledgerCounts(t *testing.T, path, name string) map[campaign.State]int {
	t.Helper()
	l, err := store.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sums, err := l.Summaries(context.Background(), name)
	if err != nil || len(sums) != 1 {
		t.Fatalf("campaign %q in %s: %v %v", name, path, sums, err)
	}
	return sums[0].Counts
}

// waitFor waits until cond holds, for what a test cannot know the
// moment of (a run's end); it fails after a long minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// confirm asks the page to confirm a real send of form's pick, and puts
// in form what the confirmation's button sends with it: the count it
// stated and its digest.
func (e *env) confirm(c *http.Client, form url.Values) {
	e.t.Helper()
	resp, body := e.post(c, "/confirm", url.Values{"campaign": form["campaign"], "contacts": form["contacts"]})
	for _, name := range []string{"count", "digest"} {
		v := hiddenValue(body, name)
		if v == "" {
			e.t.Fatalf("the confirmation (%d) carries no %s:\n%s", resp.StatusCode, name, body)
		}
		form.Set(name, v)
	}
}

// hiddenValue is the value of a page's hidden input named name.
func hiddenValue(body, name string) string {
	_, after, ok := strings.Cut(body, `<input type="hidden" name="`+name+`" value="`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, `"`)
	return v
}
