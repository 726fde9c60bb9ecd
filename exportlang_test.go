package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pregon/pregon/sender/sendertest"
)

// An export in Spanish has Spanish column names and reasons, and reads
// back as pregon's own: the corrected row is sent, and only it.
func TestSpanishExportReadsBack(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	dir := t.TempDir()
	camp := writeTemp(t, dir, "c.json", `{"name":"x","api":"v2","defaultCountry":"EC","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	csv := writeTemp(t, dir, "clientes.csv", "phone,nombre\n+593991000001,Ana\n12,Luis\n")
	fake := sendertest.NewServer(t, sendertest.Config{})
	ledger := filepath.Join(dir, "l.db")
	if code, _, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL); code != exitIncomplete {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	export := filepath.Join(dir, "revisar.csv")
	code, _, errOut := pregon(t, "export", "-lang", "es", "-ledger", ledger, "-campaign", "x", "-outcome", "invalid", "-o", export)
	if code != 0 || !strings.Contains(errOut, "se escribió 1 contacto en") {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	want := "\uFEFFphone;nombre;pregon_archivo;pregon_fila;pregon_estado;pregon_motivo;pregon_intentos;pregon_id_mensaje;pregon_enviado_el;" +
		"pregon_entrega;pregon_entregado_el;pregon_leido_el;pregon_registro\r\n" +
		"12;Luis;clientes.csv;3;invalid;\"columna \"\"phone\"\": \"\"12\"\" no es un número de teléfono\";0;;;;;;2\r\n"
	if got := string(mustRead(t, export)); got != want {
		t.Fatalf("export:\n got %q\nwant %q", got, want)
	}
	os.WriteFile(export, []byte(strings.Replace(want, "12;Luis", "0991000002;Luis", 1)), 0o600)
	before := len(fake.Messages())
	if code, out, errOut := pregon(t, "send", "-campaign", camp, "-contacts", export, "-ledger", ledger, "-base-url", fake.URL); code != 0 {
		t.Fatalf("resend: exit %d\n%s%s", code, out, errOut)
	}
	if reqs := fake.Messages()[before:]; len(reqs) != 1 || reqs[0].Contact != "phone:+593991000002" {
		t.Errorf("resend requests = %+v", reqs)
	}
	if st := status(t, ledger)[0]; st.Sent != 2 || st.Invalid != 0 || st.Total != 2 {
		t.Errorf("status after the fix = %+v", st)
	}
}

// An export whose headers a person retyped in Excel (accents, spaces,
// capitals) is still read as pregon's own: the fixed row replaces its
// record, the row left broken keeps its own, and a new export does not
// write pregon's columns twice.
func TestRetypedExportHeadersReadBack(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	dir := t.TempDir()
	camp := writeTemp(t, dir, "c.json", `{"name":"x","api":"v2","defaultCountry":"EC","message":{"type":"text","text":"Hola {{nombre}}"}}`)
	csv := writeTemp(t, dir, "clientes.csv", "phone,nombre\n+593991000001,Ana\n12,Luis\n13,Eva\n")
	fake := sendertest.NewServer(t, sendertest.Config{})
	ledger := filepath.Join(dir, "l.db")
	pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL)
	export := filepath.Join(dir, "revisar.csv")
	if code, _, errOut := pregon(t, "export", "-lang", "es", "-ledger", ledger, "-campaign", "x", "-outcome", "invalid", "-o", export); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	text := string(mustRead(t, export))
	text = strings.Replace(text, "pregon_registro", "Pregón Registro", 1)
	text = strings.Replace(text, "pregon_archivo", "PREGÓN-ARCHIVO", 1)
	text = strings.Replace(text, "12;Luis", "0991000002;Luis", 1)
	os.WriteFile(export, []byte(text), 0o600)
	if code, out, errOut := pregon(t, "send", "-campaign", camp, "-contacts", export, "-ledger", ledger, "-base-url", fake.URL); code != exitIncomplete {
		t.Fatalf("resend: exit %d\n%s%s", code, out, errOut)
	}
	if st := status(t, ledger)[0]; st.Sent != 2 || st.Invalid != 1 || st.Total != 3 {
		t.Errorf("status after the fix = %+v, want 2 sent, 1 invalid, 3 in all", st)
	}
	again := filepath.Join(dir, "otra.csv")
	pregon(t, "export", "-lang", "es", "-ledger", ledger, "-campaign", "x", "-outcome", "invalid", "-o", again)
	if header, _, _ := strings.Cut(string(mustRead(t, again)), "\r\n"); strings.Count(header, "pregon_archivo") != 1 || strings.Contains(strings.ToLower(header), "pregón") {
		t.Errorf("the new export's header repeats pregon's columns: %s", header)
	}
}
