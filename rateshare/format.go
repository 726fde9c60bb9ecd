package rateshare

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/pregon/pregon/sender"
)

// The shared file is read and written at every request (twice) and every
// heartbeat: its format is lines, parsed by hand, because encoding/json's
// reflection over the sends took half of a run's CPU at 25/s.
//
//	pregon rate share 2
//	next 1234
//	run <id> <the Run as JSON>
//	send <slot> <at> <run id>
//
// Ids (host/pid/start) hold no spaces. Anything else in the file, a file
// cut short by a crash included, does not parse: read reads it as a full
// window.
const header = "pregon rate share 2"

// encode writes the state in the file's format.
func encode(s state) ([]byte, error) {
	b := make([]byte, 0, 64+160*len(s.Runs)+48*len(s.Sends))
	b = append(b, header...)
	b = append(b, "\nnext "...)
	b = strconv.AppendUint(b, s.Next, 10)
	b = append(b, '\n')
	for id, r := range s.Runs {
		js, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		b = append(b, "run "...)
		b = append(b, id...)
		b = append(b, ' ')
		b = append(b, js...)
		b = append(b, '\n')
	}
	for _, x := range s.Sends {
		b = append(b, "send "...)
		b = strconv.AppendUint(b, x.Slot, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, x.At, 10)
		b = append(b, ' ')
		b = append(b, x.Run...)
		b = append(b, '\n')
	}
	b = append(b, "end\n"...)
	return b, nil
}

var errFormat = errors.New("not a rate share file")

// decode parses the file's content; a file without its last line ("end")
// was cut short.
func decode(data []byte) (state, error) {
	s := state{Runs: map[string]Run{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	if !sc.Scan() || sc.Text() != header {
		return s, errFormat
	}
	ended := false
	for sc.Scan() && !ended {
		line := sc.Bytes()
		kind, rest, _ := bytes.Cut(line, []byte{' '})
		var err error
		switch string(kind) {
		case "next":
			s.Next, err = strconv.ParseUint(string(rest), 10, 64)
		case "run":
			id, js, ok := bytes.Cut(rest, []byte{' '})
			var r Run
			if err = json.Unmarshal(js, &r); ok && err == nil {
				s.Runs[string(id)] = r
			} else if err == nil {
				err = errFormat
			}
		case "send":
			err = decodeSend(rest, &s.Sends)
		case "end":
			ended = true
		default:
			err = errFormat
		}
		if err != nil {
			return s, fmt.Errorf("%w: %q: %v", errFormat, line, err)
		}
	}
	if !ended {
		return s, errFormat
	}
	return s, nil
}

func decodeSend(rest []byte, sends *sender.Sends) error {
	slot, rest, ok1 := bytes.Cut(rest, []byte{' '})
	at, run, ok2 := bytes.Cut(rest, []byte{' '})
	if !ok1 || !ok2 {
		return errFormat
	}
	n, err := strconv.ParseUint(string(slot), 10, 64)
	if err != nil {
		return err
	}
	t, err := strconv.ParseInt(string(at), 10, 64)
	if err != nil {
		return err
	}
	*sends = append(*sends, sender.Send{Slot: n, At: t, Run: string(run)})
	return nil
}
