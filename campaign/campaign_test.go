package campaign

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden .want files in testdata")

// writeFile writes content to name in a fresh temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll renders every row of csv for the campaign.
func readAll(t *testing.T, c *Campaign, csvPath string) []Message {
	t.Helper()
	r, err := c.Open(csvPath)
	if err != nil {
		t.Fatalf("open %s: %v", csvPath, err)
	}
	defer r.Close()
	var out []Message
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		out = append(out, m)
	}
}

func mustParse(t *testing.T, js string) *Campaign {
	t.Helper()
	c, err := Parse([]byte(js))
	if err != nil {
		t.Fatalf("parse campaign: %v", err)
	}
	return c
}

// TestSamplePayloads checks the exact request of the first row of every
// sample campaign: path and body, byte for byte.
func TestSamplePayloads(t *testing.T) {
	tests := []struct {
		name, campaign, csv string
		path, body          string
	}{
		{
			name: "v2 whatsapp template with per-row parameters", campaign: "pedido-en-camino.json", csv: "pedido-en-camino.csv",
			path: "/v2/contact/phone:+593991000001/message",
			body: `{"channelId":4242,"message":{"type":"whatsapp_template","template":{"name":"delivery_order","languageCode":"es","components":[` +
				`{"type":"header","format":"image","parameters":[{"type":"image","image":{"link":"https://cdn.example-brand.com/pedidos/PED-10231.jpg"}}]},` +
				`{"type":"body","text":"Hola, {{1}} tu pedido {{2}} está en camino.","parameters":[{"type":"text","text":"José Núñez"},{"type":"text","text":"PED-10231"}]},` +
				`{"type":"footer","text":"Gracias por tu compra"}]}}}`,
		},
		{
			name: "v1 text", campaign: "aviso-texto-v1.json", csv: "aviso-texto-v1.csv",
			path: "/v1/message/sendContent/1001",
			body: `{"body":[{"type":"text","text":"Hola Rosa Elena 👋, en diciembre atendemos de 9:00 a 21:00 en Quicentro, local 12. ¡Te esperamos!"}]}`,
		},
		{
			name: "v1 attachment with forceCancelSurvey", campaign: "catalogo-adjunto-v1.json", csv: "catalogo-adjunto-v1.csv",
			path: "/v1/message/sendContent/2001",
			body: `{"body":[{"type":"file","url":"https://cdn.example-brand.com/catalogos/navidad-quito.pdf"}],"forceCancelSurvey":true}`,
		},
		{
			name: "v1 quick reply", campaign: "encuesta-v1.json", csv: "encuesta-v1.csv",
			path: "/v1/message/sendContent/3001",
			body: `{"body":[{"type":"quick_reply","title":"Verónica, ¿cómo calificarías tu última compra en Quicentro?","replies":["Excelente","Buena","Regular","Mala"]}]}`,
		},
		{
			name: "excel file: BOM, semicolons, CRLF, local phones, accented header", campaign: "promo-excel.json", csv: "promo-excel.csv",
			path: "/v2/contact/phone:+593991000101/message",
			body: `{"channelId":4242,"message":{"type":"text","text":"Hola José Núñez, este viernes tienes 20% de descuento en Quito. Responde SALIR si no quieres recibir más mensajes."}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(filepath.Join("..", "samples", tt.campaign))
			if err != nil {
				t.Fatal(err)
			}
			msgs := readAll(t, c, filepath.Join("..", "samples", tt.csv))
			if len(msgs) == 0 {
				t.Fatal("no rows")
			}
			for _, m := range msgs {
				if m.Problem != nil {
					t.Errorf("line %d: unexpected problem: %v", m.Line, m.Problem)
				}
			}
			if got := msgs[0].Path; got != tt.path {
				t.Errorf("path = %s, want %s", got, tt.path)
			}
			if got := string(msgs[0].Payload); got != tt.body {
				t.Errorf("payload:\n got %s\nwant %s", got, tt.body)
			}
		})
	}
}

func TestValuesAreDataNotJSON(t *testing.T) {
	c := mustParse(t, `{"name":"x","api":"v2","message":{"type":"text","text":"{{nombre}} <{{nota}}>"}}`)
	csv := writeFile(t, "c.csv", "phone,nombre,nota\n+593991000001,\"Luis \"\"Lucho\"\" \\ Peña\",\"a\nb\"\n")
	msgs := readAll(t, c, csv)
	want := `{"message":{"type":"text","text":"Luis \"Lucho\" \\ Peña <a\nb>"}}`
	if got := string(msgs[0].Payload); got != want {
		t.Errorf("payload:\n got %s\nwant %s", got, want)
	}
}

func TestWhatsAppPlaceholdersStay(t *testing.T) {
	c := mustParse(t, `{"name":"x","api":"v2","message":{"type":"text","text":"{{1}} {{ 2 }} {{}} {{ Nombre }}"}}`)
	csv := writeFile(t, "c.csv", " Phone ,NOMBRE\n+593991000001,Ana\n")
	msgs := readAll(t, c, csv)
	want := `{"message":{"type":"text","text":"{{1}} {{ 2 }} {{}} Ana"}}`
	if got := string(msgs[0].Payload); got != want {
		t.Errorf("payload = %s, want %s", got, want)
	}
}

func TestViberIDsAreBase64(t *testing.T) {
	c := mustParse(t, `{"name":"x","api":"v1","channel":"viber","message":{"type":"text","text":"hola"}}`)
	msgs := readAll(t, c, writeFile(t, "c.csv", "contact_id\n12345\n"))
	if got, want := msgs[0].Path, "/v1/message/sendContent/MTIzNDU="; got != want {
		t.Errorf("path = %s, want %s", got, want)
	}
}

func TestContactColumns(t *testing.T) {
	tests := []struct {
		name, campaign, csv string
		contact, path       string
	}{
		{"v2 email", `{"name":"x","api":"v2","message":{"type":"text","text":"hola"}}`, "Email\n  Ana@Example.COM \n",
			"email:ana@example.com", "/v2/contact/email:ana@example.com/message"},
		{"v2 id", `{"name":"x","api":"v2","message":{"type":"text","text":"hola"}}`, "id\n0042\n",
			"id:42", "/v2/contact/id:42/message"},
		{"v2 phone wins over email", `{"name":"x","api":"v2","message":{"type":"text","text":"hola"}}`, "email,phone\na@b.co,+34612345678\n",
			"phone:+34612345678", "/v2/contact/phone:+34612345678/message"},
		{"named column", `{"name":"x","api":"v2","contact":{"column":"Teléfono","type":"phone"},"defaultCountry":"EC","message":{"type":"text","text":"hola"}}`,
			"TELÉFONO\n099 100 0002\n", "phone:+593991000002", "/v2/contact/phone:+593991000002/message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs := readAll(t, mustParse(t, tt.campaign), writeFile(t, "c.csv", tt.csv))
			if msgs[0].Problem != nil {
				t.Fatal(msgs[0].Problem)
			}
			if msgs[0].Contact != tt.contact || msgs[0].Path != tt.path {
				t.Errorf("got %s %s, want %s %s", msgs[0].Contact, msgs[0].Path, tt.contact, tt.path)
			}
		})
	}
}

func TestInvalidRows(t *testing.T) {
	c := mustParse(t, `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	csv := writeFile(t, "clientes.csv", "phone,nombre\n+593991000001,Ana\n12,Luis\n+593991000003,\n,Eva\n")
	msgs := readAll(t, c, csv)
	want := []string{
		"",
		`clientes.csv:3: column "phone": "12" is not in international form (+593…): set "defaultCountry" in the campaign to read local numbers`,
		`clientes.csv:4: column "nombre": "" is empty, and the message uses it`,
		`clientes.csv:5: column "phone": "" is empty: the row has no contact`,
	}
	if len(msgs) != len(want) {
		t.Fatalf("got %d rows, want %d", len(msgs), len(want))
	}
	for i, m := range msgs {
		got := ""
		if m.Problem != nil {
			got = m.Problem.Error()
		}
		if got != want[i] {
			t.Errorf("row %d: got %q, want %q", i, got, want[i])
		}
	}
}

func TestLineNumbersCountMultilineCells(t *testing.T) {
	c := mustParse(t, `{"name":"x","api":"v2","defaultCountry":"EC","message":{"type":"text","text":"{{nota}}"}}`)
	csv := writeFile(t, "c.csv", "phone,nota\n0991000001,\"una\nnota\nlarga\"\n12,x\n")
	msgs := readAll(t, c, csv)
	if msgs[0].Line != 2 || msgs[1].Line != 5 {
		t.Errorf("lines = %d, %d; want 2, 5", msgs[0].Line, msgs[1].Line)
	}
	if msgs[1].Problem == nil || !strings.HasPrefix(msgs[1].Problem.Error(), "c.csv:5:") {
		t.Errorf("problem = %v, want one at c.csv:5", msgs[1].Problem)
	}
}

func TestCampaignErrors(t *testing.T) {
	tests := []struct {
		name, campaign, csv, want string
	}{
		{"missing column", `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}} {{apellido}}"}}`, "phone,nombre\n+593991000001,Ana\n",
			`c.csv: the campaign uses {{apellido}} but the CSV has no such column (its columns: phone, nombre)`},
		{"no contact column", `{"name":"x","api":"v2","message":{"type":"text","text":"hola"}}`, "nombre\nAna\n",
			`c.csv: no contact column: v2 reads "phone", "email" or "id", or the column named by "contact": {"column": "…", "type": "phone"} in the campaign`},
		{"duplicate header", `{"name":"x","api":"v2","message":{"type":"text","text":"hola"}}`, "phone,Nombre, nombre \n+593991000001,a,b\n",
			`c.csv: the header has two columns named "nombre" ("Nombre" and "nombre"): rename one`},
		{"empty file", `{"name":"x","api":"v2","message":{"type":"text","text":"hola"}}`, "",
			`c.csv: the file is empty: it needs a header row and one row per contact`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mustParse(t, tt.campaign).Open(writeFile(t, "c.csv", tt.csv))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a campaign error", err)
			}
			if err.Error() != tt.want {
				t.Errorf("err:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, js, want string }{
		{"syntax", "{\n  \"name\": \"x\",\n  \"api\": v2,\n  \"message\": {}\n}", "line 3, column 10: invalid character 'v' looking for beginning of value:\n      \"api\": v2,\n             ^"},
		{"unknown field", `{"name":"x","api":"v2","mesage":{"type":"text"}}`, `json: unknown field "mesage"`},
		{"bad api", `{"name":"x","api":"v3","message":{"type":"text"}}`, `"api": "v3": write "v1" or "v2"`},
		{"no name", `{"api":"v2","message":{"type":"text"}}`, `"name" is missing: it identifies the campaign in the ledger`},
		{"no message type", `{"name":"x","api":"v2","message":{"text":"hola"}}`, `"message" has no "type"`},
		{"channelId on v1", `{"name":"x","api":"v1","channelId":3,"message":{"type":"text"}}`, `"channelId" is for api v2; v1 tokens belong to one channel`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.js))
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %s", err, tt.want)
			}
		})
	}
}

// A missing comma is reported where it goes, after the value before it,
// not at the next key (often on the next line) where encoding/json
// notices it; an extra one before } or ] is reported where it is.
func TestCampaignFileSyntaxFixtures(t *testing.T) {
	dir := filepath.Join("testdata", "campaign")
	tests := []struct {
		file string
		fix  SyntaxFix
		want string
	}{
		{"missing-comma.json", FixMissingComma, filepath.Join(dir, "missing-comma.json") + ": line 3, column 14: a \",\" is missing here:\n" +
			"      \"api\": \"v2\"\n" +
			"                 ^"},
		{"extra-comma.json", FixExtraComma, filepath.Join(dir, "extra-comma.json") + ": line 7, column 27: remove this \",\": JSON allows none before } or ]:\n" +
			"        \"replies\": [\"Sí\", \"No\",]\n" +
			"                              ^"},
		// Columns count characters, and the caret keeps the line's tabs.
		{"missing-comma-tabs.json", FixMissingComma, filepath.Join(dir, "missing-comma-tabs.json") + ": line 4, column 62: a \",\" is missing here:\n" +
			"    \t\"message\": {\"type\": \"quick_reply\", \"title\": \"¿Vienes, José?\" \"replies\": [\"Sí\", \"No\"]}\n" +
			"    \t                                                            ^"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Load(filepath.Join(dir, tt.file))
			var se *SyntaxError
			if !errors.As(err, &se) || se.Fix != tt.fix {
				t.Fatalf("err = %v, want a syntax error with fix %d", err, tt.fix)
			}
			if err.Error() != tt.want {
				t.Errorf("err:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestWindows1252IsConverted(t *testing.T) {
	c := mustParse(t, `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	// "José Núñez" in Windows-1252, as Excel on Windows saves "CSV".
	csv := writeFile(t, "c.csv", "phone;nombre\r\n+593991000001;Jos\xe9 N\xfa\xf1ez\r\n")
	r, err := c.Open(csv)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"message":{"type":"text","text":"Hola José Núñez"}}`; string(m.Payload) != want {
		t.Errorf("payload = %s, want %s", m.Payload, want)
	}
	if r.Encoding() != "Windows-1252" {
		t.Errorf("encoding = %s", r.Encoding())
	}
}

func TestDescribeChange(t *testing.T) {
	a := mustParse(t, `{"name":"x","api":"v2","message":{"type":"text","text":"Hola"}}`)
	b := mustParse(t, `{"name":"x","api":"v2","channelId":7,"message":{"type":"text","text":"Hola!"}}`)
	got := DescribeChange(a.Fingerprint(), b.Fingerprint())
	want := "  channelId: (none) → 7\n  message.text: \"Hola\" → \"Hola!\""
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// fixtureCampaign is used for a testdata/csv fixture without its own .json.
const fixtureCampaign = `{"name":"x","api":"v2","defaultCountry":"EC","message":{"type":"text","text":"Hola {{nombre}}"}}`

// TestCSVFixtures reads every file in testdata/csv as a real export would
// arrive and compares what pregon makes of each row (contact and payload,
// or the exact problem), or the file's error, with its .want file.
func TestCSVFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "csv", "*.csv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, csv := range files {
		name := strings.TrimSuffix(filepath.Base(csv), ".csv")
		t.Run(name, func(t *testing.T) {
			js := fixtureCampaign
			if b, err := os.ReadFile(strings.TrimSuffix(csv, ".csv") + ".json"); err == nil {
				js = string(b)
			}
			got := describeFile(mustParse(t, js), csv)
			wantPath := strings.TrimSuffix(csv, ".csv") + ".want"
			if *update {
				if err := os.WriteFile(wantPath, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("%v (run go test ./campaign -run CSVFixtures -update)", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// describeFile renders what the reader makes of a file, one line per row.
func describeFile(c *Campaign, path string) string {
	var b strings.Builder
	r, err := c.Open(path)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	defer r.Close()
	fmt.Fprintf(&b, "encoding %s, columns %q\n", r.Encoding(), r.Header())
	for _, w := range r.Warnings() {
		fmt.Fprintf(&b, "warning: %s: %s has %s, column %q\n", w.Code, w.Path, w.Value, w.Column)
	}
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			if n := r.EmptyRows(); n > 0 {
				fmt.Fprintf(&b, "empty rows skipped: %d\n", n)
			}
			return b.String()
		}
		if err != nil {
			return b.String() + "error: " + err.Error() + "\n"
		}
		if m.Problem != nil {
			fmt.Fprintf(&b, "line %d: invalid: %s\n", m.Line, m.Problem)
			continue
		}
		fmt.Fprintf(&b, "line %d: %s %s %s\n", m.Line, m.Contact, m.Path, m.Payload)
		for _, w := range m.Warnings {
			fmt.Fprintf(&b, "line %d: warning: %s: column %q: %q\n", w.Line, w.Code, w.Column, w.Value)
		}
	}
}

func TestNeutralizeRoundTrip(t *testing.T) {
	for _, v := range []string{"=1+2", "@SUM(A1)", "\tx", "\rx", "+cmd", "-2+3", "'=x", "''@y", "+593991000001", "-12.5", "Ana", "", "'", "'hola"} {
		n := Neutralize(v)
		if needsGuard(v) && n[0] != '\'' {
			t.Errorf("Neutralize(%q) = %q still starts like a formula", v, n)
		}
		if back := unneutralize(n); back != v {
			t.Errorf("unneutralize(Neutralize(%q)) = %q", v, back)
		}
	}
	if Neutralize("+593991000001") != "+593991000001" {
		t.Error("a phone number was changed")
	}
}

// The row count that sizes a run's progress leaves out the empty rows the
// reader skips.
func TestCheckSyntaxLeavesOutEmptyRows(t *testing.T) {
	n, err := CheckSyntax(filepath.Join("testdata", "csv", "excel-empty-rows.csv"))
	if err != nil || n != 2 {
		t.Errorf("rows = %d, %v; want 2", n, err)
	}
}
