package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A mistyped flag leaves the problem on screen: what is wrong, the flag
// meant, and where the help is, not forty lines of it.
func TestFlagMistakesStayOnScreen(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"send", "-contact", "c.csv"}, []string{"pregon send: no existe la opción -contact. ¿Quiso decir -contacts?", "pregon send -h"}},
		{[]string{"send", "-rate", "diez"}, []string{`valor no válido "diez" para -rate: escriba un número`}},
		{[]string{"send", "-timeout", "5"}, []string{`valor no válido "5" para -timeout: escriba un tiempo con su unidad`}},
		{[]string{"status", "-ledgr", "x.db"}, []string{"¿Quiso decir -ledger?", "pregon status -h"}},
		{[]string{"send", "-zzz"}, []string{"no existe la opción -zzz\n"}},
	} {
		code, _, errOut := pregon(t, append([]string{"-lang", "es"}, tc.args...)...)
		if code != exitUsage {
			t.Errorf("%q: exit %d", tc.args, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%q: stderr:\n%s\nwant %q", tc.args, errOut, w)
			}
		}
		if n := strings.Count(errOut, "\n"); n > 3 {
			t.Errorf("%q: %d lines:\n%s", tc.args, n, errOut)
		}
		if strings.Contains(errOut, "parse error") {
			t.Errorf("%q: the flag package's words: %s", tc.args, errOut)
		}
	}
}

// send names the file that is missing, not both.
func TestSendNamesWhatIsMissing(t *testing.T) {
	_, _, errOut := pregon(t, "-lang", "es", "send", "-campaign", "x.json")
	if !strings.Contains(errOut, "falta -contacts") || strings.Contains(errOut, "-campaign y") {
		t.Errorf("stderr: %s", errOut)
	}
	_, _, errOut = pregon(t, "send", "-contacts", "x.csv")
	if !strings.Contains(errOut, "-campaign is missing") || strings.Contains(errOut, "-contacts is missing") {
		t.Errorf("stderr: %s", errOut)
	}
}

// -h writes durations as people do.
func TestHelpDurationsInWords(t *testing.T) {
	_, _, errOut := pregon(t, "-lang", "es", "sandbox", "-h")
	for _, w := range []string{"(predeterminado: 2 min)", "(predeterminado: 150 ms)", "(predeterminado: 20 s)"} {
		if !strings.Contains(errOut, w) {
			t.Errorf("sandbox -h lacks %q:\n%s", w, errOut)
		}
	}
	if strings.Contains(errOut, "2m0s") {
		t.Errorf("sandbox -h: %s", errOut)
	}
}

// The files a user names, when they are not there or not files: said in
// the user's words, with what the folder has.
func TestFileMistakesInWords(t *testing.T) {
	promo := mustRead(t, sample("pedido-en-camino.json"))
	dir := t.TempDir()
	t.Chdir(dir)
	camp := writeTemp(t, dir, "promo.json", string(promo))
	writeTemp(t, dir, "clientes.csv.csv", "phone\n+593991000001\n")
	writeTemp(t, dir, "otros.csv", "phone\n+593991000001\n")
	if err := os.Mkdir(filepath.Join(dir, "campana"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTemp(t, dir, filepath.Join("campana", "navidad.json"), "{}")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"send", "-dry-run", "-campaign", camp, "-contacts", "clientes.csv"},
			"no se encuentra clientes.csv (revise el nombre y la carpeta). Existe clientes.csv.csv: Windows oculta la última extensión"},
		{[]string{"send", "-dry-run", "-campaign", camp, "-contacts", "noexiste.csv"},
			"no se encuentra noexiste.csv (revise el nombre y la carpeta). En esta carpeta hay: clientes.csv.csv y otros.csv."},
		{[]string{"send", "-dry-run", "-campaign", "noexiste.json", "-contacts", "otros.csv"},
			"no se encuentra noexiste.json (revise el nombre y la carpeta). En esta carpeta hay: promo.json."},
		{[]string{"send", "-dry-run", "-campaign", "campana", "-contacts", "otros.csv"},
			"pregon: campana es una carpeta, no un archivo: indique el archivo que está dentro. Contiene: navidad.json."},
		{[]string{"send", "-dry-run", "-campaign", camp, "-contacts", "campana/"},
			"pregon: campana/ es una carpeta, no un archivo"},
		{[]string{"init", "-contacts", filepath.Join("nada", "noexiste.csv")},
			"no se encuentra " + filepath.Join("nada", "noexiste.csv") + ": no existe la carpeta nada."},
	} {
		code, _, errOut := pregon(t, append([]string{"-lang", "es"}, tc.args...)...)
		if code != exitUsage {
			t.Errorf("%q: exit %d", tc.args, code)
		}
		if !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "no such file") || strings.Contains(errOut, "is a directory") {
			t.Errorf("%q: stderr:\n%s\nwant %q", tc.args, errOut, tc.want)
		}
	}
	if runtime.GOOS != "windows" && os.Geteuid() != 0 {
		locked := writeTemp(t, dir, "cerrado.csv", "phone\n+593991000001\n")
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		_, _, errOut := pregon(t, "-lang", "es", "send", "-dry-run", "-campaign", camp, "-contacts", "cerrado.csv")
		if !strings.Contains(errOut, "no tiene permiso para leer cerrado.csv") {
			t.Errorf("stderr: %s", errOut)
		}
	}
}
