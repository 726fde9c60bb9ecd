package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/sender/sendertest"
	"github.com/pregon/pregon/store"
)

// page is `pregon ui` running in this process, as a browser sees it.
type page struct {
	t      *testing.T
	base   string
	client *http.Client
	csrf   string
}

// startUI runs `pregon ui` with args until the test ends, opens the URL
// it prints as a browser would, and reads the forms' token.
func startUI(t *testing.T, args ...string) *page {
	t.Helper()
	t.Setenv(i18n.Env, "en") // the page's words, for a client that names no language
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan int, 1)
	go func() {
		var errb strings.Builder
		code := exitCode(run(ctx, append([]string{"ui", "-no-browser", "-addr", "127.0.0.1:0"}, args...), w, &errb), &errb)
		w.Close()
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("pregon ui: exit %d", code)
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("pregon ui printed no URL: %v", err)
	}
	go io.Copy(io.Discard, out)
	u, err := url.Parse(strings.TrimSpace(line))
	if err != nil || u.Query().Get("key") == "" || u.Hostname() != "127.0.0.1" {
		t.Fatalf("pregon ui printed %q", line)
	}
	jar, _ := cookiejar.New(nil)
	p := &page{t: t, base: "http://" + u.Host, client: &http.Client{Jar: jar, Timeout: 60 * time.Second}}
	body := p.get(u.String())
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form on the page:\n%s", body)
	}
	p.csrf = m[1]
	return p
}

func (p *page) get(u string) string {
	p.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = p.base + u
	}
	resp, err := p.client.Get(u)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("GET %s: %d\n%s", u, resp.StatusCode, b)
	}
	return string(b)
}

// post sends a form as the page's own forms do.
func (p *page) post(path string, form url.Values) string {
	p.t.Helper()
	form.Set("csrf", p.csrf)
	req, _ := http.NewRequest(http.MethodPost, p.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.base)
	resp, err := p.client.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("POST %s: %d\n%s", path, resp.StatusCode, b)
	}
	return string(b)
}

// liveProgress is a campaign's live progress, as the page's events say it.
type liveProgress struct {
	Phase, Status, Message, Sent string
}

// waitProgress reads the campaign's events until one satisfies cond.
func (p *page) waitProgress(name string, cond func(liveProgress) bool) liveProgress {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/events?"+url.Values{"mode": {"real"}, "name": {name}}.Encode(), nil)
	resp, err := p.client.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var last liveProgress
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if err := json.Unmarshal([]byte(data), &last); err != nil {
			p.t.Fatal(err)
		}
		if cond(last) {
			return last
		}
	}
	p.t.Fatalf("the events ended (%v) before the liveProgress came; the last: %+v", sc.Err(), last)
	return last
}

// gatedFake answers the first three sends at once and holds the others
// until release is closed: a run that is surely under way.
func gatedFake(t *testing.T) (*sendertest.Server, chan struct{}) {
	release := make(chan struct{})
	var n atomic.Int32
	fake := sendertest.NewServer(t, sendertest.Config{Respond: func(*sendertest.Request) (int, string) {
		if n.Add(1) > 3 {
			<-release
		}
		return 0, ""
	}})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	return fake, release
}

// writeCampaign writes a v2 text campaign named name that sends to base,
// and a CSV of n contacts, in dir.
func writeCampaign(t *testing.T, dir, name, base string, n int) {
	t.Helper()
	writeTemp(t, dir, name+".json", `{"name":"`+name+`","api":"v2","baseUrl":"`+base+`","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	var b strings.Builder
	b.WriteString("id,nombre\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d,Cliente %d\n", i, i)
	}
	b.WriteString("0,Sin id\n") // invalid: ids start at 1
	writeTemp(t, dir, name+".csv", b.String())
}

// The page and the command line on one ledger: a send started from the
// page holds the campaign against the command line (a cron job is refused
// and status names the page's process), and a send started from the
// command line shows up live in the page, which cannot start the campaign
// while it runs.
func TestPageAndCommandLineShareTheLock(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	dir := t.TempDir()
	ledger := filepath.Join(dir, "pregon.db")
	fromPage, releasePage := gatedFake(t)
	fromCLI, releaseCLI := gatedFake(t)
	writeCampaign(t, dir, "pagina", fromPage.URL, 20)
	writeCampaign(t, dir, "cron", fromCLI.URL, 20)
	p := startUI(t, "-dir", dir, "-ledger", ledger)

	p.start(url.Values{"mode": {"real"}, "campaign": {"d/pagina.json"}, "contacts": {"d/pagina.csv"}})
	p.waitProgress("pagina", func(pr liveProgress) bool { return pr.Phase == "sending" && pr.Sent == "3" })
	code, _, errOut := pregon(t, "send", "-campaign", filepath.Join(dir, "pagina.json"), "-contacts", filepath.Join(dir, "pagina.csv"), "-ledger", ledger)
	if want := fmt.Sprintf("is being sent by another pregon run: process %d", os.Getpid()); code != exitStopped || !strings.Contains(errOut, want) {
		t.Errorf("the command line beside the page's send: exit %d, %q; want %d, %q", code, errOut, exitStopped, want)
	}
	if _, out, _ := pregon(t, "status", "-ledger", ledger, "-campaign", "pagina"); !strings.Contains(out, fmt.Sprintf("running now: on %s since", host())) || !strings.Contains(out, fmt.Sprintf("(process %d)", os.Getpid())) {
		t.Errorf("status beside the page's send:\n%s", out)
	}
	close(releasePage)
	end := p.waitProgress("pagina", func(pr liveProgress) bool { return pr.Phase == "ended" })
	if end.Sent != "20" || !strings.Contains(end.Message, "Finished") {
		t.Errorf("the page's send ended: %+v", end)
	}

	// Confirmed before the command line starts, the button pressed while
	// it sends.
	confirmed := p.confirm(url.Values{"mode": {"real"}, "campaign": {"d/cron.json"}, "contacts": {"d/cron.csv"}})
	cron := startPregon(t, "send", "-campaign", filepath.Join(dir, "cron.json"), "-contacts", filepath.Join(dir, "cron.csv"), "-ledger", ledger)
	seen := p.waitProgress("cron", func(pr liveProgress) bool { return pr.Phase == "elsewhere" })
	if want := fmt.Sprintf("process %d", cron.cmd.Process.Pid); !strings.Contains(seen.Status, want) {
		t.Errorf("the page shows the command line's send as %q, without %q", seen.Status, want)
	}
	if want := fmt.Sprintf("“cron” is being sent now (process %d on ", cron.cmd.Process.Pid); !strings.Contains(p.get("/prepare"), want) {
		t.Errorf("the pages do not say %q", want)
	}
	p.post("/start", confirmed)
	refused := p.waitProgress("cron", func(pr liveProgress) bool { return pr.Message != "" })
	if want := fmt.Sprintf("is being sent by another pregon run: process %d", cron.cmd.Process.Pid); !strings.Contains(refused.Message, want) {
		t.Errorf("the page's start beside the command line's send says %q, without %q", refused.Message, want)
	}
	close(releaseCLI)
	if code := cron.wait(t); code != exitIncomplete {
		t.Errorf("the command line's send: exit %d\n%s", code, cron.errOut.String())
	}
	for _, fake := range []*sendertest.Server{fromPage, fromCLI} {
		if got := len(fake.Messages()); got != 20 {
			t.Errorf("%s got %d messages, want 20", fake.URL, got)
		}
		for c, n := range fake.ByContact() {
			if n != 1 {
				t.Errorf("%s got %d messages", c, n)
			}
		}
	}
}

// A campaign sent from the page leaves the ledger the same campaign sent
// from the command line does; the page's export and report are the
// command line's.
func TestPageAndCommandLineLeaveTheSameLedger(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	fakePage := sendertest.NewServer(t, sendertest.Config{})
	fakeCLI := sendertest.NewServer(t, sendertest.Config{})
	pageDir, cliDir := t.TempDir(), t.TempDir()
	writeCampaign(t, pageDir, "igual", fakePage.URL, 12)
	writeCampaign(t, cliDir, "igual", fakeCLI.URL, 12)
	pageLedger, cliLedger := filepath.Join(pageDir, "pregon.db"), filepath.Join(cliDir, "pregon.db")

	p := startUI(t, "-dir", pageDir, "-ledger", pageLedger)
	p.start(url.Values{"mode": {"real"}, "campaign": {"d/igual.json"}, "contacts": {"d/igual.csv"}})
	p.waitProgress("igual", func(pr liveProgress) bool { return pr.Phase == "ended" })
	if code, _, errOut := pregon(t, "send", "-campaign", filepath.Join(cliDir, "igual.json"), "-contacts", filepath.Join(cliDir, "igual.csv"),
		"-ledger", cliLedger); code != exitIncomplete {
		t.Fatalf("send: exit %d\n%s", code, errOut)
	}

	contacts := func(path string) []store.Contact {
		l, err := store.OpenReadOnly(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		id, _, _ := l.Lookup(context.Background(), "igual")
		cs, err := l.Contacts(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for i := range cs {
			cs[i].MessageID, cs[i].SentAt = "", time.Time{} // the fake's and the clock's
		}
		return cs
	}
	fromPage, fromCLI := contacts(pageLedger), contacts(cliLedger)
	if len(fromPage) != 13 || fmt.Sprint(fromPage) != fmt.Sprint(fromCLI) {
		t.Errorf("the ledgers differ:\npage: %v\ncli:  %v", fromPage, fromCLI)
	}
	flags := func(path string) map[string]any { return status(t, path)[0].Runs[0].Flags }
	keys := func(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
	pageFlags, cliFlags := flags(pageLedger), flags(cliLedger)
	if !slices.Equal(keys(pageFlags), keys(cliFlags)) {
		t.Errorf("the runs record other options:\npage: %v\ncli:  %v", pageFlags, cliFlags)
	}
	if pageFlags["campaign_file"] != filepath.Join(pageDir, "igual.json") || pageFlags["contacts_file"] != filepath.Join(pageDir, "igual.csv") {
		t.Errorf("the page's run records the files as %v", pageFlags)
	}

	_, want, _ := pregon(t, "export", "-lang", "en", "-ledger", pageLedger, "-campaign", "igual", "-outcome", "invalid,failed")
	if got := p.get("/export?mode=real&name=igual"); got != want || !strings.Contains(got, "Sin id") {
		t.Errorf("the page's export:\n%q\nthe command line's:\n%q", got, want)
	}
	if got := p.get("/report?mode=real&name=igual"); !strings.Contains(got, "Campaign “igual”") || strings.Contains(got, "<script") {
		t.Errorf("the page's report is not the command line's:\n%s", got)
	}
}

// The page's init button writes, beside the CSV, the campaign `pregon
// init` writes, never over a file, and its check says what is left to
// fill in.
func TestPageInitWritesTheStarterCampaign(t *testing.T) {
	dir := t.TempDir()
	csv := writeTemp(t, dir, "clientes.csv", "Teléfono;Nombre;Pedido\n0991000001;Ana;PED-1\n")
	writeTemp(t, dir, "clientes.json", "mine") // the user's own file of that name
	p := startUI(t, "-dir", dir, "-ledger", filepath.Join(dir, "pregon.db"), "-lang", "en")
	body := p.post("/init", url.Values{"contacts": {"d/clientes.csv"}, "type": {"text"}})
	for _, want := range []string{"Wrote clientes-2.json", "&#34;message.text&#34; is still", "<option value=\"d/clientes-2.json\" selected>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page after init lacks %q:\n%s", want, body)
		}
	}
	got, err := os.ReadFile(filepath.Join(dir, "clientes-2.json"))
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "clientes-2.json")
	if code, _, errOut := pregon(t, "init", "-contacts", csv, "-type", "text", "-o", other); code != 0 {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	if cli := mustRead(t, other); string(got) != string(cli) {
		t.Errorf("the page wrote:\n%s\nthe command line writes:\n%s", got, cli)
	}
	if mine, _ := os.ReadFile(filepath.Join(dir, "clientes.json")); string(mine) != "mine" {
		t.Errorf("the user's clientes.json was replaced: %q", mine)
	}
	if fi, err := os.Stat(filepath.Join(dir, "clientes-2.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the campaign's mode: %v %v", fi, err)
	}
}

// Off loopback, pregon ui says that others may reach it, and still prints
// an address this machine opens.
func TestUIWarnsOffLoopback(t *testing.T) {
	t.Setenv(tokenEnv, "")
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	var errb lockedBuffer
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"ui", "-no-browser", "-addr", "0.0.0.0:0", "-dir", t.TempDir(), "-ledger", filepath.Join(t.TempDir(), "l.db")}, w, &errb)
		w.Close()
		done <- err
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	cancel()
	if err := <-done; err != nil {
		t.Errorf("pregon ui: %v", err)
	}
	if err != nil || !strings.HasPrefix(line, "http://127.0.0.1:") || !strings.Contains(line, "/?key=") {
		t.Errorf("pregon ui printed %q (%v)", line, err)
	}
	if !strings.Contains(errb.String(), "warning: listening on ") || !strings.Contains(errb.String(), "PREGON_TOKEN is not set") {
		t.Errorf("stderr:\n%s", errb.String())
	}
}

func host() string {
	h, _ := os.Hostname()
	return h
}

// start starts a real send as the page's confirmation does: with the
// count and digest its button carries.
func (p *page) start(form url.Values) string {
	p.t.Helper()
	return p.post("/start", p.confirm(form))
}

// confirm is form with what the page's confirmation of its pick puts in
// its button's form: the count it states and its digest.
func (p *page) confirm(form url.Values) url.Values {
	p.t.Helper()
	body := p.post("/confirm", url.Values{"campaign": form["campaign"], "contacts": form["contacts"]})
	for _, name := range []string{"count", "digest"} {
		_, after, ok := strings.Cut(body, `<input type="hidden" name="`+name+`" value="`)
		if !ok {
			p.t.Fatalf("the confirmation carries no %s:\n%s", name, body)
		}
		v, _, _ := strings.Cut(after, `"`)
		form.Set(name, v)
	}
	return form
}
