package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pregon/pregon/sender/sendertest"
)

// Each warning is listed by the dry run (text and -json) and logged at
// the start of a real send, which still sends every row.
func TestWarningsInTheDryRunAndTheSend(t *testing.T) {
	fixture := func(name string) (camp, csv string) {
		dir := filepath.Join("campaign", "testdata", "csv")
		return filepath.Join(dir, name+".json"), filepath.Join(dir, name+".csv")
	}
	for _, tc := range []struct {
		fixture, code string
		count, rows   int
		says          []string
	}{
		{"warning-fixed-line", "fixed_line", 3, 4, []string{
			"phone numbers that are fixed lines, which WhatsApp does not reach (it needs a mobile): 3",
			`line 2, column "phone": "02 245 6789"`, `line 5, column "phone": "(04) 259 0000"`}},
		{"warning-comma-name", "comma_in_name", 3, 6, []string{
			`names written "Apellido, Nombre", which the customer reads that way ("Hola Pérez, Ana"): 3`,
			`line 2, column "Nombre": "Peña, Ana"`, `line 3, column "Apellido": "de la Torre, Ortiz"`}},
		{"warning-single-brace", "single_brace", 3, 1, []string{
			"column names in single braces, sent as written, braces and all (write {{Nombre}} to fill one in): 3",
			`{Nombre} in message.template.components[0].text (the column "Nombre")`}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			camp, csv := fixture(tc.fixture)
			dir := t.TempDir()
			ledger := filepath.Join(dir, "l.db")
			t.Setenv(tokenEnv, "")
			code, out, errOut := pregon(t, "send", "-dry-run", "-campaign", camp, "-contacts", csv, "-ledger", ledger)
			if code != 0 {
				t.Fatalf("dry run: exit %d: %s", code, errOut)
			}
			for _, want := range tc.says {
				if !strings.Contains(out, want) {
					t.Errorf("the dry run does not say %q:\n%s", want, out)
				}
			}
			_, out, _ = pregon(t, "send", "-dry-run", "-json", "-campaign", camp, "-contacts", csv, "-ledger", ledger)
			var got dryRunJSON
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Warnings) != 1 || got.Warnings[0].Code != tc.code || got.Warnings[0].Count != tc.count || len(got.Warnings[0].Examples) != tc.count {
				t.Errorf("-json warnings = %+v", got.Warnings)
			}
			t.Setenv(tokenEnv, "t")
			fake := sendertest.NewServer(t, sendertest.Config{Templates: []sendertest.Template{}})
			code, _, errOut = pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL, "-rate", "0")
			if code != 0 || len(fake.Messages()) != tc.rows {
				t.Errorf("send: exit %d, %d messages, want 0 and %d: %s", code, len(fake.Messages()), tc.rows, errOut)
			}
			if want := "level=WARN msg=\"" + strings.SplitN(tc.says[0], ": 3", 2)[0]; !strings.Contains(strings.ReplaceAll(errOut, `\"`, `"`), want) || !strings.Contains(errOut, "count=3") {
				t.Errorf("the send does not log %s with count=3:\n%s", want, errOut)
			}
		})
	}
}
