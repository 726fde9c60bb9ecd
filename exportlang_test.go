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
