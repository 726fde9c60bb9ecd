package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/sender/sendertest"
	"github.com/pregon/pregon/store"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s:\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

// The status table, from fixed data: what the operator reads the next
// morning.
func TestStatusTableGolden(t *testing.T) {
	started := time.Date(2026, 11, 21, 1, 0, 0, 0, time.Local)
	s := campaignStatus{
		Summary: store.Summary{Name: "promo-black-friday", Total: 1000,
			Counts: map[campaign.State]int{campaign.Pending: 40, campaign.Sent: 700, campaign.Failed: 212,
				campaign.Unknown: 3, campaign.Invalid: 30, campaign.Duplicate: 15},
			Reasons: []store.Reason{
				{State: campaign.Failed, Status: 403, Why: campaign.Reason{Code: campaign.Refused, Args: []any{403, "Contact has opted out"}}, Count: 200},
				// A ledger's older record: its English prose, as it is.
				{State: campaign.Failed, Status: 404, Error: "404 Contact not found", Count: 12},
				{State: campaign.Unknown, Why: campaign.Reason{Code: campaign.NoAnswer, Cause: &campaign.Reason{Code: campaign.TimedOut}}, Count: 3},
			},
			Destination: store.Destination{API: "v2", BaseURL: "https://api.marca.example/api"}},
		Ledger: "/srv/campañas/pregon.db",
		Runs: []store.Run{
			{Host: "oficina-01", PID: 4242, Started: started, Ended: started.Add(6 * time.Hour), Sent: 700, Failed: 212, Unknown: 3,
				Rate: 24.9, EndedBy: "deadline", ExitCode: 3,
				Flags: map[string]any{"campaign_file": "/srv/campañas/promo.json", "contacts_file": "/srv/campañas/clientes.csv", "ledger": "/srv/campañas/pregon.db",
					"base_url": "https://api.marca.example/api"}},
			{Host: "oficina-01", PID: 4100, Started: started.Add(-24 * time.Hour), Flags: map[string]any{"dry_run": true}},
		},
	}
	for _, lang := range []i18n.Lang{i18n.English, i18n.Spanish} {
		var b bytes.Buffer
		printStatus(i18n.For(lang), &b, s)
		golden(t, "status."+string(lang)+".golden", b.String())
	}
}

func TestSendJSONSummary(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	fake := sendertest.NewServer(t, sendertest.Config{Respond: func(r *sendertest.Request) (int, string) {
		if r.Contact == "3002" {
			return 403, "Contact has opted out"
		}
		return 0, ""
	}})
	ledger := filepath.Join(t.TempDir(), "l.db")
	code, out, errOut := pregon(t, "send", "-json", "-campaign", sample("encuesta-v1.json"), "-contacts", sample("encuesta-v1.csv"),
		"-ledger", ledger, "-base-url", fake.URL, "-rate", "100")
	if code != exitIncomplete {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var s summary
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if dec.More() {
		t.Errorf("more than one JSON value on stdout: %s", out)
	}
	if s.Campaign != "encuesta-satisfaccion" || s.ExitCode != exitIncomplete || s.EndedBy != "finished" ||
		s.Run.Sent != 5 || s.Run.Failed != 1 || s.Contacts["sent"] != 5 || s.Contacts["failed"] != 1 || s.Contacts["total"] != 6 ||
		len(s.Reasons) != 1 || s.Reasons[0].Code != "refused" || s.Reasons[0].Reason != `refused by the platform: 403 "Contact has opted out"` {
		t.Errorf("summary = %+v", s)
	}
}

// init on every sample CSV writes a campaign that a dry run accepts once
// the values init says to fill in are filled in.
func TestInitOnSamplesPassesDryRun(t *testing.T) {
	cases := []struct{ csv, typ, api string }{
		{"pedido-en-camino.csv", "whatsapp_template", "v2"},
		{"promo-excel.csv", "whatsapp_template", "v2"},
		{"promo-excel.csv", "text", "v2"},
		{"aviso-texto-v1.csv", "text", "v1"},
		{"catalogo-adjunto-v1.csv", "image", "v1"},
		{"encuesta-v1.csv", "quick_reply", "v1"},
		{"pedido-en-camino.csv", "image", "v2"},
	}
	for _, tc := range cases {
		t.Run(tc.csv+"/"+tc.typ, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "c.json")
			code, _, errOut := pregon(t, "init", "-contacts", sample(tc.csv), "-type", tc.typ, "-api", tc.api, "-o", out)
			if code != 0 {
				t.Fatalf("init: exit %d: %s", code, errOut)
			}
			if !strings.Contains(errOut, `set "baseUrl"`) {
				t.Errorf("init does not say what to fill in: %s", errOut)
			}
			fillStarter(t, out)
			code, dry, errOut := pregon(t, "send", "-dry-run", "-campaign", out, "-contacts", sample(tc.csv))
			if code != 0 {
				body, _ := os.ReadFile(out)
				t.Fatalf("dry run of the starter: exit %d\n%s%s\n%s", code, dry, errOut, body)
			}
			if !strings.Contains(dry, "invalid: 0") {
				t.Errorf("dry run: %s", dry)
			}
		})
	}
	code, out, _ := pregon(t, "init", "-contacts", sample("promo-excel.csv"))
	if code != 0 || !strings.Contains(out, `"column": "Teléfono"`) || !strings.Contains(out, `"text": "{{Nombre}}"`) || !strings.Contains(out, `"defaultCountry": "EC"`) {
		t.Errorf("starter for the Excel sample:\n%s", out)
	}
}

func TestSandboxServerPrintsEachMessage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	var errOut bytes.Buffer
	done := make(chan int)
	go func() {
		done <- exitCode(run(ctx, []string{"sandbox", "-addr", addr, "-latency", "1ms"}, &out, &errOut), &errOut)
	}()
	t.Setenv(tokenEnv, "cualquiera")
	var code int
	for range 100 { // the server may take a moment to listen
		code, _, _ = pregon(t, "send", "-campaign", sample("encuesta-v1.json"), "-contacts", sample("encuesta-v1.csv"),
			"-ledger", filepath.Join(t.TempDir(), "l.db"), "-base-url", "http://"+addr, "-rate", "100")
		if code == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A rehearsal says so in every answer, even a web server's 404.
	var marked string
	if resp, err := http.Get("http://" + addr + "/"); err == nil {
		resp.Body.Close()
		marked = resp.Header.Get(sendertest.SandboxHeader)
	}
	cancel()
	if c := <-done; c != 0 || code != 0 {
		t.Fatalf("sandbox exit %d, send exit %d: %s", c, code, errOut.String())
	}
	if marked != "1" {
		t.Errorf("the sandbox's 404 carries %s: %q, want 1", sendertest.SandboxHeader, marked)
	}
	printed := out.String()
	lines := strings.Split(strings.TrimSpace(printed), "\n")
	// Six messages, the GET pregon makes of the address before sending, and
	// the test's own GET.
	ok := len(lines) == 8 && strings.Contains(printed, "Verónica") && strings.Contains(printed, " / 404 ")
	for id := 3001; id <= 3006; id++ {
		ok = ok && strings.Contains(printed, fmt.Sprintf("/v1/message/sendContent/%d 200 ", id))
	}
	if !ok {
		t.Errorf("sandbox printed:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
}

// startSandbox runs pregon sandbox with args on a free port until the test
// ends, and returns its base URL once it accepts connections.
func startSandbox(t *testing.T, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errOut := &lockedBuffer{}
	done := make(chan int)
	go func() {
		done <- exitCode(run(ctx, append([]string{"sandbox", "-addr", addr}, args...), io.Discard, errOut), errOut)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("sandbox exit %d: %s", code, errOut.String())
		}
	})
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the sandbox does not listen on %s", addr)
	return ""
}

// sandboxPost sends one v2 message and returns the answer, its body read.
func sandboxPost(ctx context.Context, client *http.Client, base, contact string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v2/contact/"+contact+"/message", strings.NewReader(`{"message":{"type":"text","text":"hola"}}`))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer sandbox")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp, err
}

// Tried as a new user would, at its defaults: a client sending at exactly
// 25/s, on as many connections as the answers' latency needs, gets no
// 429, and every answer tells the quota. The sandbox counts each request
// when it arrived, not when its handler ran (which bunches them), so its
// window is the one the client's pacer holds.
func TestSandboxAnswersNo429AtItsDefaultRate(t *testing.T) {
	for _, window := range []string{"sliding", "fixed"} {
		t.Run(window, func(t *testing.T) {
			t.Parallel()
			base := startSandbox(t, "-window", window)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			defer client.CloseIdleConnections()
			const n = 100
			wrote := make([]time.Time, n)
			left := make([]chan struct{}, n)
			answers := make([]*http.Response, n)
			errs := make([]error, n)
			tick := time.NewTicker(40*time.Millisecond + time.Millisecond)
			defer tick.Stop()
			var wg sync.WaitGroup
			for i := range n {
				left[i] = make(chan struct{})
				if i > 0 {
					<-tick.C
				}
				// A late tick followed by an on-time one would put two
				// requests 41 ms apart closer: never let 26 leave within a
				// second, measured from when each was written.
				if j := i - 25; j >= 0 {
					<-left[j]
					time.Sleep(time.Until(wrote[j].Add(time.Second + time.Millisecond)))
				}
				var once sync.Once
				ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
					WroteRequest: func(httptrace.WroteRequestInfo) {
						once.Do(func() { wrote[i] = time.Now(); close(left[i]) })
					},
				})
				wg.Go(func() { answers[i], errs[i] = sandboxPost(ctx, client, base, fmt.Sprintf("phone:+59399%07d", i)) })
			}
			wg.Wait()
			statuses := map[int]int{}
			for i, resp := range answers {
				if errs[i] != nil {
					t.Fatalf("request %d: %v", i, errs[i])
				}
				statuses[resp.StatusCode]++
				if resp.Header.Get("X-RateLimit-Limit") != "25" || resp.Header.Get("X-RateLimit-Remaining") == "" {
					t.Errorf("request %d: %d with X-RateLimit-Limit %q, X-RateLimit-Remaining %q, want 25 and a number",
						i, resp.StatusCode, resp.Header.Get("X-RateLimit-Limit"), resp.Header.Get("X-RateLimit-Remaining"))
				}
			}
			if statuses[http.StatusOK] != n {
				t.Errorf("answers: %v, want %d × 200 and no 429", statuses, n)
			}
		})
	}
}

// Another integration spending the whole quota leaves none to the
// rehearsal; -close-every closes connections; a flag out of place is a
// usage error.
func TestSandboxFlags(t *testing.T) {
	base := startSandbox(t, "-background", "25", "-close-every", "1", "-latency", "1ms")
	time.Sleep(1100 * time.Millisecond) // the other integration's 25 are in the window
	resp, err := sandboxPost(context.Background(), http.DefaultClient, base, "phone:+593990000001")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-RateLimit-Remaining") != "0" || !resp.Close {
		t.Errorf("beside -background 25: %d, X-RateLimit-Remaining %q, Connection: close %v; want 429, 0 and true",
			resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"), resp.Close)
	}
	for _, args := range [][]string{
		{"-window", "rolling"},
		{"-background", "10", "-limit", "0"},
		{"-read-after", "-1s"},
	} {
		if code, _, errOut := pregon(t, append([]string{"sandbox", "-addr", "127.0.0.1:0"}, args...)...); code != 2 {
			t.Errorf("sandbox %v: exit %d, want 2 (usage): %s", args, code, errOut)
		}
	}
}

// The sandbox keeps what it took and answers v2's reads as the platform
// does, marked as a rehearsal: the message with its status, the contact's
// list, the templates where -templates-at-mtm puts them. Its statuses
// advance at -delivered-after.
func TestSandboxAnswersReads(t *testing.T) {
	base := startSandbox(t, "-latency", "1ms", "-delivered-after", "0", "-templates-at-mtm", "-other-traffic")
	const contact = "phone:+593991000001"
	if resp, err := sandboxPost(context.Background(), http.DefaultClient, base, contact); err != nil || resp.StatusCode != 200 {
		t.Fatalf("send: %v %v", resp, err)
	}
	read := func(path string, v any) {
		t.Helper()
		req, err := http.NewRequest("GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer sandbox")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get(sendertest.SandboxHeader) != "1" || resp.Header.Get("X-RateLimit-Remaining") == "" {
			t.Fatalf("GET %s: %d, %s %q, X-RateLimit-Remaining %q", path, resp.StatusCode, sendertest.SandboxHeader,
				resp.Header.Get(sendertest.SandboxHeader), resp.Header.Get("X-RateLimit-Remaining"))
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	type message struct {
		MessageID int64
		Message   json.RawMessage
		Status    []struct{ Value string }
		Sender    *struct{ Source string }
	}
	var list struct{ Items []message }
	read("/v2/contact/"+contact+"/message/list?limit=100", &list)
	var ours []message
	for _, m := range list.Items {
		if m.Sender != nil && m.Sender.Source == "api" {
			ours = append(ours, m)
		}
	}
	if len(ours) != 1 || len(list.Items) < 2 || !strings.Contains(string(ours[0].Message), "hola") {
		t.Fatalf("the contact's list: %+v, want the message sent, once, among others'", list.Items)
	}
	var one message
	read(fmt.Sprintf("/v2/contact/%s/message/%d", contact, ours[0].MessageID), &one)
	if last := one.Status[len(one.Status)-1].Value; last != "delivered" && last != "read" && last != "failed" {
		t.Errorf("delivered at once, the message is %s", last)
	}
	var templates struct{ Items []struct{ Name string } }
	read("/v2/space/channel/4242/mtm", &templates)
	if len(templates.Items) != 4 {
		t.Errorf("templates: %+v, want the four defaults", templates.Items)
	}
}

// The run history across an interrupted run and its resume: two runs, the
// first ended by the signal, the second finished, counts adding up.
func TestRunHistoryAcrossInterruptAndResume(t *testing.T) {
	const n = 60
	fake := sendertest.NewServer(t, sendertest.Config{Latency: 100 * time.Millisecond})
	camp, csv, ledger := campaignFiles(t, n)
	args := []string{"send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL, "-rate", "30"}
	p := startPregon(t, args...)
	waitFor(t, "10 requests", func() bool { return len(fake.Messages()) >= 10 })
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t); code != exitStopped {
		t.Fatalf("interrupted run: exit %d", code)
	}
	p = startPregon(t, args...)
	if code := p.wait(t); code != exitOK {
		t.Fatalf("resume: exit %d: %s", code, p.errOut.String())
	}
	code, out, errOut := pregon(t, "status", "-ledger", ledger, "-json")
	if code != 0 {
		t.Fatal(errOut)
	}
	var st []statusJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	runs := st[0].Runs
	if len(runs) != 2 {
		t.Fatalf("runs = %+v", runs)
	}
	resumed, interrupted := runs[0], runs[1] // newest first
	if interrupted.EndedBy != "interrupted" || *interrupted.ExitCode != exitStopped || resumed.EndedBy != "finished" || *resumed.ExitCode != 0 {
		t.Errorf("runs ended by %q (%d) then %q (%d)", interrupted.EndedBy, *interrupted.ExitCode, resumed.EndedBy, *resumed.ExitCode)
	}
	if interrupted.Sent+resumed.Sent != n || interrupted.Sent == 0 || resumed.Rate <= 0 || interrupted.PID == resumed.PID {
		t.Errorf("runs: %+v", runs)
	}
	if interrupted.Flags["rate"] != 30.0 || interrupted.Flags["contacts_file"] != csv {
		t.Errorf("flags = %v", interrupted.Flags)
	}
	code, table, _ := pregon(t, "status", "-ledger", ledger)
	if code != 0 || !strings.Contains(table, "last run:") || !strings.Contains(table, ": finished after ") || !strings.Contains(table, fmt.Sprint(resumed.Sent)+" sent") {
		t.Errorf("status table:\n%s", table)
	}
}

// The report, opened in a real browser: the numbers and the chart are
// what a person sees.
func TestReportInHeadlessChromium(t *testing.T) {
	browser := findBrowser()
	if browser == "" {
		t.Skip("no chromium found (Debian package chromium; .ci/run installs it): the report was not checked in a browser")
	}
	t.Setenv(tokenEnv, "t")
	fake := sendertest.NewServer(t, sendertest.Config{Respond: func(r *sendertest.Request) (int, string) {
		if strings.HasSuffix(r.Contact, "007") {
			return 403, "Contact has opted out <script>alert(1)</script>"
		}
		return 0, ""
	}})
	dir := t.TempDir()
	ledger := filepath.Join(dir, "l.db")
	if code, _, errOut := pregon(t, "send", "-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"),
		"-ledger", ledger, "-base-url", fake.URL, "-rate", "100"); code != exitIncomplete {
		t.Fatalf("send: exit %d: %s", code, errOut)
	}
	report := filepath.Join(dir, "report.html")
	if code, _, errOut := pregon(t, "report", "-lang", "es", "-ledger", ledger, "-campaign", "pedido-en-camino", "-o", report); code != 0 {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	html := string(mustRead(t, report))
	// Addresses may be shown (the message's image), never loaded.
	for _, bad := range []string{"<script", `src="`, `href="`, "url(", "@import", "<link"} {
		if strings.Contains(html, bad) {
			t.Errorf("the report is not self-contained and inert: it contains %q", bad)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + filepath.Join(dir, "profile")}
	dom, err := exec.CommandContext(ctx, browser, append(flags, "--dump-dom", "file://"+report)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	text := string(dom)
	for _, want := range []string{"Campaña «pedido-en-camino»", ">29<", "enviados · 93,5 %", ">1<", "fallidos · 3,2 %", "duplicados",
		"la plataforma lo rechazó: 403 \"Contact has opted out &lt;script&gt;alert(1)&lt;/script&gt;\"", `class="bar-sent"`, `class="bar-failed"`,
		"Valores en el cuerpo: José Núñez · PED-10231", `lang="es"`} {
		if !strings.Contains(text, want) {
			t.Errorf("the page Chromium built lacks %q", want)
		}
	}
	shot := filepath.Join(dir, "report.png")
	cmd := exec.CommandContext(ctx, browser, append(flags, "--screenshot="+shot, "--window-size=1000,900", "file://"+report)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// The chart's bars are drawn in these colours; a person sees them only
	// if the browser laid the chart out.
	green, red := 0, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			switch {
			case near(r, 0x2d) && near(g, 0xa4) && near(bl, 0x4e):
				green++
			case near(r, 0xcf) && near(g, 0x22) && near(bl, 0x2e):
				red++
			}
		}
	}
	if green < 500 || red < 20 {
		t.Errorf("the screenshot shows %d green and %d red pixels: the chart is not visible", green, red)
	}
}

func near(a, b uint32) bool { return a+6 >= b && a <= b+6 }

func findBrowser() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}
