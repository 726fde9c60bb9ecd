package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/sender/sendertest"
)

// fillStarter does to a campaign init wrote what init says to do: put the
// brand's address, the channel, the template's name and the words.
func fillStarter(t *testing.T, path string) {
	t.Helper()
	s := strings.NewReplacer(
		campaign.ExampleBaseURLv1, "https://app.marca.example/api",
		campaign.ExampleBaseURLv2, "https://api.marca.example",
		campaign.ExampleImageURL, "https://cdn.marca.example/promo.jpg",
		`"channelId": 0`, `"channelId": 4242`,
		campaign.ExampleTemplateName, "delivery_order",
		campaign.ExampleText, ", llegó tu pedido.",
		campaign.ExampleQuestion, "¿te gustó?",
	).Replace(string(mustRead(t, path)))
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// init writes the campaign in the order a person reads it: name, api,
// baseUrl, channelId, contact, then the message, its type first.
func TestInitWritesKeysInReadingOrder(t *testing.T) {
	code, out, errOut := pregon(t, "init", "-contacts", sample("promo-excel.csv"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "init-promo-excel.golden", out)
	for _, tc := range []struct{ typ, api string }{{"text", "v2"}, {"image", "v2"}, {"image", "v1"}, {"quick_reply", "v1"}} {
		code, out, errOut := pregon(t, "init", "-contacts", sample("aviso-texto-v1.csv"), "-type", tc.typ, "-api", tc.api)
		if code != 0 {
			t.Fatalf("%s %s: exit %d: %s", tc.typ, tc.api, code, errOut)
		}
		if !strings.Contains(out, "\"message\": {\n    \"type\": ") {
			t.Errorf("%s %s: the message's type is not its first key:\n%s", tc.typ, tc.api, out)
		}
	}
}

// What init leaves to fill in stops the dry run and the send (exit 2),
// each value named with its key; nothing reaches the platform.
func TestInitsExamplesAreErrors(t *testing.T) {
	t.Setenv(tokenEnv, "t0ken")
	dir := t.TempDir()
	camp := filepath.Join(dir, "promo.json")
	if code, _, errOut := pregon(t, "init", "-contacts", sample("pedido-en-camino.csv"), "-o", camp); code != 0 {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	ledger := filepath.Join(dir, "l.db")
	args := []string{"-campaign", camp, "-contacts", sample("pedido-en-camino.csv"), "-ledger", ledger}
	all := []string{
		`"baseUrl" is still the example "https://api.example-brand.com": put your brand's API address`,
		`"channelId" is still 0: put the number of the channel that sends`,
		`"message.template.name" is still "nombre_de_la_plantilla": put the name of your WhatsApp template`,
	}
	code, out, errOut := pregon(t, append([]string{"send", "-dry-run"}, args...)...)
	if code != exitUsage {
		t.Errorf("dry run: exit %d, want 2\n%s%s", code, out, errOut)
	}
	for _, want := range append(all, camp+": these 3 values are still examples to fill in (nothing was sent):") {
		if !strings.Contains(errOut, want) {
			t.Errorf("dry run does not say %q:\n%s", want, errOut)
		}
	}
	fake := sendertest.NewServer(t, sendertest.Config{})
	code, _, errOut = pregon(t, append([]string{"send", "-base-url", fake.URL}, args...)...)
	if code != exitUsage || strings.Contains(errOut, `"baseUrl"`) || !strings.Contains(errOut, all[1]) || !strings.Contains(errOut, all[2]) {
		t.Errorf("send with -base-url: exit %d, want 2 naming channelId and the template, not baseUrl:\n%s", code, errOut)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests reached the platform", n)
	}
	if _, err := os.Stat(ledger); !os.IsNotExist(err) {
		t.Errorf("the refused send made a ledger: %v", err)
	}
	// Filled in, with the sandbox's channel and template, it is sent.
	fillStarter(t, camp)
	code, _, errOut = pregon(t, append([]string{"send", "-base-url", fake.URL, "-rate", "0"}, args...)...)
	if code != 0 {
		t.Errorf("the filled campaign: exit %d: %s", code, errOut)
	}
	// The text and the question init leaves to write.
	for _, tc := range []struct{ csv, typ, api, key string }{
		{"aviso-texto-v1.csv", "text", "v1", `"message.text" is still "Hola {{nombre}}, …"`},
		{"encuesta-v1.csv", "quick_reply", "v1", `"message.title" is still "{{nombre}}, ¿…?"`},
		{"aviso-texto-v1.csv", "image", "v2", `"message.attachment.url" is still the example "https://example-brand.com/imagen.jpg"`},
	} {
		out := filepath.Join(t.TempDir(), "c.json")
		if code, _, errOut := pregon(t, "init", "-contacts", sample(tc.csv), "-type", tc.typ, "-api", tc.api, "-o", out); code != 0 {
			t.Fatalf("init: exit %d: %s", code, errOut)
		}
		code, _, errOut := pregon(t, "send", "-dry-run", "-base-url", "https://api.marca.example", "-campaign", out, "-contacts", sample(tc.csv))
		if code != exitUsage || !strings.Contains(errOut, tc.key) {
			t.Errorf("%s %s: exit %d, want 2 saying %s:\n%s", tc.csv, tc.typ, code, tc.key, errOut)
		}
	}
}

// The token never goes to the example address, given as -base-url (with
// or without the trailing dot of a fully qualified name), and the dry run
// refuses, and never prints, an address the send would refuse.
func TestExampleOrUnsafeBaseURLIsRefused(t *testing.T) {
	t.Setenv(tokenEnv, "t0ken")
	args := []string{"-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"), "-ledger", filepath.Join(t.TempDir(), "l.db")}
	for _, tc := range []struct{ base, says string }{
		{"https://api.example-brand.com", `"-base-url" is still the example "https://api.example-brand.com"`},
		{"https://API.example-brand.com.", `"-base-url" is still the example "https://API.example-brand.com."`},
		{"https://user:s3cr3t@api.brand.test", "must not carry credentials"},
		{"http://10.1.1.1", "plain http to another machine"},
	} {
		for _, dry := range []bool{true, false} {
			cmd := []string{"send", "-base-url", tc.base}
			if dry {
				cmd = append(cmd, "-dry-run", "-json")
			}
			code, out, errOut := pregon(t, append(cmd, args...)...)
			if code != exitUsage || !strings.Contains(out+errOut, tc.says) || strings.Contains(out+errOut, "s3cr3t") {
				t.Errorf("%v (dry run %v): exit %d, want 2 saying %q, never the password:\n%s%s", tc.base, dry, code, tc.says, out, errOut)
			}
		}
	}
}
