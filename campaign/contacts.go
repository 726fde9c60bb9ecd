package campaign

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gocarina/gocsv"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Message is one CSV row turned into a request: the contact it goes to and
// the exact payload. A row that cannot be sent has Problem set instead.
type Message struct {
	Line    int    // line of the row in the file, as a text editor shows it
	Contact string // identity, e.g. "phone:+593991000001"; may be "" when Problem is set
	Path    string // API path the payload is posted to
	Payload []byte
	Problem *RowError
	// Cells are the row's values in header order, as the file has them
	// (after undoing an export's formula guard): what an export writes back.
	Cells []string
	// Key is what a row with a Problem is known by, line aside: a hash of
	// its cells by column name (blank cells and an export's own columns
	// left out). With the file's name it identifies a row that has no
	// contact. "" when Problem is nil.
	Key string
	// Exported is where the row came from when the file is a pregon export
	// fed back to send (it has RowColumn); zero otherwise.
	Exported Exported
	// Warnings are what in the row will be sent as it is but likely is
	// not what was meant (a fixed line, "Pérez, Ana" in a name column);
	// nil for most rows, and for a row with a Problem.
	Warnings []Warning
}

// RowError says what is wrong with one CSV row, and where.
type RowError struct {
	File   string
	Line   int
	Column string // the column's name as written in the header
	Value  string
	Err    error
}

func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: column %q: %q %v", e.File, e.Line, e.Column, clipValue(e.Value), e.Err)
}

// clipValue shortens a long cell for an error message.
func clipValue(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}

func (e *RowError) Unwrap() error { return e.Err }

// Reason is the problem as the ledger records it: a code, its values and
// the cell, without the file and line.
func (e *RowError) Reason() Reason {
	r, ok := ReasonOf(e)
	if !ok {
		r = Reason{Code: RowUnread, Args: []any{e.Err.Error()}, Column: e.Column, Value: clipValue(e.Value)}
	}
	return r
}

// knownColumns are the contact columns pregon reads by name; every other
// column reaches the template through gocsv's unmatched map.
type knownColumns struct {
	ContactID string `csv:"contact_id"`
	Phone     string `csv:"phone"`
	Email     string `csv:"email"`
	ID        string `csv:"id"`
}

// Contacts reads a contacts CSV one row at a time and renders each row's
// message. It never holds more than one row in memory.
type Contacts struct {
	c        *Campaign
	file     *os.File
	name     string // file name used in errors
	encoding string
	csv      *csv.Reader
	um       *gocsv.Unmarshaller
	headers  []string          // as written, trimmed, for error messages
	keys     []string          // the map key of each header position
	display  map[string]string // normalized → as written
	column   string            // normalized contact column
	identify identify
	names    []string  // name-like columns the message uses (see nameColumnRE)
	warnings []Warning // the campaign's, with this header (see Warnings)
	// fromExport: the file is a pregon export (see Message.Exported).
	fromExport bool

	// The reading pipeline (see Next), started by the first Next.
	stop    chan struct{}
	ordered chan *chunk
	wg      sync.WaitGroup
	cur     *chunk
	pos     int
	empty   int // empty rows skipped in the chunks Next has taken
}

// Synthetic header names, which a real (normalized) header cannot have:
// unnamed columns, and positions beyond the header that a ragged row
// (Excel's trailing ";;;") may fill.
const (
	unnamedPrefix = "\x00unnamed"
	beyondPrefix  = "\x00beyond"
	// maxBeyond bounds how many cells past the header a row may have
	// before it is refused outright.
	maxBeyond = 1024
)

// Open opens a contacts CSV for the campaign and checks its header: the
// contact column and every column a placeholder names must be there.
func (c *Campaign) Open(path string) (*Contacts, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := c.newContacts(f, filepath.Base(path))
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func (c *Campaign) newContacts(f *os.File, name string) (*Contacts, error) {
	cr, enc, err := csvReader(f)
	if err != nil {
		return nil, &Error{File: name, Err: err}
	}
	um, err := gocsv.NewUnmarshaller(cr, knownColumns{})
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Err: errEmptyFile}
		}
		return nil, &Error{File: name, Err: csvError(err)}
	}
	r := &Contacts{c: c, file: f, name: name, encoding: enc, csv: cr, um: um}
	if err := r.readHeader(); err != nil {
		return nil, &Error{File: name, Err: err}
	}
	return r, nil
}

var errEmptyFile = reasonf(CSVEmpty, "the file is empty: it needs a header row and one row per contact")

// csvReader is how every reader of a contacts file sees it: converted to
// UTF-8 (decodeText), split on the delimiter its header uses, and rows
// allowed to be shorter or longer than the header (Excel's trailing ";;;";
// Next decides what a longer row means).
func csvReader(f *os.File) (*csv.Reader, string, error) {
	src, enc, err := decodeText(f)
	if err != nil {
		return nil, "", err
	}
	br := bufio.NewReaderSize(src, 64<<10)
	comma, err := sniffDelimiter(br)
	if err != nil {
		return nil, "", err
	}
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	return cr, enc, nil
}

func (r *Contacts) readHeader() error {
	r.display = make(map[string]string, len(r.um.Headers))
	for i, h := range r.um.Headers {
		h = strings.TrimSpace(h)
		r.headers = append(r.headers, h)
		n := NormalizeHeader(h)
		if n == "" {
			n = fmt.Sprintf("%s%d", unnamedPrefix, i+1) // left by trailing delimiters: ignored
		} else if first, dup := r.display[n]; dup {
			return reasonf(DuplicateHeader, "the header has two columns named %q (%q and %q): rename one", n, first, h)
		} else {
			r.display[n] = h
		}
		r.keys = append(r.keys, n)
	}
	keys := append([]string{}, r.keys...)
	for i := range maxBeyond {
		keys = append(keys, fmt.Sprintf("%s%d", beyondPrefix, len(r.keys)+i+1))
	}
	if err := r.um.RenormalizeHeaders(func([]string) []string { return keys }); err != nil {
		return err
	}
	has := func(col string) bool { _, ok := r.display[col]; return ok }
	var missing []string
	for _, col := range r.c.tmpl.columns {
		if !has(col) {
			missing = append(missing, fmt.Sprintf("{{%s}}", col))
		}
	}
	if len(missing) > 0 {
		return reasonf(MissingColumns, "the campaign uses %s but the CSV has no such column (its columns: %s)",
			strings.Join(missing, ", "), strings.Join(r.headers, ", "))
	}
	col, kind, err := r.c.contactColumn(has)
	if err != nil {
		return err
	}
	r.column = col
	r.identify = r.c.identifier(kind)
	r.fromExport = IsExport(r.headers)
	r.names = nameColumns(r.c.tmpl)
	r.warnings = singleBraces(r.c.tmpl, r.display)
	return nil
}

// Warnings are what in the campaign will be sent as it is but likely is
// not what was meant, given this file's columns: {Nombre} in the message
// where the file has a column Nombre. Each row has its own
// (Message.Warnings).
func (r *Contacts) Warnings() []Warning { return r.warnings }

// Encoding names the text encoding the file was read in: "UTF-8", or the
// one it was converted from.
func (r *Contacts) Encoding() string { return r.encoding }

// Name is the file's name, as errors give it.
func (r *Contacts) Name() string { return r.name }

// Header returns the column names as written in the file.
func (r *Contacts) Header() []string { return r.headers }

// Close closes the file.
func (r *Contacts) Close() error {
	if r.stop != nil {
		close(r.stop)
		r.wg.Wait()
	}
	return r.file.Close()
}

// Next returns the next row's message, in file order. It returns io.EOF
// after the last row. An error other than a Message.Problem means the file
// itself is broken (a stray quote): nothing of the campaign should be sent
// until it is fixed.
//
// Rows are read in order by one goroutine and rendered by one worker per
// core (libphonenumber alone takes ~20 µs a row), a few thousand rows ahead
// of the caller at most.
func (r *Contacts) Next() (Message, error) {
	if r.stop == nil {
		r.start()
	}
	for r.cur == nil || r.pos >= len(r.cur.msgs) {
		if r.cur != nil && r.cur.err != nil {
			return Message{}, r.cur.err
		}
		c, ok := <-r.ordered
		if !ok {
			return Message{}, io.EOF
		}
		<-c.done
		r.cur, r.pos = c, 0
		r.empty += c.empty
	}
	m := r.cur.msgs[r.pos]
	r.cur.msgs[r.pos] = Message{}
	r.pos++
	return m, nil
}

// EmptyRows is how many rows Next has skipped so far because every cell
// was empty or blank: what Excel saves for an empty row (";;;"). They are
// no one's row, so they are neither contacts nor invalid; after io.EOF it
// is the file's count.
func (r *Contacts) EmptyRows() int { return r.empty }

// chunk is a run of consecutive rows, rendered by one worker.
type chunk struct {
	rows  []rawRow
	msgs  []Message
	empty int   // empty rows skipped among these rows
	err   error // what ended the file after these rows: io.EOF or a file error
	done  chan struct{}
}

type rawRow struct {
	line  int
	cells map[string]string
	err   error // gocsv refused the row
}

const (
	chunkRows   = 256
	chunksAhead = 16
)

func (r *Contacts) start() {
	r.stop = make(chan struct{})
	r.ordered = make(chan *chunk, chunksAhead)
	work := make(chan *chunk, chunksAhead)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(r.ordered)
		defer close(work)
		for {
			c := r.readChunk()
			select {
			case r.ordered <- c:
			case <-r.stop:
				return
			}
			select {
			case work <- c:
			case <-r.stop:
				return
			}
			if c.err != nil {
				return
			}
		}
	}()
	for range max(1, runtime.GOMAXPROCS(0)) {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			var buf bytes.Buffer
			for c := range work {
				c.msgs = make([]Message, len(c.rows))
				for i, row := range c.rows {
					c.msgs[i] = r.message(row, &buf)
				}
				c.rows = nil
				close(c.done)
			}
		}()
	}
}

// readChunk reads up to chunkRows rows.
func (r *Contacts) readChunk() *chunk {
	c := &chunk{done: make(chan struct{}), rows: make([]rawRow, 0, chunkRows)}
	for len(c.rows) < chunkRows {
		known, cells, err := r.read()
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			c.err = io.EOF
			return c
		case errors.As(err, &pe):
			c.err = fmt.Errorf("%s:%w", r.name, csvError(err))
			return c
		}
		// Only now is there a record to ask the position of: FieldPos
		// panics after a read that returned none.
		line, _ := r.csv.FieldPos(0)
		if err != nil { // gocsv refused the row itself (far longer than the header)
			if _, ok := ReasonOf(err); !ok {
				err = reasonf(RowUnread, "%s", err.Error())
			}
			c.rows = append(c.rows, rawRow{line: line, err: err})
			continue
		}
		k := known.(knownColumns)
		for _, kc := range [...]struct{ col, v string }{{"contact_id", k.ContactID}, {"phone", k.Phone}, {"email", k.Email}, {"id", k.ID}} {
			if _, ok := r.display[kc.col]; ok {
				cells[kc.col] = kc.v
			}
		}
		if blank(cells) {
			c.empty++
			continue
		}
		c.rows = append(c.rows, rawRow{line: line, cells: cells})
	}
	return c
}

// blank reports whether every cell of a row is empty or white space.
func blank(cells map[string]string) bool {
	for _, v := range cells {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// read is gocsv's ReadUnmatched, made safe for rows with more cells than
// the header can name even with its padding (gocsv indexes past its header
// slice on those).
func (r *Contacts) read() (known any, cells map[string]string, err error) {
	defer func() {
		if recover() != nil {
			err = reasonf(TooManyCells, "the row has more than %d cells beyond the header's columns", maxBeyond)
		}
	}()
	return r.um.ReadUnmatched()
}

// message renders one row; it runs on several workers at once, so it only
// reads r's fields and writes to buf.
func (r *Contacts) message(row rawRow, buf *bytes.Buffer) Message {
	line, cells := row.line, row.cells
	if row.err != nil {
		// gocsv kept none of the row's cells: its line is all that tells
		// it from another such row.
		return Message{Line: line, Problem: &RowError{File: r.name, Line: line, Err: row.err},
			Key: rowKey(map[string]string{"\x00line": strconv.Itoa(line)}, false)}
	}
	for key, v := range cells {
		cells[key] = unneutralize(v)
	}
	m := Message{Line: line, Cells: make([]string, len(r.keys))}
	for i, key := range r.keys {
		m.Cells[i] = cells[key]
	}
	if r.fromExport {
		m.Exported = exported(cells)
	}
	problem := func(col string, err error) Message {
		m.Problem = &RowError{File: r.name, Line: line, Column: r.display[col], Value: cells[col], Err: err}
		m.Key = rowKey(cells, r.fromExport)
		return m
	}
	if err := r.beyondHeader(cells); err != nil {
		m.Problem = &RowError{File: r.name, Line: line, Err: err}
		m.Key = rowKey(cells, r.fromExport)
		return m
	}
	if strings.TrimSpace(cells[r.column]) == "" {
		return problem(r.column, reasonf(ContactEmpty, "is empty: the row has no contact"))
	}
	ident, path, fixedLine, err := r.identify(cells[r.column])
	if err != nil {
		return problem(r.column, err)
	}
	m.Contact, m.Path = ident, path
	for _, col := range r.c.tmpl.columns {
		if strings.TrimSpace(cells[col]) == "" {
			return problem(col, reasonf(CellEmpty, "is empty, and the message uses it"))
		}
	}
	value := func(col string) string { return cells[col] }
	for _, rc := range r.c.rowChecks {
		if err := rc.rule(rc.n.text(value)); err != nil {
			return problem(view{n: rc.n}.column(), err)
		}
	}
	if fixedLine {
		m.Warnings = append(m.Warnings, Warning{Code: FixedLine, Line: line, Column: r.display[r.column], Value: cells[r.column]})
	}
	for _, col := range r.names {
		if commaName(cells[col]) {
			m.Warnings = append(m.Warnings, Warning{Code: CommaInName, Line: line, Column: r.display[col], Value: cells[col]})
		}
	}
	buf.Reset()
	r.c.writePayload(buf, value)
	m.Payload = bytes.Clone(buf.Bytes())
	return m
}

// beyondHeader refuses a row with a value past the header's last column:
// usually a delimiter inside a value that is not in quotes, which shifts
// every value after it. Empty cells there (";;;") are fine.
func (r *Contacts) beyondHeader(cells map[string]string) error {
	first := 0
	for key, v := range cells {
		if !strings.HasPrefix(key, beyondPrefix) || strings.TrimSpace(v) == "" {
			continue
		}
		var pos int
		fmt.Sscanf(key[len(beyondPrefix):], "%d", &pos)
		if first == 0 || pos < first {
			first = pos
		}
	}
	if first == 0 {
		return nil
	}
	value := cells[fmt.Sprintf("%s%d", beyondPrefix, first)]
	e := reasonf(BeyondHeader, "the row has a value in column %d, past the header's %d columns (%q): is there a %s inside a value that is not in quotes?",
		first, len(r.keys), value, delimiterName(r.csv.Comma))
	e.Reason.Args[3] = string(r.csv.Comma)
	return e
}

// delimiterName is the delimiter's English name.
func delimiterName(comma rune) string {
	switch comma {
	case ';':
		return "semicolon"
	case '\t':
		return "tab"
	}
	return "comma"
}

// writePayload writes the request body: the message wrapped the way the
// campaign's API version expects.
func (c *Campaign) writePayload(buf *bytes.Buffer, value func(string) string) {
	if c.API == "v1" {
		buf.WriteString(`{"body":[`)
		c.tmpl.render(buf, value)
		buf.WriteString(`]`)
		if c.ForceCancelSurvey {
			buf.WriteString(`,"forceCancelSurvey":true`)
		}
		buf.WriteString(`}`)
		return
	}
	buf.WriteString(`{`)
	if c.ChannelID != "" {
		buf.WriteString(`"channelId":`)
		buf.WriteString(c.ChannelID.String())
		buf.WriteString(`,`)
	}
	buf.WriteString(`"message":`)
	c.tmpl.render(buf, value)
	buf.WriteString(`}`)
}

// csvError rewrites encoding/csv's errors in words a spreadsheet user
// knows, keeping the line and column.
func csvError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote), errors.Is(pe.Err, csv.ErrQuote):
		return reasonf(BareQuote, "%s:%s: a quote (\") in the middle of a cell: put the whole cell in quotes and double the quote inside (\"\")",
			strconv.Itoa(pe.Line), strconv.Itoa(pe.Column))
	}
	return fmt.Errorf("%d:%d: %v", pe.Line, pe.Column, pe.Err)
}

// decodeText returns the file as UTF-8 text without a byte order mark.
// UTF-16 (Excel's "Unicode text") is converted; a file that is not valid
// UTF-8 is read as Windows-1252, which is what Excel on Windows writes for
// "CSV (comma delimited)" in Spanish locales.
func decodeText(f *os.File) (io.Reader, string, error) {
	head := make([]byte, 3)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, "", err
	}
	head = head[:n]
	var skip int64
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		skip = 3
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, "", err
		}
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		return transform.NewReader(f, dec), "UTF-16", nil
	}
	valid, err := isUTF8(f, skip)
	if err != nil {
		return nil, "", err
	}
	if _, err := f.Seek(skip, io.SeekStart); err != nil {
		return nil, "", err
	}
	if valid {
		return f, "UTF-8", nil
	}
	return transform.NewReader(f, charmap.Windows1252.NewDecoder()), "Windows-1252", nil
}

// isUTF8 reads the whole file once, in chunks, to decide its encoding
// before any row is used: a file is converted all or nothing.
func isUTF8(f *os.File, from int64) (bool, error) {
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return false, err
	}
	buf := make([]byte, 256<<10)
	var carry int
	for {
		n, err := f.Read(buf[carry:])
		chunk := buf[:carry+n]
		// Keep an incomplete rune at the end for the next chunk.
		end := len(chunk)
		for i := 1; i <= utf8.UTFMax && i <= len(chunk); i++ {
			if utf8.RuneStart(chunk[len(chunk)-i]) {
				if !utf8.FullRune(chunk[len(chunk)-i:]) {
					end = len(chunk) - i
				}
				break
			}
		}
		if errors.Is(err, io.EOF) {
			return utf8.Valid(chunk), nil
		}
		if err != nil {
			return false, err
		}
		if !utf8.Valid(chunk[:end]) {
			return false, nil
		}
		carry = copy(buf, chunk[end:])
	}
}

// sniffDelimiter looks at the header line and picks the delimiter that
// splits it most: ',' or ';' (Excel in Spanish locales) or tab.
func sniffDelimiter(br *bufio.Reader) (rune, error) {
	head, err := br.Peek(br.Size())
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return 0, err
	}
	counts := map[byte]int{}
	quoted := false
	for _, b := range head {
		if b == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if b == '\n' {
			break
		}
		if b == ',' || b == ';' || b == '\t' {
			counts[b]++
		}
	}
	best, max := byte(','), 0
	for _, d := range []byte{',', ';', '\t'} {
		if counts[d] > max {
			best, max = d, counts[d]
		}
	}
	return rune(best), nil
}

func blankRecord(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// Neutralize guards a cell against spreadsheet formula injection: a value
// that Excel would run as a formula (=, @, a tab or carriage return first,
// or + or - followed by anything but a plain number) gets a leading
// apostrophe, which Excel shows as text. Reading a contacts CSV undoes it,
// so an exported file fed back to send reads the original values.
func Neutralize(s string) string {
	if needsGuard(s) {
		return "'" + s
	}
	return s
}

func unneutralize(s string) string {
	if len(s) > 1 && s[0] == '\'' && needsGuard(s[1:]) {
		return s[1:]
	}
	return s
}

func needsGuard(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return true
	case '+', '-':
		return !plainNumberRE.MatchString(s[1:])
	case '\'':
		// An apostrophe already in front of a guarded value is doubled, so
		// that reading it back strips exactly one.
		return needsGuard(s[1:])
	}
	return false
}

// plainNumberRE is what may follow a + or - and still be plain data: a
// phone number or an amount, never a formula.
var plainNumberRE = regexp.MustCompile(`^[0-9][0-9 .,()]*$`)

// Sample is the start of a contacts file: its column names as written and
// up to n rows, read with the same rules as Open (encoding, delimiter).
func Sample(path string, n int) (header []string, rows [][]string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	cr, _, err := csvReader(f)
	if err != nil {
		return nil, nil, err
	}
	for len(rows) <= n {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, &Error{File: filepath.Base(path), Err: csvError(err)}
		}
		if header == nil {
			for _, h := range rec {
				header = append(header, strings.TrimSpace(h))
			}
			continue
		}
		rows = append(rows, rec)
	}
	if header == nil {
		return nil, nil, &Error{File: filepath.Base(path), Err: errEmptyFile}
	}
	return header, rows, nil
}

// CheckSyntax reads the whole file as CSV, without rendering anything, and
// returns how many rows it has (empty rows, which Next skips, left out), or
// the first place where the file itself is broken (as Next would report
// it). It lets sending start before the import ends without ever sending
// part of a broken file.
func CheckSyntax(path string) (rows int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	cr, _, err := csvReader(f)
	if err != nil {
		return 0, err
	}
	cr.ReuseRecord = true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return max(0, rows-1), nil // the header is not a contact
		}
		if err != nil {
			return 0, fmt.Errorf("%s:%w", filepath.Base(path), csvError(err))
		}
		if rows > 0 && blankRecord(rec) {
			continue
		}
		rows++
	}
}
