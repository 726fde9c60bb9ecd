package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/sender/sendertest"
)

// What a person reads, in each language: the send's log and summary on a
// terminal and under cron, init's notes and errors, the report. Run with
// -update to rewrite them; status's are TestStatusTableGolden's.

// steady replaces what changes from run to run (clock times, durations,
// rates, temporary paths, the fake platform's port) with fixed words.
func steady(s, dir, url string) string {
	s = strings.ReplaceAll(s, dir, "DIR")
	s = strings.ReplaceAll(s, url, "http://127.0.0.1:PORT")
	if host, err := os.Hostname(); err == nil {
		s = strings.ReplaceAll(s, "<td>"+host+"</td>", "<td>HOST</td>")
	}
	for _, r := range []struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`time=\S+`), "time=TIME"},
		{regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d `), "HH:MM:SS "},
		{regexp.MustCompile(`\d\d/\d\d/\d{4} \d\d:\d\d|\d{4}-\d\d-\d\d \d\d:\d\d`), "DATE"},
		{regexp.MustCompile(`\b\d+([.,]\d+)? (s|min|h)\b`), "DURATION"},
		{regexp.MustCompile(`\d+([.,]\d+)? (per second|por segundo)`), "RATE $2"},
		{regexp.MustCompile(`\d+([.,]\d+)?/s\b`), "RATE/s"},
		{regexp.MustCompile(`elapsed_seconds":[0-9.e-]+`), `elapsed_seconds":0`},
	} {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

// sendLog is the send's log with the line that says the send starts
// first: the first import runs beside the send, so that line comes before
// or among the import's, as they race.
func sendLog(s string) string {
	var start, rest []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if strings.Contains(l, "event=sending") || strings.Contains(l, "Sending to") || strings.Contains(l, "Enviando a") {
			start = append(start, l)
		} else {
			rest = append(rest, l)
		}
	}
	return strings.Join(append(start, rest...), "")
}

func TestSendGolden(t *testing.T) {
	old := logEvery
	logEvery = time.Hour // no progress lines: the run takes what it takes
	t.Cleanup(func() { logEvery = old; isTerminal = realTerminal })
	for _, lang := range []i18n.Lang{i18n.English, i18n.Spanish} {
		for _, mode := range []string{"terminal", "cron"} {
			t.Run(string(lang)+"-"+mode, func(t *testing.T) {
				t.Setenv(i18n.Env, string(lang))
				t.Setenv(tokenEnv, "t")
				isTerminal = func(io.Writer) bool { return mode == "terminal" }
				fake := sendertest.NewServer(t, sendertest.Config{Respond: func(r *sendertest.Request) (int, string) {
					if r.Contact == "phone:+593991000002" {
						return 403, "Contact has opted out"
					}
					return 0, ""
				}})
				dir := t.TempDir()
				camp := writeTemp(t, dir, "promo.json", `{"name":"promo","api":"v2","contact":{"column":"Teléfono"},`+
					`"message":{"type":"text","text":"Hola {{Nombre}}, su pedido {{Pedido}} está en camino."}}`)
				csv := writeTemp(t, dir, "clientes.csv", "Teléfono;Nombre;Pedido\n"+
					"+593991000001;José Núñez;PED-1\n"+
					"+593991000002;Ana;PED-2\n"+
					"12;Luis;PED-3\n"+
					"+593 99 100 0001;José;PED-4\n"+
					"+593991000005;Eva;PED-5\n")
				code, out, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", filepath.Join(dir, "pregon.db"),
					"-base-url", fake.URL)
				if code != exitIncomplete {
					t.Errorf("exit %d, want %d", code, exitIncomplete)
				}
				golden(t, "send."+mode+"."+string(lang)+".golden",
					"# stdout\n"+steady(out, dir, fake.URL)+"# stderr\n"+steady(sendLog(errOut), dir, fake.URL))
			})
		}
	}
}

// init's notes, and its error for a file without a contact column.
func TestInitGolden(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.English, i18n.Spanish} {
		t.Run(string(lang), func(t *testing.T) {
			t.Setenv(i18n.Env, string(lang))
			var b strings.Builder
			for _, typ := range []string{"whatsapp_template", "text", "image", "quick_reply"} {
				code, _, errOut := pregon(t, "init", "-contacts", sample("promo-excel.csv"), "-type", typ)
				b.WriteString("# init -type " + typ + ": exit " + strconv.Itoa(code) + "\n" + errOut)
			}
			bad := writeTemp(t, t.TempDir(), "sin-contacto.csv", "Nombre,Ciudad\nAna,Quito\n")
			code, _, errOut := pregon(t, "init", "-contacts", bad)
			b.WriteString("# init without a contact column: exit " + strconv.Itoa(code) + "\n" + errOut)
			golden(t, "init."+string(lang)+".golden", b.String())
		})
	}
}

// The report, its chart left out (its bars depend on the minutes the
// send fell in).
func TestReportGolden(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	fake := sendertest.NewServer(t, sendertest.Config{Respond: func(r *sendertest.Request) (int, string) {
		if r.Contact == "phone:+593991000002" {
			return 403, "Contact has opted out"
		}
		return 0, ""
	}})
	dir := t.TempDir()
	csv := writeTemp(t, dir, "clientes.csv", "phone,nombre,pedido,foto\n"+
		"+593991000001,José Núñez,PED-1,https://cdn.example-brand.com/1.jpg\n"+
		"+593991000002,Ana,PED-2,https://cdn.example-brand.com/2.jpg\n"+
		"12,Luis,PED-3,https://cdn.example-brand.com/3.jpg\n")
	ledger := filepath.Join(dir, "pregon.db")
	pregon(t, "send", "-campaign", sample("pedido-en-camino.json"), "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL)
	chart := regexp.MustCompile(`(?s)<svg id="chart".*?</svg>`)
	for _, lang := range []i18n.Lang{i18n.English, i18n.Spanish} {
		code, html, errOut := pregon(t, "report", "-lang", string(lang), "-ledger", ledger, "-campaign", "pedido-en-camino")
		if code != 0 {
			t.Fatalf("report: exit %d: %s", code, errOut)
		}
		golden(t, "report."+string(lang)+".golden", steady(chart.ReplaceAllString(html, `<svg id="chart">CHART</svg>`), dir, fake.URL))
	}
}
