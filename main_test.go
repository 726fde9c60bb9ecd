package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/sender/sendertest"
	"github.com/pregon/pregon/store"
)

// pregon runs the command in-process, as main does, and returns its exit
// code and output.
func pregon(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = exitCode(run(context.Background(), args, &out, &errb), &errb)
	return code, out.String(), errb.String()
}

func sample(name string) string { return filepath.Join("samples", name) }

// writeTemp writes content to name in dir and returns its path.
func writeTemp(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func status(t *testing.T, ledger string) []statusJSON {
	t.Helper()
	code, out, errOut := pregon(t, "status", "-ledger", ledger, "-json")
	if code != 0 {
		t.Fatalf("status exit %d: %s", code, errOut)
	}
	var rows []statusJSON
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("status -json: %v\n%s", err, out)
	}
	return rows
}

func TestSendSamplesEndToEnd(t *testing.T) {
	t.Setenv(tokenEnv, "s3cret-token")
	samples := []struct {
		campaign, csv string
		contacts      int // distinct contacts in the CSV
		duplicates    int
	}{
		{"pedido-en-camino.json", "pedido-en-camino.csv", 30, 1},
		{"aviso-texto-v1.json", "aviso-texto-v1.csv", 8, 0},
		{"catalogo-adjunto-v1.json", "catalogo-adjunto-v1.csv", 5, 0},
		{"encuesta-v1.json", "encuesta-v1.csv", 6, 0},
		{"promo-excel.json", "promo-excel.csv", 5, 0},
	}
	for _, s := range samples {
		t.Run(s.campaign, func(t *testing.T) {
			fake := sendertest.NewServer(t, sendertest.Config{Token: "s3cret-token", Latency: 20 * time.Millisecond, Jitter: 0.5})
			ledger := filepath.Join(t.TempDir(), "pregon.db")
			args := []string{"send", "-campaign", sample(s.campaign), "-contacts", sample(s.csv), "-ledger", ledger, "-base-url", fake.URL}
			code, out, errOut := pregon(t, args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			reqs := fake.Messages()
			if len(reqs) != s.contacts {
				t.Errorf("requests = %d, want one per contact (%d)", len(reqs), s.contacts)
			}
			for c, n := range fake.ByContact() {
				if n != 1 {
					t.Errorf("%s received %d messages", c, n)
				}
			}
			if got := fake.MaxInWindow(time.Second); got > 25 {
				t.Errorf("%d requests within one second", got)
			}
			for _, r := range reqs {
				if r.Token != "s3cret-token" || strings.Contains(r.Path, "s3cret") {
					t.Errorf("request %s: token not sent as a bearer header only", r.Path)
				}
			}
			if strings.Contains(out+errOut, "s3cret") {
				t.Error("the token was printed")
			}
			st := status(t, ledger)
			if len(st) != 1 || st[0].Sent != s.contacts || st[0].Duplicate != s.duplicates || st[0].Total != s.contacts+s.duplicates {
				t.Errorf("status = %+v", st)
			}
			if data, _ := os.ReadFile(ledger); bytes.Contains(data, []byte("s3cret")) {
				t.Error("the token is in the ledger")
			}

			// Re-running the same command sends nothing.
			code, out, errOut = pregon(t, args...)
			if code != 0 || len(fake.Messages()) != s.contacts {
				t.Errorf("second run: exit %d, requests %d\n%s%s", code, len(fake.Messages()), out, errOut)
			}
		})
	}
}

func TestPayloadSentIsTheLedgerPayload(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	fake := sendertest.NewServer(t, sendertest.Config{})
	ledger := filepath.Join(t.TempDir(), "pregon.db")
	code, _, errOut := pregon(t, "send", "-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"),
		"-ledger", ledger, "-base-url", fake.URL, "-rate", "100")
	if code != 0 {
		t.Fatal(errOut)
	}
	for _, r := range fake.Messages() {
		if r.Contact == "phone:+593991000006" {
			want := `{"channelId":4242,"message":{"type":"whatsapp_template","template":{"name":"delivery_order","languageCode":"es","components":[` +
				`{"type":"header","format":"image","parameters":[{"type":"image","image":{"link":"https://cdn.example-brand.com/pedidos/PED-10236.jpg"}}]},` +
				`{"type":"body","text":"Hola, {{1}} tu pedido {{2}} está en camino.","parameters":[{"type":"text","text":"Luis \"Lucho\" Cárdenas"},{"type":"text","text":"PED-10236"}]},` +
				`{"type":"footer","text":"Gracias por tu compra"}]}}}`
			if string(r.Body) != want {
				t.Errorf("body:\n got %s\nwant %s", r.Body, want)
			}
			return
		}
	}
	t.Error("no request for phone:+593991000006")
}

func TestRejectedTokenExits3WithNothingFailed(t *testing.T) {
	t.Setenv(tokenEnv, "wrong")
	fake := sendertest.NewServer(t, sendertest.Config{Token: "right"})
	ledger := filepath.Join(t.TempDir(), "pregon.db")
	code, _, errOut := pregon(t, "send", "-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"),
		"-ledger", ledger, "-base-url", fake.URL)
	if code != exitStopped {
		t.Fatalf("exit %d, want 3\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "rejected the token (401 API Token is invalid.)") {
		t.Errorf("stderr does not explain: %s", errOut)
	}
	// The template check before the first message met the wrong token:
	// nothing is recorded (a text campaign would have its contacts pending).
	if st := status(t, ledger); len(st) > 0 && (st[0].Failed != 0 || st[0].Unknown != 0 || st[0].Pending != 30 || st[0].Sent != 0) {
		t.Errorf("status = %+v, want all 30 pending", st[0])
	}
	if n := len(fake.Messages()); n != 0 {
		t.Errorf("%d messages with a rejected token", n)
	}
	// With the right token the same command finishes the job.
	t.Setenv(tokenEnv, "right")
	if code, _, errOut := pregon(t, "send", "-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"),
		"-ledger", ledger, "-base-url", fake.URL, "-rate", "100"); code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, errOut)
	}
	if n := len(fake.ByContact()); n != 30 {
		t.Errorf("accepted %d contacts, want 30", n)
	}
}

func TestInputErrorsSendNothing(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string { return writeTemp(t, dir, name, content) }
	good := write("c.json", `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	tests := []struct {
		name     string
		token    string
		campaign string
		csv      string
		want     string
	}{
		{"missing token", "", good, write("ok.csv", "phone,nombre\n+593991000001,Ana\n"), "the API token is missing"},
		{"missing column", "t", good, write("nocol.csv", "phone,name\n+593991000001,Ana\n"), "the campaign uses {{nombre}} but the CSV has no such column"},
		{"broken row late in the file", "t", good, write("broken.csv", "phone,nombre\n+593991000001,Ana\n+593991000002,\"Eva\n"), "broken.csv:3:"},
		{"bad campaign", "t", write("bad.json", `{"name":"x","api":"v2"}`), write("ok2.csv", "phone,nombre\n+593991000001,Ana\n"), `"message" is missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tokenEnv, tt.token)
			fake := sendertest.NewServer(t, sendertest.Config{})
			code, _, errOut := pregon(t, "send", "-campaign", tt.campaign, "-contacts", tt.csv,
				"-ledger", filepath.Join(t.TempDir(), "l.db"), "-base-url", fake.URL)
			if code != exitUsage {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr = %s, want it to say %q", errOut, tt.want)
			}
			if n := len(fake.Messages()); n != 0 {
				t.Errorf("%d requests were made", n)
			}
		})
	}
}

func TestInvalidRowsAreRecordedAndTheRestSent(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	dir := t.TempDir()
	camp := writeTemp(t, dir, "c.json", `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	csv := writeTemp(t, dir, "clientes.csv", "phone,nombre\n+593991000001,Ana\n12,Luis\n+593991000003,\n+593991000004,Eva\n")
	fake := sendertest.NewServer(t, sendertest.Config{})
	ledger := filepath.Join(dir, "l.db")
	code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL)
	if code != exitIncomplete {
		t.Fatalf("exit %d, want 1\n%s", code, errOut)
	}
	if !strings.Contains(errOut, `clientes.csv:3: column \"phone\": \"12\"`) {
		t.Errorf("the invalid row is not named: %s", errOut)
	}
	st := status(t, ledger)[0]
	if st.Sent != 2 || st.Invalid != 2 || len(fake.Messages()) != 2 {
		t.Errorf("status = %+v, requests %d", st, len(fake.Messages()))
	}
}

func TestDryRunSendsNothingAndNeedsNoToken(t *testing.T) {
	t.Setenv(tokenEnv, "")
	dir := t.TempDir()
	ledger := filepath.Join(dir, "l.db")
	// The sample's baseUrl is an example, which the send refuses.
	code, out, errOut := pregon(t, "send", "-dry-run", "-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"), "-ledger", ledger,
		"-base-url", "https://api.marca.example")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"would send: 30   invalid: 0   duplicate: 1", "same contact as line 2", "body {{1}}    José Núñez",
		"to: POST https://api.marca.example/v2/contact/{contact}/message", "line 4, to +593991000003"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(ledger); !os.IsNotExist(err) {
		t.Error("dry run created the ledger")
	}
}

func TestSandboxNeedsNoTokenAndKeepsItsOwnLedger(t *testing.T) {
	t.Setenv(tokenEnv, "")
	dir := t.TempDir()
	ledger := filepath.Join(dir, "sandbox.db")
	code, out, errOut := pregon(t, "send", "-sandbox", "-campaign", sample("encuesta-v1.json"), "-contacts", sample("encuesta-v1.csv"), "-ledger", ledger)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "6 sent") {
		t.Errorf("summary: %s", out)
	}
	// The rehearsal's "sent" must not make a real send skip everyone.
	t.Setenv(tokenEnv, "t")
	fake := sendertest.NewServer(t, sendertest.Config{})
	code, _, errOut = pregon(t, "send", "-campaign", sample("encuesta-v1.json"), "-contacts", sample("encuesta-v1.csv"), "-ledger", ledger, "-base-url", fake.URL)
	if code != exitUsage || !strings.Contains(errOut, "built-in sandbox") || !strings.Contains(errOut, "-ledger ensayo.db") {
		t.Errorf("real send on a sandbox ledger: exit %d: %s", code, errOut)
	}
}

func TestChangedCampaignIsRefused(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	dir := t.TempDir()
	csv := writeTemp(t, dir, "c.csv", "phone,nombre\n+593991000001,Ana\n+593991000002,Eva\n")
	camp := writeTemp(t, dir, "c.json", `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	fake := sendertest.NewServer(t, sendertest.Config{Respond: func(r *sendertest.Request) (int, string) {
		if r.Contact == "phone:+593991000002" {
			return 403, "opted out"
		}
		return 0, ""
	}})
	ledger := filepath.Join(dir, "l.db")
	args := []string{"send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL}
	if code, _, errOut := pregon(t, args...); code != exitIncomplete {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	writeTemp(t, dir, "c.json", `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}!"}}`)
	code, _, errOut := pregon(t, args...)
	if code != exitUsage || !strings.Contains(errOut, `message.text: "Hola {{nombre}}" → "Hola {{nombre}}!"`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if n := len(fake.Messages()); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
}

func TestStatusWithoutLedger(t *testing.T) {
	code, _, errOut := pregon(t, "status", "-ledger", filepath.Join(t.TempDir(), "none.db"))
	if code != exitUsage || !strings.Contains(errOut, "none.db") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestExportFixAndResend(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	dir := t.TempDir()
	camp := writeTemp(t, dir, "c.json", `{"name":"x","api":"v2","defaultCountry":"EC","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	csv := writeTemp(t, dir, "clientes.csv", "phone,nombre\n"+
		"+593991000001,Ana\n"+
		"12,Luis\n"+
		"+593991000003,\"=HYPERLINK(\"\"http://x\"\")\"\n"+
		"+593991000004,Eva\n")
	fake := sendertest.NewServer(t, sendertest.Config{Respond: func(r *sendertest.Request) (int, string) {
		if r.Contact == "phone:+593991000004" {
			return 403, "Contact has opted out"
		}
		return 0, ""
	}})
	ledger := filepath.Join(dir, "l.db")
	if code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL); code != exitIncomplete {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	export := filepath.Join(dir, "revisar.csv")
	if code, _, errOut := pregon(t, "export", "-ledger", ledger, "-campaign", "x", "-outcome", "invalid,failed", "-o", export); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	want := "\uFEFFphone;nombre;pregon_file;pregon_line;pregon_state;pregon_error;pregon_attempts;pregon_message_id;pregon_sent_at;" +
		"pregon_delivery;pregon_delivered_at;pregon_read_at;pregon_row\r\n" +
		"12;Luis;clientes.csv;3;invalid;\"column \"\"phone\"\": \"\"12\"\" is not a phone number\";0;;;;;;2\r\n" +
		"+593991000004;Eva;clientes.csv;5;failed;\"refused by the platform: 403 \"\"Contact has opted out\"\"\";1;;;;;;4\r\n"
	if string(data) != want {
		t.Errorf("export:\n got %q\nwant %q", data, want)
	}
	if fi, _ := os.Stat(export); fi.Mode().Perm() != 0o600 {
		t.Errorf("export mode = %v, want 0600", fi.Mode().Perm())
	}

	// The formula cell is guarded in an export of sent rows, and reads back
	// as the customer's original value.
	all := filepath.Join(dir, "todo.csv")
	if code, _, errOut := pregon(t, "export", "-ledger", ledger, "-campaign", "x", "-o", all); code != 0 {
		t.Fatalf("export all: %s", errOut)
	}
	if data, _ := os.ReadFile(all); !strings.Contains(string(data), "\r\n+593991000003;\"'=HYPERLINK(\"\"http://x\"\")\";clientes.csv;4;sent;") {
		t.Errorf("formula not guarded:\n%s", data)
	}

	// Fix the phone in the export and feed it back: only that row is sent.
	os.WriteFile(export, []byte(strings.Replace(string(mustRead(t, export)), "12;Luis", "0991000002;Luis", 1)), 0o600)
	before := len(fake.Messages())
	code, out, errOut := pregon(t, "send", "-campaign", camp, "-contacts", export, "-ledger", ledger, "-base-url", fake.URL)
	if code != exitIncomplete { // the refused contact stays failed
		t.Fatalf("resend: exit %d\n%s%s", code, out, errOut)
	}
	reqs := fake.Messages()[before:]
	if len(reqs) != 1 || reqs[0].Contact != "phone:+593991000002" || string(reqs[0].Body) != `{"message":{"type":"text","text":"Hola Luis"}}` {
		t.Errorf("resend requests = %+v", reqs)
	}
	st := status(t, ledger)[0]
	if st.Sent != 3 || st.Failed != 1 || st.Invalid != 0 {
		t.Errorf("status after the fix = %+v", st)
	}
}

// The fix-up cycle as users run it: the nightly send of the original file,
// an export of its broken rows fixed in Excel and sent, then the nightly
// run of the unchanged original again. The campaign keeps one record per
// person through it all: the rows fixed through the export are those
// contacts, sent once, and the row still broken is invalid once.
func TestFixThroughTheExportThenTheOriginalAgain(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	dir := t.TempDir()
	camp := writeTemp(t, dir, "promo.json", `{"name":"promo","api":"v2","defaultCountry":"EC","contact":{"column":"Teléfono","type":"phone"},`+
		`"message":{"type":"text","text":"Hola {{nombre}}"}}`)
	original := writeTemp(t, dir, "clientes.csv", "\uFEFFTeléfono;nombre;ciudad\r\n"+
		"0991000001;Ana;Quito\r\n"+
		"12;Luis;Quito\r\n"+ // no contact: fixed in the export
		"0991000003;José;Cuenca\r\n"+
		"0991000005;;Loja\r\n"+ // a contact, but no name: fixed in the export
		"0991000006;Eva;Quito\r\n"+
		"abc;Pedro;Ambato\r\n"+ // no contact: still broken after the fix
		"0991000008;Marta;Quito\r\n")
	fake := sendertest.NewServer(t, sendertest.Config{})
	ledger := filepath.Join(dir, "pregon.db")
	send := func(csv string) (string, string) {
		t.Helper()
		code, out, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL, "-rate", "100")
		if code != exitIncomplete { // Pedro's row stays invalid throughout
			t.Fatalf("send %s: exit %d, want 1\n%s%s", filepath.Base(csv), code, out, errOut)
		}
		return out, errOut
	}
	const people = 7 // Pedro's row is someone too, though not reachable yet
	checkLedger := func(when string, sent int) {
		t.Helper()
		st := status(t, ledger)[0]
		if st.Total != people || st.Sent != sent || st.Invalid != people-sent || st.Duplicate != 0 || st.Pending != 0 {
			t.Errorf("%s: status = total %d, sent %d, invalid %d, duplicate %d, pending %d; want %d people, %d sent, %d invalid",
				when, st.Total, st.Sent, st.Invalid, st.Duplicate, st.Pending, people, sent, people-sent)
		}
		l, err := store.OpenReadOnly(context.Background(), ledger)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		id, _, err := l.Lookup(context.Background(), "promo")
		if err != nil {
			t.Fatal(err)
		}
		cs, err := l.Contacts(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		records := map[string][]campaign.State{}
		for _, c := range cs {
			records[c.Contact] = append(records[c.Contact], c.State)
		}
		for contact, sts := range records {
			if contact != "" && len(sts) != 1 {
				t.Errorf("%s: %s has %d records: %v", when, contact, len(sts), sts)
			}
		}
		for _, fixed := range []string{"phone:+593991000002", "phone:+593991000005"} {
			if got := records[fixed]; sent == people-1 && (len(got) != 1 || got[0] != campaign.Sent) {
				t.Errorf("%s: %s is %v, want sent only", when, fixed, got)
			}
		}
	}

	send(original)
	checkLedger("after the first send", 4)

	export := filepath.Join(dir, "revisar.csv")
	if code, _, errOut := pregon(t, "export", "-ledger", ledger, "-campaign", "promo", "-outcome", "invalid", "-o", export); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	rows := readExport(t, export)
	if len(rows) != 4 {
		t.Fatalf("export has %d rows, want a header and 3: %q", len(rows), rows)
	}
	wantHeader := []string{"Teléfono", "nombre", "ciudad", "pregon_file", "pregon_line", "pregon_state", "pregon_error",
		"pregon_attempts", "pregon_message_id", "pregon_sent_at", "pregon_delivery", "pregon_delivered_at", "pregon_read_at", "pregon_row"}
	if strings.Join(rows[0], ";") != strings.Join(wantHeader, ";") {
		t.Errorf("export header = %q", rows[0])
	}
	// Fixed in Excel: Luis's phone and the missing name; Pedro's row left.
	// Excel saves "CSV" in Windows-1252, without the byte order mark, and
	// writes empty rows as bare separators.
	for _, r := range rows[1:] {
		switch r[4] {
		case "3":
			r[0] = "0991000002"
		case "5":
			r[1] = "Rosa"
		}
	}
	writeAsExcel(t, export, append(rows, make([]string, len(wantHeader))))

	before := len(fake.Messages())
	send(export)
	var resent []string
	for _, r := range fake.Messages()[before:] {
		resent = append(resent, r.Contact)
	}
	slices.Sort(resent)
	if strings.Join(resent, " ") != "phone:+593991000002 phone:+593991000005" {
		t.Errorf("sending the fixed export reached %v, want the two fixed contacts", resent)
	}
	checkLedger("after sending the export", 6)

	// Tonight's cron line sends the original, unchanged, again. Twice, for
	// good measure: nothing moves.
	for _, night := range []string{"first night", "second night"} {
		before := len(fake.Messages())
		_, errOut := send(original)
		if n := len(fake.Messages()) - before; n != 0 {
			t.Errorf("%s: %d requests, want none", night, n)
		}
		for _, want := range []string{"clientes.csv:3 was fixed in revisar.csv (+593991000002): sent.",
			"clientes.csv:5 was fixed in revisar.csv (+593991000005): sent.", "fixed_elsewhere=2 invalid=1"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s: the log does not say %q:\n%s", night, want, errOut)
			}
		}
		if strings.Contains(errOut, `clientes.csv:3: column`) || strings.Contains(errOut, `clientes.csv:5: column`) {
			t.Errorf("%s: a row fixed through the export is reported invalid:\n%s", night, errOut)
		}
		checkLedger(night, 6)
	}
	for c, n := range fake.ByContact() {
		if n != 1 {
			t.Errorf("%s received %d messages", c, n)
		}
	}
	if n := len(fake.ByContact()); n != 6 {
		t.Errorf("%d people received the message, want 6", n)
	}

	// What is left to fix is Pedro's row, where it is in the original.
	again := filepath.Join(dir, "revisar2.csv")
	if code, _, errOut := pregon(t, "export", "-ledger", ledger, "-campaign", "promo", "-outcome", "invalid", "-o", again); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	if rows := readExport(t, again); len(rows) != 2 || rows[1][0] != "abc" || rows[1][3] != "clientes.csv" || rows[1][4] != "7" {
		t.Errorf("second export = %q, want Pedro's row at clientes.csv:7", rows)
	}
}

// A customer list may have columns named "line" and "state": it is a list
// like any other, not an export. Its rows replace nothing, its columns are
// exported as the user's, and that export reads back.
func TestUserColumnsLineAndStateAreData(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	dir := t.TempDir()
	camp := writeTemp(t, dir, "c.json", `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	a := writeTemp(t, dir, "a.csv", "phone;nombre\n+593991000001;Ana\n12;Luis\n")
	b := writeTemp(t, dir, "b.csv", "phone;nombre;line;state\n+593991000003;Eva;3;invalid\n")
	fake := sendertest.NewServer(t, sendertest.Config{})
	ledger := filepath.Join(dir, "l.db")
	for _, csv := range []string{a, b} {
		code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL)
		if code != exitIncomplete {
			t.Fatalf("%s: exit %d: %s", csv, code, errOut)
		}
	}
	if st := status(t, ledger)[0]; st.Sent != 2 || st.Invalid != 1 || st.Total != 3 {
		t.Errorf("status = %+v: a.csv:3, invalid, is still to fix", st)
	}
	all := filepath.Join(dir, "todo.csv")
	if code, _, errOut := pregon(t, "export", "-ledger", ledger, "-campaign", "x", "-o", all); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	rows := readExport(t, all)
	if got := strings.Join(rows[0][:4], ";"); got != "phone;nombre;line;state" {
		t.Errorf("export columns = %q", rows[0])
	}
	for _, r := range rows[1:] {
		if r[1] == "Eva" && (r[2] != "3" || r[3] != "invalid" || r[6] != "sent") {
			t.Errorf("Eva's row = %q: her own line and state, then pregon's", r)
		}
	}
	code, out, errOut := pregon(t, "send", "-campaign", camp, "-contacts", all, "-ledger", ledger, "-base-url", fake.URL)
	if code != exitIncomplete || len(fake.Messages()) != 2 {
		t.Errorf("the export fed back: exit %d, %d requests\n%s%s", code, len(fake.Messages()), out, errOut)
	}
	if st := status(t, ledger)[0]; st.Sent != 2 || st.Invalid != 1 || st.Total != 3 {
		t.Errorf("status after the export fed back = %+v", st)
	}
}

// Rows of files whose columns differ (another order, one more column) are
// each exported under their own columns, matched by name.
func TestExportAlignsEachFilesColumns(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	dir := t.TempDir()
	camp := writeTemp(t, dir, "c.json", `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	a := writeTemp(t, dir, "a.csv", "phone;nombre;ciudad\n12;Luis;Quito\n+593991000001;Ana;Quito\n")
	b := writeTemp(t, dir, "b.csv", "ciudad,Nombre,notas,phone\nCuenca,Eva,VIP,13\n")
	fake := sendertest.NewServer(t, sendertest.Config{})
	ledger := filepath.Join(dir, "l.db")
	for _, csv := range []string{a, b} {
		if code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL); code != exitIncomplete {
			t.Fatalf("%s: exit %d: %s", csv, code, errOut)
		}
	}
	export := filepath.Join(dir, "revisar.csv")
	if code, _, errOut := pregon(t, "export", "-ledger", ledger, "-campaign", "x", "-outcome", "invalid", "-o", export); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	rows := readExport(t, export)
	want := [][]string{
		{"phone", "nombre", "ciudad", "notas", "pregon_file", "pregon_line"},
		{"12", "Luis", "Quito", "", "a.csv", "2"},
		{"13", "Eva", "Cuenca", "VIP", "b.csv", "2"},
	}
	if len(rows) != len(want) {
		t.Fatalf("export = %q", rows)
	}
	for i, w := range want {
		if got := rows[i][:len(w)]; !slices.Equal(got, w) {
			t.Errorf("export row %d = %q, want %q", i, got, w)
		}
	}
}

// readExport reads an export as Excel opens it.
func readExport(t *testing.T, path string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(mustRead(t, path)), "\uFEFF")))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// writeAsExcel writes rows as Excel's "CSV (delimitado por comas)" does in a
// Spanish locale: semicolons, CRLF, Windows-1252.
func writeAsExcel(t *testing.T, path string, rows [][]string) {
	t.Helper()
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Comma = ';'
	w.UseCRLF = true
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	data, err := charmap.Windows1252.NewEncoder().String(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A campaign's first import is sent while it is still importing: across
// many import batches, every contact gets exactly one message, and
// duplicate and invalid rows none.
func TestFirstImportSendsWhileImporting(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	const n = 5000 // a few import batches
	var b strings.Builder
	b.WriteString("phone,nombre\n")
	for i := range n {
		switch {
		case i%1000 == 999:
			b.WriteString("12,Número malo\n")
		case i%700 == 699:
			fmt.Fprintf(&b, "+59399%07d,Repetido\n", i-1) // the row before, again
		default:
			fmt.Fprintf(&b, "+59399%07d,Cliente %d\n", i, i)
		}
	}
	dir := t.TempDir()
	csv := writeTemp(t, dir, "c.csv", b.String())
	camp := writeTemp(t, dir, "c.json", `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	fake := sendertest.NewServer(t, sendertest.Config{})
	ledger := filepath.Join(dir, "l.db")
	code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL, "-rate", "0")
	if code != exitIncomplete { // the invalid rows
		t.Fatalf("exit %d: %s", code, errOut)
	}
	per := map[string]int{}
	for _, r := range fake.Messages() {
		per[r.Contact]++
	}
	st := status(t, ledger)[0]
	if st.Invalid != 5 || st.Duplicate != 7 || st.Sent != n-12 || len(per) != n-12 || st.Pending != 0 {
		t.Errorf("status %+v, %d contacts reached", st, len(per))
	}
	for c, k := range per {
		if k != 1 {
			t.Errorf("%s received %d messages", c, k)
		}
	}
}

func TestBrokenRowNearTheEndSendsNothing(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	var b strings.Builder
	b.WriteString("phone,nombre\n")
	for i := range 4000 {
		fmt.Fprintf(&b, "+59399%07d,Cliente %d\n", i, i)
	}
	b.WriteString("+593999999999,Eva \"la jefa\"\n")
	dir := t.TempDir()
	csv := writeTemp(t, dir, "c.csv", b.String())
	camp := writeTemp(t, dir, "c.json", `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	fake := sendertest.NewServer(t, sendertest.Config{})
	ledger := filepath.Join(dir, "l.db")
	code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL, "-rate", "0")
	if code != exitUsage || !strings.Contains(errOut, "c.csv:4002:") || !strings.Contains(errOut, "nothing was sent") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if n := len(fake.Messages()); n != 0 {
		t.Errorf("%d messages were sent from a broken file", n)
	}
	// The run history says how that run ended, not that it vanished.
	runs := status(t, ledger)[0].Runs
	if len(runs) != 1 || runs[0].EndedBy != "error" || runs[0].ExitCode == nil || *runs[0].ExitCode != exitUsage {
		t.Errorf("runs = %+v", runs)
	}
}

// A dry run before resuming counts what this command would really send:
// not the contacts the ledger already has sent or refused.
func TestDryRunKnowsWhatTheLedgerHas(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	fake := sendertest.NewServer(t, sendertest.Config{Respond: func(r *sendertest.Request) (int, string) {
		if r.Contact == "3002" {
			return 403, "Contact has opted out"
		}
		return 0, ""
	}})
	ledger := filepath.Join(t.TempDir(), "l.db")
	args := []string{"-campaign", sample("encuesta-v1.json"), "-contacts", sample("encuesta-v1.csv"), "-ledger", ledger}
	if code, _, errOut := pregon(t, append([]string{"send", "-base-url", fake.URL, "-rate", "100"}, args...)...); code != exitIncomplete {
		t.Fatalf("send: exit %d: %s", code, errOut)
	}
	_, out, _ := pregon(t, append([]string{"send", "-dry-run"}, args...)...)
	if !strings.Contains(out, "would send: 0 ") || !strings.Contains(out, "not sent again: 6 ") {
		t.Errorf("dry run after the send:\n%s", out)
	}
	_, out, _ = pregon(t, append([]string{"send", "-dry-run", "-retry-failed"}, args...)...)
	if !strings.Contains(out, "would send: 1 ") || !strings.Contains(out, "not sent again: 5 ") {
		t.Errorf("dry run with -retry-failed:\n%s", out)
	}
}

// Rows of bare separators (what Excel saves for an empty row) and of
// blanks are no one's row: skipped and counted, never invalid, so a file
// whose every contact is sent ends with exit 0, and a dry run agrees.
func TestEmptyRowsAreSkippedNotInvalid(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	dir := t.TempDir()
	camp := writeTemp(t, dir, "c.json", `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	csv := writeTemp(t, dir, "clientes.csv", "\uFEFFphone;nombre;ciudad\r\n"+
		"+593991000001;Ana;Quito\r\n"+
		";;\r\n"+ // in the middle
		"   ; ;\r\n"+ // blanks
		"+593991000002;Eva;Cuenca\r\n"+
		";;\r\n"+ // at the end
		";;;;\r\n") // longer than the header, still empty
	fake := sendertest.NewServer(t, sendertest.Config{})
	ledger := filepath.Join(dir, "l.db")
	args := []string{"-campaign", camp, "-contacts", csv, "-ledger", ledger}

	code, out, _ := pregon(t, append([]string{"send", "-dry-run"}, args...)...)
	if code != 0 || !strings.Contains(out, "would send: 2   invalid: 0") || !strings.Contains(out, "4 empty rows skipped") {
		t.Errorf("dry run: exit %d\n%s", code, out)
	}
	code, out, errOut := pregon(t, append([]string{"send", "-base-url", fake.URL}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, `msg="Skipped 4 empty rows." event=empty_rows rows=4`) || !strings.Contains(errOut, "rows=6 new=2") {
		t.Errorf("the empty rows are not counted:\n%s", errOut)
	}
	st := status(t, ledger)[0]
	if st.Sent != 2 || st.Invalid != 0 || st.Total != 2 || len(fake.Messages()) != 2 {
		t.Errorf("status = %+v, requests %d", st, len(fake.Messages()))
	}
	// The nightly re-run of the same file stays complete.
	if code, _, errOut := pregon(t, append([]string{"send", "-base-url", fake.URL}, args...)...); code != 0 {
		t.Errorf("re-run: exit %d\n%s", code, errOut)
	}
}

// An export's columns are the users' own: pregon's columns of an export
// fed back (and of an export made before the pregon_row marker) are not
// repeated, while a list's own "line" or "state" column is kept.
func TestExportColumnsAreTheFilesOwn(t *testing.T) {
	cols := newColumns([][]string{
		{"phone", "nombre", "line", "state", "error", "attempts", "message_id", "sent_at"}, // an old export
		{"Nombre", "phone", "pregon_file", "pregon_line", "pregon_state", "pregon_error", "pregon_attempts",
			"pregon_message_id", "pregon_sent_at", "pregon_row"}, // an export
		{"phone", "", "state", "ciudad"}, // a list with a state column and an unnamed one
	})
	if want := []string{"phone", "nombre", "state", "ciudad"}; !slices.Equal(cols.names, want) {
		t.Errorf("columns = %q, want %q", cols.names, want)
	}
	if got := cols.of(3, []string{"phone", "", "state", "ciudad"}); !slices.Equal(got, []int{0, -1, 2, 3}) {
		t.Errorf("a list's cells go to %v", got)
	}
}

// The dry run counts every problem and lists the first ones, saying how
// many more there are and where to see them all.
func TestDryRunCountsTheProblemsItDoesNotList(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("phone,nombre\n+593991000001,Ana\n")
	for i := range 12 {
		fmt.Fprintf(&b, "%d,Eva\n", i+1)
	}
	csv := writeTemp(t, dir, "c.csv", b.String())
	camp := writeTemp(t, dir, "c.json", `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	code, out, _ := pregon(t, "send", "-dry-run", "-campaign", camp, "-contacts", csv, "-ledger", filepath.Join(dir, "l.db"))
	if code != exitIncomplete {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"Problems: 12 (the first 10):", `c.csv:12: column "phone": "10" is not in international form`,
		"… and 2 more (see them all with -json, or after the send with pregon export -campaign x -outcome invalid,duplicate)",
		"The first message, as the customer will see it:", "line 2, to +593991000001: text\n    Hola Ana\n",
		`to: no address yet: set "baseUrl" in the campaign, or -base-url`} {
		if !strings.Contains(out, want) {
			t.Errorf("the dry run does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "c.csv:13:") {
		t.Errorf("the dry run lists more than 10 problems:\n%s", out)
	}
}

// -dry-run -json prints one object with every problem, placed and
// explained, and the exit the send would have.
func TestDryRunJSONListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("phone,nombre\n+593991000001,Ana\n+593 99 100 0001,Ana\n")
	for i := range 12 {
		fmt.Fprintf(&b, "%d,Eva\n", i+1)
	}
	csv := writeTemp(t, dir, "c.csv", b.String())
	camp := writeTemp(t, dir, "c.json", `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	code, out, _ := pregon(t, "send", "-dry-run", "-json", "-campaign", camp, "-contacts", csv, "-ledger", filepath.Join(dir, "l.db"))
	if code != exitIncomplete {
		t.Errorf("exit %d, want 1", code)
	}
	var got dryRunJSON
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil || dec.More() {
		t.Fatalf("stdout is not one JSON object (%v):\n%s", err, out)
	}
	if got.Counts != (dryRunCounts{WouldSend: 1, Invalid: 12, Duplicate: 1}) || got.ExitCode != exitIncomplete || len(got.Problems) != 13 || len(got.Previews) != 1 {
		t.Errorf("counts %+v, exit %d, %d problems, %d previews", got.Counts, got.ExitCode, len(got.Problems), len(got.Previews))
	}
	wantDup := dryRunProblem{State: "duplicate", File: "c.csv", Line: 3, Value: "phone:+593991000001", Reason: "same contact as line 2", FirstLine: 2}
	wantLast := dryRunProblem{State: "invalid", File: "c.csv", Line: 15, Column: "phone", Value: "12",
		Reason: `is not in international form (+593…): set "defaultCountry" in the campaign to read local numbers`}
	if len(got.Problems) == 13 && (got.Problems[0] != wantDup || got.Problems[12] != wantLast) {
		t.Errorf("problems[0] = %+v\nwant %+v\nproblems[12] = %+v\nwant %+v", got.Problems[0], wantDup, got.Problems[12], wantLast)
	}
}
