package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pregon/pregon/sender/sendertest"
)

// The dry run's report, text and -json, on the samples: a WhatsApp
// template shown with the platform's text (a token set, the fake
// platform's templates), the same without a token, and a v2 text from an
// Excel file. Run with -update to rewrite them.
func TestDryRunGolden(t *testing.T) {
	fake := sendertest.NewServer(t, sendertest.Config{})
	for _, tc := range []struct {
		golden, campaign, csv, token, baseURL string
		code                                  int
	}{
		{"dryrun-pedido-en-camino", "pedido-en-camino.json", "pedido-en-camino.csv", "t0ken", fake.URL, 0},
		{"dryrun-pedido-en-camino-no-token", "pedido-en-camino.json", "pedido-en-camino.csv", "", "https://api.marca.example", 0},
		{"dryrun-promo-excel", "promo-excel.json", "promo-excel.csv", "", "https://api.marca.example", 0},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			t.Setenv(tokenEnv, tc.token)
			args := []string{"send", "-dry-run", "-campaign", sample(tc.campaign), "-contacts", sample(tc.csv),
				"-ledger", filepath.Join(t.TempDir(), "l.db"), "-base-url", tc.baseURL}
			// What varies from run to run and machine to machine: the fake
			// platform's port, and how the paths are written.
			stable := strings.NewReplacer(fake.URL, "http://127.0.0.1:PORT",
				sample(tc.campaign), "samples/"+tc.campaign, sample(tc.csv), "samples/"+tc.csv,
				strings.ReplaceAll(sample(tc.campaign), `\`, `\\`), "samples/"+tc.campaign,
				strings.ReplaceAll(sample(tc.csv), `\`, `\\`), "samples/"+tc.csv)
			code, out, errOut := pregon(t, args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d: %s", code, tc.code, errOut)
			}
			golden(t, tc.golden+".golden", stable.Replace(out))
			code, out, errOut = pregon(t, append(args, "-json")...)
			if code != tc.code {
				t.Errorf("-json: exit %d, want %d: %s", code, tc.code, errOut)
			}
			golden(t, tc.golden+".json.golden", stable.Replace(out))
		})
	}
}

// -dry-run -sandbox says the messages would go to the built-in sandbox,
// and shows a template with the sandbox's text, as the send would use
// it; the sample's example baseUrl is not where it sends, so no error.
func TestDryRunWithTheSandbox(t *testing.T) {
	t.Setenv(tokenEnv, "")
	ledger := filepath.Join(t.TempDir(), "pregon-sandbox.db")
	code, out, errOut := pregon(t, "send", "-dry-run", "-sandbox", "-campaign", sample("pedido-en-camino.json"),
		"-contacts", sample("pedido-en-camino.csv"), "-ledger", ledger)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"to: the built-in sandbox", "WhatsApp template: on the platform, approved",
		"    body    Hola, José Núñez tu pedido PED-10231 está en camino.\n    footer  Gracias por tu compra\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the dry run does not say %q:\n%s", want, out)
		}
	}
}

// The dry run refuses a ledger that the send would refuse: after a
// rehearsal written into the ledger of the real send, it says so (exit 2)
// rather than count the real customers as already done. Rehearsing again
// at the same address is no change.
func TestDryRunRefusesARehearsalsLedger(t *testing.T) {
	t.Setenv(tokenEnv, "t0ken")
	dir := t.TempDir()
	ledger := filepath.Join(dir, "pregon.db")
	rehearsal := sendertest.NewServer(t, sendertest.Config{Sandbox: true})
	args := []string{"-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"), "-ledger", ledger}
	if code, _, errOut := pregon(t, append([]string{"send", "-base-url", rehearsal.URL, "-rate", "0"}, args...)...); code != 0 {
		t.Fatalf("rehearsal: exit %d\n%s", code, errOut)
	}
	code, out, errOut := pregon(t, append([]string{"send", "-dry-run", "-base-url", "https://api.brand.test"}, args...)...)
	if code != exitUsage || !strings.Contains(errOut, "rehearsal") || strings.Contains(out, "would send: 0") {
		t.Errorf("dry run for the real send: exit %d, want 2 naming the rehearsal\n%s%s", code, out, errOut)
	}
	if code, out, errOut := pregon(t, append([]string{"send", "-dry-run", "-base-url", rehearsal.URL}, args...)...); code != 0 {
		t.Errorf("dry run at the rehearsal's own address: exit %d\n%s%s", code, out, errOut)
	}
}
