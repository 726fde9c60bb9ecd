package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// status, export and report take -campaign as the campaign's name or as
// its file; a name the ledger does not have lists the ones it has.
func TestCampaignByNameOrFile(t *testing.T) {
	t.Setenv(tokenEnv, "")
	dir := t.TempDir()
	ledger := filepath.Join(dir, "l.db")
	camp, csv := sample("encuesta-v1.json"), sample("encuesta-v1.csv")
	if code, _, errOut := pregon(t, "send", "-sandbox", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-rate", "0"); code != 0 {
		t.Fatalf("send: exit %d: %s", code, errOut)
	}
	for _, cmd := range [][]string{{"status"}, {"export", "-outcome", "sent"}, {"report"}} {
		byName := append(append([]string{}, cmd...), "-ledger", ledger, "-campaign", "encuesta-satisfaccion")
		byFile := append(append([]string{}, cmd...), "-ledger", ledger, "-campaign", camp)
		code, want, errOut := pregon(t, byName...)
		if code != 0 {
			t.Fatalf("%s by name: exit %d: %s", cmd[0], code, errOut)
		}
		code, got, errOut := pregon(t, byFile...)
		if code != 0 || (got != want && cmd[0] != "report") || !strings.Contains(got, "encuesta") {
			t.Errorf("%s -campaign %s: exit %d: %s\n%s\nwant the same as by name:\n%s", cmd[0], camp, code, errOut, got, want)
		}
		unknown := append(append([]string{}, cmd...), "-ledger", ledger, "-campaign", "encuesta")
		code, _, errOut = pregon(t, unknown...)
		if wantErr := `pregon: ` + cmd[0] + `: no campaign "encuesta" in ` + ledger + ` (it has "encuesta-satisfaccion"; -campaign takes the "name" in the campaign file, or the file itself: -campaign promo.json)`; code != exitUsage || strings.TrimSpace(errOut) != wantErr {
			t.Errorf("%s, an unknown name: exit %d:\n%s\nwant:\n%s", cmd[0], code, errOut, wantErr)
		}
		other := append(append([]string{}, cmd...), "-ledger", ledger, "-campaign", sample("promo-excel.json"))
		code, _, errOut = pregon(t, other...)
		if wantErr := `pregon: ` + cmd[0] + `: no campaign "promo-black-friday" (the "name" in ` + sample("promo-excel.json") + `) in ` + ledger + ` (it has "encuesta-satisfaccion")`; code != exitUsage || strings.TrimSpace(errOut) != wantErr {
			t.Errorf("%s, a file of another campaign: exit %d:\n%s\nwant:\n%s", cmd[0], code, errOut, wantErr)
		}
	}
	// A file that is not a campaign says so, where.
	broken := writeTemp(t, dir, "roto.json", "{\n  \"name\": \"x\"\n  \"api\": \"v2\"\n}\n")
	code, _, errOut := pregon(t, "status", "-ledger", ledger, "-campaign", broken)
	if code != exitUsage || !strings.Contains(errOut, broken+`: line 2, column 14: a "," is missing here`) {
		t.Errorf("a broken campaign file: exit %d: %s", code, errOut)
	}
}

// A bare status after a rehearsal with -sandbox (whose runs are in
// pregon-sandbox.db) says where they are and the command that shows them.
func TestBareStatusFindsTheSandboxLedger(t *testing.T) {
	t.Setenv(tokenEnv, "")
	dir := t.TempDir()
	camp, _ := filepath.Abs(sample("encuesta-v1.json"))
	csv, _ := filepath.Abs(sample("encuesta-v1.csv"))
	t.Chdir(dir)
	if code, _, errOut := pregon(t, "send", "-sandbox", "-campaign", camp, "-contacts", csv, "-rate", "0"); code != 0 {
		t.Fatalf("send -sandbox: exit %d: %s", code, errOut)
	}
	code, _, errOut := pregon(t, "status")
	want := "pregon: status: no pregon.db here; your sandbox runs are in pregon-sandbox.db: pregon status -ledger pregon-sandbox.db\n"
	if code != exitUsage || errOut != want {
		t.Errorf("exit %d: %q\nwant %q", code, errOut, want)
	}
	code, _, errOut = pregon(t, "export", "-campaign", camp)
	want = "pregon: export: no pregon.db here; your sandbox runs are in pregon-sandbox.db: pregon export -ledger pregon-sandbox.db -campaign " + camp + "\n"
	if code != exitUsage || errOut != want {
		t.Errorf("exit %d: %q\nwant %q", code, errOut, want)
	}
	if code, out, errOut := pregon(t, "status", "-ledger", defaultSandboxLedger, "-campaign", camp); code != 0 || !strings.Contains(out, "encuesta-satisfaccion") {
		t.Errorf("the command it gives: exit %d: %s%s", code, out, errOut)
	}
	if _, err := os.Stat(defaultLedger); !os.IsNotExist(err) {
		t.Errorf("status made %s: %v", defaultLedger, err)
	}
}
