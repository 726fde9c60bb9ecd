package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/sender/sendertest"
)

// The morning after a rehearsal: `pregon sandbox` in one window, a send
// with -base-url to it and no -ledger, then the real send with the same
// default ledger. The real send must not skip everyone as "sent".
func TestRehearsalThenRealSend(t *testing.T) {
	dir := t.TempDir()
	ledger := filepath.Join(dir, "pregon.db")
	camp, csv := sample("pedido-en-camino.json"), sample("pedido-en-camino.csv")
	t.Setenv(tokenEnv, "sandbox")
	sandbox := sendertest.NewServer(t, sendertest.Config{Sandbox: true})
	code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", sandbox.URL, "-rate", "0")
	if code != 0 {
		t.Fatalf("rehearsal: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "this run is a rehearsal") {
		t.Errorf("the rehearsal was not recognised: %s", errOut)
	}
	if st := status(t, ledger); !st[0].Rehearsal {
		t.Errorf("status does not call it a rehearsal: %+v", st[0])
	}

	t.Setenv(tokenEnv, "real-token")
	platform := sendertest.NewServer(t, sendertest.Config{Token: "real-token"})
	code, _, errOut = pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", platform.URL, "-rate", "0")
	if code != exitUsage {
		t.Fatalf("real send into the rehearsal's ledger: exit %d, want 2\n%s", code, errOut)
	}
	for _, want := range []string{sandbox.URL, platform.URL, "rehearsal", "-ledger"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("the refusal does not say %q:\n%s", want, errOut)
		}
	}
	if n := len(platform.Messages()); n != 0 {
		t.Fatalf("%d messages reached the platform", n)
	}
	// -allow-changed does not turn a rehearsal into a real send either.
	if code, _, _ := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", platform.URL, "-allow-changed"); code != exitUsage {
		t.Errorf("-allow-changed on a rehearsal's ledger: exit %d, want 2", code)
	}

	// Done as the message says, the real send reaches every contact once.
	real := filepath.Join(dir, "real.db")
	if code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", real, "-base-url", platform.URL, "-rate", "0"); code != 0 {
		t.Fatalf("real send: exit %d\n%s", code, errOut)
	}
	acceptedOnce(t, platform, 30)
	// And a rehearsal never goes into a ledger with real sends, even forced
	// with -allow-changed: pregon asks the address what it is before
	// anything is recorded, and the ledger keeps its destination.
	t.Setenv(tokenEnv, "sandbox")
	more := writeTemp(t, dir, "more.csv", "phone,nombre,pedido,foto\n+593991000099,Eva,PED-9,https://cdn.example-brand.com/9.jpg\n")
	for _, extra := range [][]string{nil, {"-allow-changed"}} {
		args := append([]string{"send", "-campaign", camp, "-contacts", more, "-ledger", real, "-base-url", sandbox.URL}, extra...)
		code, _, errOut = pregon(t, args...)
		if code != exitUsage || !strings.Contains(errOut, "holds real sends") {
			t.Errorf("rehearsal %v into the real ledger: exit %d\n%s", extra, code, errOut)
		}
	}
	if st := status(t, real)[0]; st.Sent != 30 || st.Pending != 0 || st.Rehearsal || st.BaseURL != platform.URL {
		t.Errorf("the real ledger after a refused rehearsal: %+v", st)
	}
}

// A wrong base URL, in each of the forms users meet, stops the run within
// a few requests, leaves no contact failed or sent, and the next run with
// the right address sends everyone once.
func TestWrongAddressStopsWithoutBurningTheList(t *testing.T) {
	camp, csv := sample("pedido-en-camino.json"), sample("pedido-en-camino.csv")
	nginx404 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(404)
		io.WriteString(w, "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>")
	}))
	defer nginx404.Close()
	website := sendertest.NewServer(t, sendertest.Config{WebSite: true})
	tlsSite := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSite.Close()
	closed := sendertest.New(sendertest.Config{})
	closed.Close()
	for _, tc := range []struct {
		name, base string
		received   func() int // requests the wrong address got, when it can tell
		unknown    bool       // a 2xx that is not the API's: its contacts are unknown
		says       string
	}{
		{"html 404 page", nginx404.URL, nil, false, "text/html"},
		{"web site answering 200", website.URL, func() int { return len(website.Messages()) }, true, "is not answering as the Messages API"},
		{"no such host", "https://pregon-test.invalid", nil, false, "cannot reach"},
		{"refused", closed.URL, nil, false, "cannot reach"},
		{"untrusted certificate", tlsSite.URL, nil, false, "certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tokenEnv, "t0ken")
			ledger := filepath.Join(t.TempDir(), "pregon.db")
			start := time.Now()
			code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", tc.base)
			if code != exitStopped {
				t.Fatalf("exit %d, want 3\n%s", code, errOut)
			}
			if !strings.Contains(errOut, tc.says) {
				t.Errorf("stderr does not say %q:\n%s", tc.says, errOut)
			}
			if el := time.Since(start); el > 20*time.Second {
				t.Errorf("took %s to stop", el)
			}
			// An address that cannot be reached stops before the ledger
			// records anything.
			st := statusJSON{}
			if list := status(t, ledger); len(list) > 0 {
				st = list[0]
			}
			if st.Failed != 0 || st.Sent != 0 {
				t.Errorf("after a wrong address: %d failed, %d sent, want none", st.Failed, st.Sent)
			}
			if !tc.unknown && st.Unknown != 0 {
				t.Errorf("%d unknown, though nothing answered as the API", st.Unknown)
			}
			if tc.received != nil {
				// One message at a time goes until the API has answered:
				// a wrong address costs one.
				if n := tc.received(); n != 1 || (tc.unknown && st.Unknown != n) {
					t.Errorf("the address received %d messages; %d contacts unknown", n, st.Unknown)
				}
			}
			// The right address, next: everyone not in doubt, once.
			platform := sendertest.NewServer(t, sendertest.Config{})
			args := []string{"send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", platform.URL, "-rate", "0"}
			if tc.unknown {
				args = append(args, "-allow-changed") // it may have acted on the unknown ones
			}
			// The contacts the wrong address left unknown are asked about
			// first; so soon after, the platform's list cannot yet prove
			// them absent, so they stay unknown (no guess), and everyone
			// else is sent, once.
			code, _, errOut = pregon(t, args...)
			if want := map[bool]int{false: 0, true: exitIncomplete}[tc.unknown]; code != want {
				t.Fatalf("right address: exit %d, want %d\n%s", code, want, errOut)
			}
			acceptedOnce(t, platform, 30-st.Unknown)
		})
	}
	t.Run("token with a carriage return", func(t *testing.T) {
		t.Setenv(tokenEnv, "s3cret-token\r")
		platform := sendertest.NewServer(t, sendertest.Config{})
		ledger := filepath.Join(t.TempDir(), "pregon.db")
		code, out, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", platform.URL)
		if code != exitUsage || !strings.Contains(errOut, "carriage return") {
			t.Errorf("exit %d: %s", code, errOut)
		}
		if strings.Contains(out+errOut, "s3cret") {
			t.Errorf("the token was printed")
		}
		if n := len(platform.Requests()); n != 0 {
			t.Errorf("%d requests with a broken token", n)
		}
	})
	t.Run("plain http to another machine", func(t *testing.T) {
		t.Setenv(tokenEnv, "t0ken")
		ledger := filepath.Join(t.TempDir(), "pregon.db")
		code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", "http://api.example-brand.invalid")
		if code != exitUsage || !strings.Contains(errOut, "-insecure") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
}

// Every command pregon suggests reaches the same destination and ledger
// when run literally.
func TestSuggestedCommandsReachTheSameDestination(t *testing.T) {
	t.Setenv(tokenEnv, "t0ken")
	platform := sendertest.NewServer(t, sendertest.Config{})
	ledger := filepath.Join(t.TempDir(), "pregon.db")
	camp, csv := sample("pedido-en-camino.json"), sample("pedido-en-camino.csv")
	// A run stopped early leaves contacts pending.
	code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", platform.URL,
		"-rate", "10", "-max-duration", "600ms")
	if code != exitStopped {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	// The ledger moved since (a copy to another folder): the suggestion
	// names the one status read, not the one the run wrote.
	moved := filepath.Join(t.TempDir(), "movido.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(ledger+suffix, moved+suffix); err != nil && suffix == "" {
			t.Fatal(err)
		}
	}
	ledger = moved
	_, out, _ := pregon(t, "status", "-ledger", ledger)
	m := regexp.MustCompile(`to send the \d+ pending: (.*)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("status suggests no command:\n%s", out)
	}
	args := shellWords(t, m[1])
	if args[0] != "pregon" {
		t.Fatalf("suggested %q", m[1])
	}
	if code, _, errOut := pregon(t, append(args[1:], "-rate", "0")...); code != 0 {
		t.Fatalf("the suggested command: exit %d\n%s", code, errOut)
	}
	acceptedOnce(t, platform, 30)
	// And the summary's pointer to status names this ledger.
	_, _, errOut = pregon(t, "send", "-campaign", camp, "-contacts", writeTemp(t, t.TempDir(), "bad.csv", "phone,nombre,pedido,foto\n12,Ana,PED-1,https://cdn.example-brand.com/1.jpg\n"),
		"-ledger", ledger, "-base-url", platform.URL)
	if !strings.Contains(errOut, "pregon status -ledger "+ledger) {
		t.Errorf("the summary's hint does not name the ledger:\n%s", errOut)
	}
}

// acceptedOnce checks that the platform accepted want contacts, each once.
func acceptedOnce(t *testing.T, platform *sendertest.Server, want int) {
	t.Helper()
	accepted := platform.ByContact()
	if len(accepted) != want {
		t.Errorf("the platform accepted %d contacts, want %d", len(accepted), want)
	}
	for c, n := range accepted {
		if n != 1 {
			t.Errorf("%s got the message %d times", c, n)
		}
	}
}

// shellWords splits a command as a POSIX shell does for what shellQuote
// writes: words separated by spaces, single-quoted words, '\” inside.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	in, quoted := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case in && c == '\'':
			in = false
		case in:
			cur.WriteByte(c)
		case c == '\'':
			in, quoted = true, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == ' ':
			if cur.Len() > 0 || quoted {
				words = append(words, cur.String())
			}
			cur.Reset()
			quoted = false
		default:
			cur.WriteByte(c)
		}
	}
	if in {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if cur.Len() > 0 || quoted {
		words = append(words, cur.String())
	}
	return words
}

// A rehearsal's address that later answers as the platform (the sandbox
// stopped, a real service on its port) is a different destination: the
// rehearsal's "sent" never counts for real customers.
func TestRehearsalAddressThatBecomesThePlatform(t *testing.T) {
	t.Setenv(tokenEnv, "t0ken")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	serve := func(ln net.Listener, cfg sendertest.Config) *http.Server {
		srv := &http.Server{Handler: sendertest.Handler(cfg)}
		go srv.Serve(ln)
		return srv
	}
	sandbox := serve(ln, sendertest.Config{Sandbox: true})
	ledger := filepath.Join(t.TempDir(), "pregon.db")
	camp, csv := sample("pedido-en-camino.json"), sample("pedido-en-camino.csv")
	if code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", "http://"+addr, "-rate", "0"); code != 0 {
		t.Fatalf("rehearsal: exit %d\n%s", code, errOut)
	}
	sandbox.Close()
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	platform := serve(ln, sendertest.Config{})
	defer platform.Close()
	code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", "http://"+addr)
	if code != exitUsage || !strings.Contains(errOut, "rehearsal") {
		t.Errorf("real send where the rehearsal was: exit %d\n%s", code, errOut)
	}
}

// The report's suggested command names the ledger it was made from.
func TestReportCommandNamesTheLedger(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	dir := t.TempDir()
	ledger := filepath.Join(dir, "otro.db")
	csv := writeTemp(t, dir, "c.csv", "phone,nombre,pedido,foto\n12,Ana,PED-1,https://cdn.example-brand.com/1.jpg\n")
	fake := sendertest.NewServer(t, sendertest.Config{})
	pregon(t, "send", "-campaign", sample("pedido-en-camino.json"), "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL)
	_, out, errOut := pregon(t, "report", "-ledger", ledger, "-campaign", "pedido-en-camino")
	if !strings.Contains(out, "pregon export -ledger "+ledger+" -campaign pedido-en-camino") {
		t.Errorf("the report's command does not name the ledger:\n%s%s", out, errOut)
	}
}

// The Spanish guide's commands, as written: init -o promo.json names the
// campaign promo, which status, export and report then take; a wrong name
// lists the ones the ledger has; a bare status after send -sandbox points
// at the sandbox's ledger.
func TestTheGuidesNamesWork(t *testing.T) {
	dir := t.TempDir()
	camp := filepath.Join(dir, "promo.json")
	if code, _, errOut := pregon(t, "init", "-contacts", sample("pedido-en-camino.csv"), "-o", camp); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(string(mustRead(t, camp)), `"name": "promo"`) {
		t.Errorf("init -o promo.json named the campaign otherwise:\n%s", mustRead(t, camp))
	}
	ledger := filepath.Join(dir, "pregon-sandbox.db")
	t.Setenv(tokenEnv, "")
	if code, _, errOut := pregon(t, "send", "-sandbox", "-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"), "-ledger", ledger); code != 0 {
		t.Fatalf("send -sandbox: exit %d\n%s", code, errOut)
	}
	code, _, errOut := pregon(t, "report", "-ledger", ledger, "-campaign", "promo")
	if code != exitUsage || !strings.Contains(errOut, `it has "pedido-en-camino"`) {
		t.Errorf("an unknown name: exit %d\n%s", code, errOut)
	}
	code, _, errOut = pregon(t, "status", "-ledger", filepath.Join(dir, "pregon.db"))
	if code != exitUsage || !strings.Contains(errOut, "pregon status -ledger "+ledger) {
		t.Errorf("status without the sandbox's ledger: exit %d\n%s", code, errOut)
	}
}
