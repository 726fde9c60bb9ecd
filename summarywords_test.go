package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A run's summary says what happened in plain sentences: nothing to send
// when nothing is left, no rate for a run too short to have one, what the
// ledger had already by state, and commands on their own lines with the
// ledger as the user wrote it and an output name that is free.
func TestSummaryWords(t *testing.T) {
	camp := string(mustRead(t, sample("pedido-en-camino.json")))
	dir := t.TempDir()
	t.Chdir(dir)
	writeTemp(t, dir, "promo.json", camp)
	writeTemp(t, dir, "clientes.csv", "phone,nombre,pedido,foto\n+593991000001,Ana,P-1,https://x.example/1.jpg\n12,Luis,P-2,https://x.example/2.jpg\n")
	writeTemp(t, dir, "revisar.csv", "ya está\n")
	args := []string{"-lang", "es", "send", "-sandbox", "-campaign", "promo.json", "-contacts", "clientes.csv", "-ledger", "ensayo.db", "-log", "text"}

	_, out, _ := pregon(t, args...)
	for _, w := range []string{
		"1 solicitud en ", // no rate for one request
		"Esta orden la escribe en un archivo con el motivo; corríjala ahí y envíe ese archivo:\n    pregon export -ledger ensayo.db -campaign pedido-en-camino -outcome invalid -o revisar-2.csv\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("first run: want %q in\n%s", w, out)
		}
	}
	if strings.Contains(out, "por segundo") || strings.Contains(out, filepath.Join(dir, "ensayo.db")) {
		t.Errorf("first run:\n%s", out)
	}

	_, out, errOut := pregon(t, args...)
	if !strings.Contains(out, "Nada que enviar: todos los contactos ya tienen su resultado.") || strings.Contains(out, "0 solicitudes") {
		t.Errorf("again: stdout\n%s", out)
	}
	if !strings.Contains(errOut, "1 ya enviada y 1 inválida") || strings.Contains(errOut, "Enviando a 0") {
		t.Errorf("again: stderr\n%s", errOut)
	}
}
