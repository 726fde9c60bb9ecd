package ui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/sender/sendertest"
)

// browser is a headless Chromium for one test, with a generous limit:
// the machine may be busy. The test is skipped where there is none.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("no chromium found (Debian package chromium; .ci/run installs it): the page was not checked in a browser")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 900))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancel := context.WithTimeout(ctx, 180*time.Second)
	t.Cleanup(func() {
		cancel()
		cancelCtx()
		cancelAlloc()
	})
	// The browser starts with the first action on ctx, and lives as
	// long as ctx: not the step's shorter context (see run).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// run runs browser actions, each step given a minute; a failure names
// what was being done and where, and keeps a screenshot (see shot).
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(step, actions...); err != nil {
		if url, uerr := chromedp.Run(ctx, chromedp.Location()); uerr == nil {
			what += " (at " + url + ")"
		}
		shot(t, ctx, "failed")
		t.Fatalf("%s: %v", what, err)
	}
}

// shot keeps a screenshot of the page where PREGON_UI_SHOTS names a
// folder, for a person to look at.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PREGON_UI_SHOTS")
	if dir == "" {
		return
	}
	step, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(step, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("no screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// The whole way, in Spanish, as a marketer goes it: prepare (the counts,
// the problem row with its line and column, the first messages with the
// rows' values), rehearse, send to the fake API, and the results.
func TestBrowserPrepareRehearseSendResults(t *testing.T) {
	e := serve(t, Options{Token: testToken, Lang: "es"})
	e.campaignFiles("promo", 5)
	ctx := browser(t)

	run(t, ctx, "open and check",
		chromedp.Navigate(e.srv.URL()),
		chromedp.WaitVisible(chromedp.CSS("#check")),
		chromedp.SetValue(chromedp.CSS("#campaign"), "d/promo.json"),
		chromedp.SetValue(chromedp.CSS("#contacts"), "d/promo.csv"),
		chromedp.Click(chromedp.CSS("#check")),
		chromedp.WaitVisible(chromedp.CSS("#check-result")))
	shot(t, ctx, "1-prepare")
	if got := text(t, ctx, "#c-would") + "/" + text(t, ctx, "#c-invalid"); got != "4/1" {
		t.Errorf("would send / invalid: %s, want 4/1", got)
	}
	if line, col, value := text(t, ctx, "#problems tr.invalid td.line"), text(t, ctx, "#problems tr.invalid td.column"),
		text(t, ctx, "#problems tr.invalid td.value"); line != "4" || col != "phone" || value != "12" {
		t.Errorf("the problem row shows line %q, column %q, value %q; want 4, phone, 12", line, col, value)
	}
	// The campaign has never been sent to its address: the page does not
	// hand it the token to check the template (the send does, after the
	// confirmation names the address).
	if got := text(t, ctx, "#template-check"); !strings.Contains(got, "no revisada aquí") {
		t.Errorf("the first check's template line: %q", got)
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("the first check asked the campaign's address: %d requests", n)
	}
	previews := func() {
		t.Helper()
		previews := text(t, ctx, "#previews")
		for _, want := range []string{"Hola, Cliente 1 tu pedido PED-1 está en camino.", "Gracias por tu compra", "Hola, Cliente 2 tu pedido PED-2 está en camino."} {
			if !strings.Contains(previews, want) {
				t.Errorf("the previews lack %q:\n%s", want, previews)
			}
		}
		imgs, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#previews img.b-image").length`))
		if err != nil || imgs != 3 {
			t.Errorf("%d header images in the previews, want 3", imgs)
		}
	}

	run(t, ctx, "rehearse",
		chromedp.Click(chromedp.CSS("#go-rehearse")),
		chromedp.WaitVisible(chromedp.CSS("#start-rehearsal")),
		chromedp.Click(chromedp.CSS("#start-rehearsal")),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-phase="ended"]`)))
	shot(t, ctx, "2-rehearsed")
	if got := text(t, ctx, "#p-sent"); got != "4" {
		t.Errorf("rehearsal sent %s, want 4", got)
	}
	if msg := text(t, ctx, "#p-message"); !strings.HasPrefix(msg, "Terminó.") {
		t.Errorf("the rehearsal's end: %q", msg)
	}
	if n := len(e.fake.Messages()); n != 0 {
		t.Fatalf("the rehearsal reached the API: %d messages", n)
	}
	if c := ledgerCounts(t, e.o.RehearsalLedger, "promo"); c[campaign.Sent] != 4 || c[campaign.Invalid] != 1 {
		t.Errorf("the rehearsal ledger: %v", c)
	}

	run(t, ctx, "confirm",
		chromedp.Click(chromedp.CSS("#nav-send")),
		chromedp.WaitVisible(chromedp.CSS("#prepare-send")),
		chromedp.Click(chromedp.CSS("#prepare-send")),
		chromedp.WaitVisible(chromedp.CSS("#confirm")))
	shot(t, ctx, "3-confirm")
	host := strings.TrimPrefix(e.fake.URL, "http://")
	if got, want := text(t, ctx, "#confirm-text"), "Va a enviar 4 mensajes a "+host+" con la campaña «promo»."; got != want {
		t.Errorf("the confirmation says %q, want %q", got, want)
	}
	run(t, ctx, "send",
		chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-phase="ended"]`)))
	shot(t, ctx, "4-sent")
	if n := len(e.fake.Messages()); n != 4 {
		t.Errorf("the API got %d messages, want 4", n)
	}
	for contact, n := range e.fake.ByContact() {
		if n != 1 {
			t.Errorf("%s got %d messages", contact, n)
		}
	}

	// Sent there once, the campaign's check asks the platform: the
	// previews of new customers show the template's text.
	rows, _ := os.ReadFile(filepath.Join(e.o.Dir, "promo.csv"))
	e.write("nuevos.csv", strings.ReplaceAll(string(rows), "+5939910", "+5939920"))
	run(t, ctx, "check again",
		chromedp.Navigate(e.base+"/prepare?campaign=d%2Fpromo.json&contacts=d%2Fnuevos.csv"),
		chromedp.WaitVisible(chromedp.CSS("#check")),
		chromedp.Click(chromedp.CSS("#check")),
		chromedp.WaitVisible(chromedp.CSS("#check-result")))
	previews()

	run(t, ctx, "results",
		chromedp.Navigate(e.base+"/live?mode=real&name=promo&campaign=d%2Fpromo.json&contacts=d%2Fpromo.csv"),
		chromedp.WaitVisible(chromedp.CSS("#to-results")),
		chromedp.Click(chromedp.CSS("#to-results")),
		chromedp.WaitVisible(chromedp.CSS(`section[data-campaign="promo"] a.export`)))
	shot(t, ctx, "5-results")
	results := text(t, ctx, `section[data-campaign="promo"]`)
	for _, want := range []string{"enviados", "inválidos", "terminó", "Descargar la fila por corregir (CSV)"} {
		if !strings.Contains(results, want) {
			t.Errorf("the results lack %q:\n%s", want, results)
		}
	}
}

// Stop in the middle of a send stops it as Ctrl-C does: what is in
// flight finishes and is recorded, nothing more is sent, nobody is left
// in doubt.
func TestBrowserStopMidRun(t *testing.T) {
	e := serve(t, Options{Token: testToken})
	// The first three answer at once; the rest wait for the test, so
	// the run is surely under way when Stop is pressed.
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	var answered atomic.Int32
	e.fake = sendertest.NewServer(t, sendertest.Config{Token: testToken, Respond: func(*sendertest.Request) (int, string) {
		if answered.Add(1) > 3 {
			<-release
		}
		return 0, ""
	}})
	e.write("muchos.json", `{"name": "muchos", "api": "v2", "baseUrl": "`+e.fake.URL+`", "message": {"type": "text", "text": "Hola {{nombre}}"}}`)
	var b strings.Builder
	b.WriteString("id,nombre\n")
	for i := 1; i <= 300; i++ {
		fmt.Fprintf(&b, "%d,Cliente %d\n", i, i)
	}
	e.write("muchos.csv", b.String())
	ctx := browser(t)

	run(t, ctx, "start the send",
		chromedp.Navigate(e.srv.URL()),
		chromedp.Navigate(e.base+"/send?campaign=d%2Fmuchos.json&contacts=d%2Fmuchos.csv"),
		chromedp.Click(chromedp.CSS("#prepare-send")),
		chromedp.WaitVisible(chromedp.CSS("#confirm")),
		chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#stop")),
		chromedp.Poll[chromedp.Void](`document.getElementById("p-sent").textContent === "3"`, chromedp.WithPollingTimeout(60*time.Second)))
	shot(t, ctx, "6-sending")
	run(t, ctx, "stop",
		chromedp.Click(chromedp.CSS("#stop")),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-phase="stopping"]`)))
	once.Do(func() { close(release) })
	run(t, ctx, "wait for the end", chromedp.WaitVisible(chromedp.CSS(`#live[data-phase="ended"]`)))
	shot(t, ctx, "7-stopped")
	if msg := text(t, ctx, "#p-message"); !strings.HasPrefix(msg, "Interrupted") || !strings.Contains(msg, "send again") {
		t.Errorf("the end says %q", msg)
	}
	c := ledgerCounts(t, e.o.Ledger, "muchos")
	if c[campaign.Unknown] != 0 || c[campaign.Sending] != 0 || c[campaign.Pending] == 0 ||
		c[campaign.Sent] != len(e.fake.Messages()) || c[campaign.Sent]+c[campaign.Pending] != 300 {
		t.Errorf("after Stop the ledger holds %v, and the API got %d", c, len(e.fake.Messages()))
	}
	for contact, n := range e.fake.ByContact() {
		if n != 1 {
			t.Errorf("%s got %d messages", contact, n)
		}
	}
}

// The file the browser is opened on (see LaunchFile) leads it into the
// page: the Strict cookie is set and sent although the navigation began
// at a file:// page, another site to the browser.
func TestBrowserOpensTheLaunchFile(t *testing.T) {
	e := serve(t, Options{})
	path, err := e.srv.LaunchFile()
	if err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	run(t, ctx, "open the launch file",
		chromedp.Navigate("file://"+path),
		chromedp.WaitVisible(chromedp.CSS("#check")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != e.base+"/prepare" {
		t.Errorf("the browser is at %q (%v), want %s/prepare", loc, err, e.base)
	}
}
