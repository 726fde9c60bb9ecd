package rateshare

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/pregon/pregon/sender"
)

// The shared file is read and written at every request (twice) and every
// heartbeat. Its format is the JSON of state, as encoding/json writes it,
// so that every pregon since the file's first version reads and writes
// the same file (runs of two versions at once still share the limit). But
// encoding/json's reflection over the sends took half of a run's CPU at
// 25/s, so the sends are written and read by hand here, and encoding/json
// reads only what the hand parser does not recognize (a file written by
// another version with another spelling), and the few runs.

// encode writes the state as json.Marshal(s) would.
func encode(s state) ([]byte, error) {
	runs, err := json.Marshal(s.Runs)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 48*len(s.Sends)+len(runs)+48)
	b = append(b, `{"sends":`...)
	if s.Sends == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, x := range s.Sends {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"slot":`...)
			b = strconv.AppendUint(b, x.Slot, 10)
			b = append(b, `,"at":`...)
			b = strconv.AppendInt(b, x.At, 10)
			if x.Run != "" {
				b = append(b, `,"run":`...)
				q, err := json.Marshal(x.Run)
				if err != nil {
					return nil, err
				}
				b = append(b, q...)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"runs":`...)
	b = append(b, runs...)
	b = append(b, `,"next":`...)
	b = strconv.AppendUint(b, s.Next, 10)
	return append(b, '}'), nil
}

// decode reads the file's JSON: by hand when it is spelled as encode
// spells it, else through encoding/json.
func decode(data []byte) (state, error) {
	if s, ok := decodeFast(data); ok {
		return s, nil
	}
	var s state
	err := json.Unmarshal(data, &s)
	return s, err
}

// decodeFast parses encode's spelling; ok is false for anything else.
func decodeFast(data []byte) (s state, ok bool) {
	p := parser{data: data}
	if !p.lit(`{"sends":`) {
		return s, false
	}
	if !p.lit("null") {
		if !p.lit("[") {
			return s, false
		}
		for first := true; !p.lit("]"); first = false {
			if !first && !p.lit(",") {
				return s, false
			}
			var x sender.Send
			var ok1, ok2 bool
			if !p.lit(`{"slot":`) {
				return s, false
			}
			if x.Slot, ok1 = p.uint(); !ok1 || !p.lit(`,"at":`) {
				return s, false
			}
			at, ok2 := p.uint()
			if !ok2 {
				return s, false
			}
			x.At = int64(at)
			if p.lit(`,"run":"`) {
				if x.Run, ok1 = p.plainString(); !ok1 {
					return s, false
				}
			}
			if !p.lit("}") {
				return s, false
			}
			s.Sends = append(s.Sends, x)
		}
	}
	if !p.lit(`,"runs":`) {
		return s, false
	}
	rest := p.data[p.i:]
	tail := bytes.LastIndex(rest, []byte(`,"next":`))
	if tail < 0 || rest[len(rest)-1] != '}' {
		return s, false
	}
	next, err := strconv.ParseUint(string(rest[tail+len(`,"next":`):len(rest)-1]), 10, 64)
	if err != nil || json.Unmarshal(rest[:tail], &s.Runs) != nil {
		return s, false
	}
	s.Next = next
	return s, true
}

// parser walks a byte slice.
type parser struct {
	data []byte
	i    int
}

// lit consumes lit if the input goes on with it.
func (p *parser) lit(lit string) bool {
	if bytes.HasPrefix(p.data[p.i:], []byte(lit)) {
		p.i += len(lit)
		return true
	}
	return false
}

// uint consumes an unsigned decimal number.
func (p *parser) uint() (uint64, bool) {
	j := p.i
	for j < len(p.data) && p.data[j] >= '0' && p.data[j] <= '9' {
		j++
	}
	n, err := strconv.ParseUint(string(p.data[p.i:j]), 10, 64)
	if err != nil {
		return 0, false
	}
	p.i = j
	return n, true
}

// plainString consumes the rest of a JSON string without escapes, and its
// closing quote (the opening one was consumed).
func (p *parser) plainString() (string, bool) {
	j := p.i
	for j < len(p.data) && p.data[j] != '"' {
		if p.data[j] == '\\' || p.data[j] < 0x20 {
			return "", false
		}
		j++
	}
	if j == len(p.data) {
		return "", false
	}
	v := string(p.data[p.i:j])
	p.i = j + 1
	return v, true
}
