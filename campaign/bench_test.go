package campaign

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkContacts reads, validates and renders rows of a WhatsApp
// template campaign with per-row parameters: the CPU cost per contact of a
// dry run and of an import.
func BenchmarkContacts(b *testing.B) {
	c, err := Load(filepath.Join("..", "samples", "pedido-en-camino.json"))
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	sb.WriteString("phone,nombre,pedido,foto\n")
	for i := range b.N {
		fmt.Fprintf(&sb, "+59399%07d,Cliente Núñez %d,PED-%d,https://cdn.example-brand.com/p/%d.jpg\n", i, i, i, i)
	}
	path := filepath.Join(b.TempDir(), "c.csv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	r, err := c.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || m.Problem != nil {
			b.Fatal(err, m.Problem)
		}
		n++
	}
	if n != b.N {
		b.Fatalf("read %d rows, want %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
