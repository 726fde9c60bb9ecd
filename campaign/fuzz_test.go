package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzContacts feeds arbitrary bytes to the CSV reader as a contacts file.
// Whatever the file, the reader must not panic or loop, lines must move
// forward, and every row it accepts must carry a valid JSON payload whose
// text is exactly the row's value.
func FuzzContacts(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "csv", "*.csv"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("phone;nombre\r\n099 100 0001;\"a\"\"b\nc\";;;\r\n"))
	c, err := Parse([]byte(`{"name":"x","api":"v2","defaultCountry":"EC","message":{"type":"text","text":"Hola {{nombre}}"}}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.csv")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := c.Open(path)
		if err != nil {
			return // a header the campaign cannot use: a campaign error
		}
		defer r.Close()
		nombre := -1
		for i, h := range r.Header() {
			if NormalizeHeader(h) == "nombre" {
				nombre = i
			}
		}
		last := 1
		for range len(data) + 2 {
			m, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				return // a broken file stops the campaign
			}
			if m.Line <= last {
				t.Fatalf("line %d after line %d", m.Line, last)
			}
			last = m.Line
			if m.Problem != nil {
				continue
			}
			var got struct{ Message struct{ Text string } }
			if err := json.Unmarshal(m.Payload, &got); err != nil {
				t.Fatalf("line %d: payload is not JSON: %v: %s", m.Line, err, m.Payload)
			}
			if want := "Hola " + m.Cells[nombre]; got.Message.Text != want {
				t.Fatalf("line %d: text %q, want %q", m.Line, got.Message.Text, want)
			}
		}
		t.Fatal("the reader did not reach the end")
	})
}

// FuzzRender fills a placeholder with arbitrary text inside arbitrary
// template text: the payload must be valid JSON, carry the value exactly,
// and match encoding/json's escaping byte for byte.
func FuzzRender(f *testing.F) {
	f.Add("Hola {{nombre}}, tu pedido {{1}} está listo", "José \"Pepe\" Núñez")
	f.Add("{{nombre}}", "línea 1\nlínea 2\t<b>&amp;</b>\u2028\x00")
	f.Add("{{ NOMBRE }}{{nombre}}", "\\\"}")
	f.Add("sin marcadores {{}} {{ 2 }}", "x")
	f.Fuzz(func(t *testing.T, text, value string) {
		if !utf8.ValidString(text) || !utf8.ValidString(value) {
			return // the reader only ever hands out UTF-8
		}
		msg, err := json.Marshal(map[string]any{"type": "text", "text": text})
		if err != nil {
			t.Skip()
		}
		tmpl, err := compileTemplate(msg)
		if err != nil {
			t.Fatalf("compile %s: %v", msg, err)
		}
		var buf bytes.Buffer
		tmpl.render(&buf, func(string) string { return value })
		var got struct{ Type, Text string }
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("not JSON: %v: %s", err, buf.Bytes())
		}
		want := placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
			name := NormalizeHeader(m[2 : len(m)-2])
			if name == "" || isDigits(name) {
				return m
			}
			return value
		})
		if got.Text != want {
			t.Fatalf("text %q, want %q", got.Text, want)
		}
		var std bytes.Buffer
		enc := json.NewEncoder(&std)
		enc.SetEscapeHTML(false)
		enc.Encode(want)
		if s := strings.TrimSuffix(std.String(), "\n"); !bytes.Contains(buf.Bytes(), []byte(s)) {
			t.Fatalf("escaping differs from encoding/json: %s does not contain %s", buf.Bytes(), s)
		}
	})
}
