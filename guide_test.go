package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/sender/sendertest"
)

// guideCommands are the commands the README's Spanish guide gives, in its
// order: every code span that is a whole pregon or export command.
func guideCommands(t *testing.T) []string {
	t.Helper()
	readme := string(mustRead(t, "README.md"))
	start := strings.Index(readme, "## Guía rápida")
	end := strings.Index(readme[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("README.md has no Guía rápida section")
	}
	guide := readme[start : start+1+end]
	var cmds []string
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(guide, -1) {
		if c := strings.Join(strings.Fields(m[1]), " "); strings.HasPrefix(c, "pregon ") || strings.HasPrefix(c, "export ") {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// english finds words of pregon's English in what it says.
var english = regexp.MustCompile(`\b(the|wrote|were|sent to|Campaign|Dry run|Problems)\b`)

// problemAttr is a row's problem as a log line's value.
var problemAttr = regexp.MustCompile(`problem="(?:[^"\\]|\\.)*"`)

// The Spanish guide, run as written: a new user's first campaign from
// init to the export fed back, in Spanish, with what the guide says to
// fill in and to correct done as a user would. Where it points the user
// at their brand's platform, a fake one answers (it refuses one contact).
func TestGuideRunsAsWritten(t *testing.T) {
	cmds := guideCommands(t)
	if len(cmds) < 10 {
		t.Fatalf("the guide's commands: %q", cmds)
	}
	csv := strings.TrimSuffix(string(mustRead(t, sample("pedido-en-camino.csv"))), "\n") +
		"\n12,Luis Andrade,PED-10299,https://cdn.example-brand.com/pedidos/PED-10299.jpg\n"
	dir := t.TempDir()
	t.Chdir(dir)
	writeTemp(t, dir, "clientes.csv", csv)
	fake := sendertest.NewServer(t, sendertest.Config{Respond: func(r *sendertest.Request) (int, string) {
		if r.Contact == "phone:+593991000002" {
			return 403, "Contact has opted out"
		}
		return 0, ""
	}})
	t.Setenv(i18n.Env, "")
	t.Setenv("LANG", "es_EC.UTF-8")
	t.Setenv(tokenEnv, "")

	// The guide's rehearsal needs the sandbox on its default address.
	sandboxUp := false
	for i, c := range cmds {
		t.Logf("%s", c)
		args := strings.Fields(c)
		switch {
		case c == "export PREGON_TOKEN=…":
			t.Setenv(tokenEnv, "t0ken") // the brand's token
		case strings.HasPrefix(c, "export "):
			name, value, _ := strings.Cut(args[1], "=")
			t.Setenv(name, value)
		case c == "pregon sandbox":
			sandboxUp = startGuideSandbox(t)
		case c == "pregon ui":
			checkGuideUI(t)
		case strings.Contains(c, "127.0.0.1:8025") && !sandboxUp:
			t.Logf("  (skipped: 127.0.0.1:8025 is taken here)")
		default:
			if strings.Contains(c, "-contacts revisar.csv") {
				fixExport(t, "revisar.csv")
			}
			code, out, errOut := pregon(t, args[1:]...)
			if code != exitOK && code != exitIncomplete {
				t.Fatalf("%s: exit %d\n%s%s", c, code, out, errOut)
			}
			// The log's values stay English for programs: problem="…".
			if english.MatchString(out + problemAttr.ReplaceAllString(errOut, "")) {
				t.Errorf("%s: not in Spanish:\n%s%s", c, out, errOut)
			}
			if args[1] == "init" {
				fillIn(t, "promo.json", fake.URL)
			}
			if i == len(cmds)-1 && code != exitIncomplete { // the refused contact stays failed
				t.Errorf("%s: exit %d, want 1", c, code)
			}
		}
	}
	// Every customer got the message once, the corrected one included,
	// and the one the platform refused was asked once and never again.
	if len(fake.Messages()) != 31 {
		t.Errorf("the platform got %d messages, want 31 (30 contacts, the corrected one among them, and the refused one)", len(fake.Messages()))
	}
	for contact, n := range fake.ByContact() {
		if n != 1 {
			t.Errorf("%s got %d messages", contact, n)
		}
	}
	if _, err := os.Stat("informe.html"); err != nil {
		t.Errorf("the guide's report: %v", err)
	}
}

// fillIn completes what init left to fill in, as its notes ask: the
// brand's address, the channel and an approved template.
func fillIn(t *testing.T, path, baseURL string) {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(mustRead(t, path), &c); err != nil {
		t.Fatal(err)
	}
	c["baseUrl"] = baseURL
	c["channelId"] = sendertest.DefaultChannel
	c["message"].(map[string]any)["template"].(map[string]any)["name"] = "delivery_order"
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// fixExport corrects, in the export, the phone that is not one.
func fixExport(t *testing.T, path string) {
	t.Helper()
	data := string(mustRead(t, path))
	fixed := strings.Replace(data, "\r\n12;Luis Andrade", "\r\n+593991000299;Luis Andrade", 1)
	if fixed == data {
		t.Fatalf("the export has no row to correct:\n%s", data)
	}
	if err := os.WriteFile(path, []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startGuideSandbox runs `pregon sandbox` as the guide does, on its
// default address, until the test ends; false when that address is taken.
func startGuideSandbox(t *testing.T) bool {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:8025")
	if err != nil {
		return false
	}
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- exitCode(run(ctx, []string{"sandbox"}, io.Discard, io.Discard), io.Discard) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	for range 100 {
		if c, err := net.Dial("tcp", "127.0.0.1:8025"); err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// checkGuideUI runs `pregon ui` as the guide does, in the guide's folder
// (without opening a browser, on a free port), and opens the address it
// prints: the page offers the folder's files, in Spanish.
func checkGuideUI(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := exitCode(run(ctx, []string{"ui", "-no-browser", "-addr", "127.0.0.1:0"}, w, io.Discard), io.Discard)
		w.Close()
		done <- code
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("pregon ui printed no address: %v", err)
	}
	go io.Copy(io.Discard, out)
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar, Timeout: time.Minute}).Get(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The browser says no language: the page speaks pregon's, the guide's.
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "clientes.csv") || !strings.Contains(string(page), "Preparar una campaña") {
		t.Errorf("pregon ui's page: %d\n%s", resp.StatusCode, page)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("pregon ui: exit %d", code)
	}
}
