package humanlog

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"testing"
	"time"
)

func TestLinesAreTimeAndSentence(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(New(&b, nil))
	log.Warn("Fila 14 de clientes.csv: no se envía.\nCorrija la fila y envíe otra vez.", "event", "row_invalid", "line", 14)
	log.Debug("not shown")
	want := regexp.MustCompile(`^\d\d:\d\d:\d\d Fila 14 de clientes.csv: no se envía.\n {9}Corrija la fila y envíe otra vez.\n$`)
	if !want.MatchString(b.String()) {
		t.Errorf("got %q", b.String())
	}
}

func TestTimeIsLocal(t *testing.T) {
	var b bytes.Buffer
	h := New(&b, &Options{ClearLine: true})
	at := time.Date(2026, 11, 22, 2, 5, 50, 0, time.UTC)
	r := slog.NewRecord(at, slog.LevelInfo, "Listo.", 0)
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if want := "\r\x1b[K" + at.Local().Format("15:04:05") + " Listo.\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
