package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
)

// placeholderRE finds {{ name }} in a string value. Names made of digits
// only ({{1}}) are WhatsApp's positional parameters and are left alone.
var placeholderRE = regexp.MustCompile(`\{\{([^{}]*)\}\}`)

// template is the campaign's message as an ordered JSON tree, so that what
// the user wrote is what the API receives, key order included.
type template struct {
	root    *node
	columns []string // normalized column names referenced, in first-use order
}

type nodeKind int

const (
	literalNode nodeKind = iota // number, true, false, null: raw JSON text
	stringNode
	objectNode
	arrayNode
)

type node struct {
	kind     nodeKind
	raw      []byte    // literalNode
	segs     []segment // stringNode
	src      string    // stringNode: the value as the campaign file has it
	keys     []string  // objectNode, parallel to children
	children []*node   // objectNode, arrayNode
}

// segment is a piece of a string value: literal text, or a column's value.
type segment struct {
	text   string
	column string // normalized name; "" for literal text
}

// NormalizeHeader is how column names are compared: surrounding spaces
// trimmed, case folded.
func NormalizeHeader(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

func compileTemplate(raw json.RawMessage) (*template, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	t := &template{}
	seen := map[string]bool{}
	root, err := t.parse(dec, seen)
	if err != nil {
		return nil, err
	}
	t.root = root
	return t, nil
}

func (t *template) parse(dec *json.Decoder, seen map[string]bool) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			n := &node{kind: objectNode}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				child, err := t.parse(dec, seen)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, kt.(string))
				n.children = append(n.children, child)
			}
			_, err := dec.Token() // '}'
			return n, err
		case '[':
			n := &node{kind: arrayNode}
			for dec.More() {
				child, err := t.parse(dec, seen)
				if err != nil {
					return nil, err
				}
				n.children = append(n.children, child)
			}
			_, err := dec.Token() // ']'
			return n, err
		}
		return nil, fmt.Errorf("unexpected %v", v)
	case string:
		return &node{kind: stringNode, src: v, segs: t.splitPlaceholders(v, seen)}, nil
	case json.Number:
		return &node{kind: literalNode, raw: []byte(v.String())}, nil
	case bool:
		if v {
			return &node{kind: literalNode, raw: []byte("true")}, nil
		}
		return &node{kind: literalNode, raw: []byte("false")}, nil
	case nil:
		return &node{kind: literalNode, raw: []byte("null")}, nil
	}
	return nil, errors.New("unexpected JSON token")
}

func (t *template) splitPlaceholders(s string, seen map[string]bool) []segment {
	var segs []segment
	last := 0
	for _, m := range placeholderRE.FindAllStringSubmatchIndex(s, -1) {
		name := NormalizeHeader(s[m[2]:m[3]])
		if name == "" || isDigits(name) {
			continue // WhatsApp's {{1}}, or nothing to fill in
		}
		if m[0] > last {
			segs = append(segs, segment{text: s[last:m[0]]})
		}
		segs = append(segs, segment{column: name})
		if !seen[name] {
			seen[name] = true
			t.columns = append(t.columns, name)
		}
		last = m[1]
	}
	if last < len(s) || len(segs) == 0 {
		segs = append(segs, segment{text: s[last:]})
	}
	return segs
}

// walk calls fn for every string of the message, with its path
// ("message.template.components[1].text").
func (n *node) walk(path string, fn func(path string, n *node)) {
	switch n.kind {
	case stringNode:
		fn(path, n)
	case objectNode:
		for i, k := range n.keys {
			n.children[i].walk(path+"."+k, fn)
		}
	case arrayNode:
		for i, c := range n.children {
			c.walk(fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// render writes the message as JSON with each placeholder replaced by the
// row's value for that column. value returns the cell for a normalized
// column name.
func (t *template) render(buf *bytes.Buffer, value func(column string) string) {
	t.root.render(buf, value)
}

func (n *node) render(buf *bytes.Buffer, value func(string) string) {
	switch n.kind {
	case literalNode:
		buf.Write(n.raw)
	case stringNode:
		buf.WriteByte('"')
		for _, s := range n.segs {
			if s.column == "" {
				writeJSONStringBody(buf, s.text)
			} else {
				writeJSONStringBody(buf, value(s.column))
			}
		}
		buf.WriteByte('"')
	case objectNode:
		buf.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteByte('"')
			writeJSONStringBody(buf, k)
			buf.WriteString(`":`)
			n.children[i].render(buf, value)
		}
		buf.WriteByte('}')
	case arrayNode:
		buf.WriteByte('[')
		for i, c := range n.children {
			if i > 0 {
				buf.WriteByte(',')
			}
			c.render(buf, value)
		}
		buf.WriteByte(']')
	}
}

// text is a string node's value with the row's cells filled in.
func (n *node) text(value func(string) string) string {
	if len(n.segs) == 1 {
		if n.segs[0].column == "" {
			return n.segs[0].text
		}
		return value(n.segs[0].column)
	}
	var b strings.Builder
	for _, s := range n.segs {
		if s.column == "" {
			b.WriteString(s.text)
		} else {
			b.WriteString(value(s.column))
		}
	}
	return b.String()
}

const hexDigits = "0123456789abcdef"

// writeJSONStringBody writes s escaped as the inside of a JSON string, as
// encoding/json does without HTML escaping: what the customer reads is the
// text itself ("José & Núñez"), never an escape artefact.
func writeJSONStringBody(w io.ByteWriter, s string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				w.WriteByte('\\')
				w.WriteByte(c)
			case c == '\n':
				w.WriteByte('\\')
				w.WriteByte('n')
			case c == '\r':
				w.WriteByte('\\')
				w.WriteByte('r')
			case c == '\t':
				w.WriteByte('\\')
				w.WriteByte('t')
			case c == '\b':
				w.WriteByte('\\')
				w.WriteByte('b')
			case c == '\f':
				w.WriteByte('\\')
				w.WriteByte('f')
			case c < 0x20:
				for _, b := range []byte{'\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf]} {
					w.WriteByte(b)
				}
			default:
				w.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			for _, b := range []byte(`\ufffd`) {
				w.WriteByte(b)
			}
		case r == '\u2028' || r == '\u2029':
			for _, b := range []byte{'\\', 'u', '2', '0', '2', hexDigits[r&0xf]} {
				w.WriteByte(b)
			}
		default:
			for j := 0; j < size; j++ {
				w.WriteByte(s[i+j])
			}
		}
		i += size
	}
}
