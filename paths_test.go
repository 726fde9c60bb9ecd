package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pregon/pregon/internal/testfs"
	"github.com/pregon/pregon/sender/sendertest"
)

// Files as a Windows user keeps them: in folders with spaces and accents,
// the campaign and the contacts saved with CRLF line ends (Notepad, Excel).
// The send, status, export and the campaign's lock all work there, and the
// export names the contacts file as it is called.
func TestFoldersWithSpacesAndAccentsAndCRLFFiles(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	// testfs.TempDir: CI runs this test under Wine as well.
	dir := filepath.Join(testfs.TempDir(t), "Campañas 2026", "Pedidos de José")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	crlf := func(name string) string {
		return strings.ReplaceAll(strings.ReplaceAll(string(mustRead(t, sample(name))), "\r\n", "\n"), "\n", "\r\n")
	}
	camp := writeTemp(t, dir, "pedido en camino.json", crlf("pedido-en-camino.json"))
	csv := writeTemp(t, dir, "clientes ñandú.csv", crlf("pedido-en-camino.csv"))
	ledger := filepath.Join(dir, "registro de envíos.db")
	fake := sendertest.NewServer(t, sendertest.Config{Token: "t"})

	code, out, errOut := pregon(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL)
	if code != 0 {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := len(fake.Messages()); n != 30 {
		t.Errorf("%d messages sent, want 30", n)
	}
	for _, m := range fake.Messages() {
		if strings.Contains(string(m.Body), `\r`) {
			t.Fatalf("a CRLF reached a message: %s", m.Body)
		}
	}
	rows := status(t, ledger)
	if len(rows) != 1 || rows[0].Sent != 30 || rows[0].Duplicate != 1 {
		t.Errorf("status: %+v", rows)
	}
	locks, _ := filepath.Glob(filepath.Join(dir, "registro de envíos.db.pedido-en-camino-*.lock"))
	if len(locks) != 1 {
		t.Errorf("the campaign's lock beside the ledger: %v", locks)
	}

	export := filepath.Join(dir, "revisión de envíos.csv")
	if code, _, errOut := pregon(t, "export", "-ledger", ledger, "-campaign", "pedido-en-camino", "-o", export); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	data := string(mustRead(t, export))
	if !strings.Contains(data, "\r\n+593991000001;José Núñez;PED-10231;") || !strings.Contains(data, ";clientes ñandú.csv;2;sent;") {
		t.Errorf("export:\n%s", data)
	}
}
