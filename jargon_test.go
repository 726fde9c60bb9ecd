package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// What a Spanish reader sees names places and steps in words, not in the
// HTTP method, the path pattern or a flag.
func TestSpanishWithoutJargon(t *testing.T) {
	t.Setenv(tokenEnv, "")
	ledger := filepath.Join(t.TempDir(), "ensayo.db")
	camp, contacts := sample("pedido-en-camino.json"), sample("pedido-en-camino.csv")

	_, out, _ := pregon(t, "-lang", "es", "send", "-dry-run", "-campaign", camp, "-contacts", contacts, "-ledger", ledger)
	if !strings.Contains(out, "se enviaría a: https://api.example-brand.com (API v2)") || strings.Contains(out, "POST") {
		t.Errorf("dry run:\n%s", out)
	}
	_, js, _ := pregon(t, "send", "-dry-run", "-json", "-campaign", camp, "-contacts", contacts, "-ledger", ledger)
	if !strings.Contains(js, `"https://api.example-brand.com/v2/contact/{contact}/message"`) {
		t.Errorf("dry run -json lost the exact URL:\n%s", js)
	}

	_, _, errOut := pregon(t, "-lang", "es", "send", "-campaign", camp, "-contacts", contacts, "-ledger", ledger)
	for _, w := range []string{"export PREGON_TOKEN=…", `$env:PREGON_TOKEN = "…"`} {
		if !strings.Contains(errOut, w) {
			t.Errorf("no token: want %q in\n%s", w, errOut)
		}
	}

	if code, _, errOut := pregon(t, "send", "-sandbox", "-campaign", camp, "-contacts", contacts, "-ledger", ledger, "-rate", "0"); code != 0 {
		t.Fatalf("send -sandbox: exit %d\n%s", code, errOut)
	}
	_, st, _ := pregon(t, "-lang", "es", "status", "-ledger", ledger)
	if !strings.Contains(st, "destino: el simulador incorporado de pregon, en este equipo\n") || strings.Contains(st, "(-sandbox)") {
		t.Errorf("status:\n%s", st)
	}
}
