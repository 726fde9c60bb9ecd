package campaign

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// RowColumn is the column that makes a contacts file a pregon export: it
// names, for each row, the ledger record the row was exported from. A
// user's own file has no column of that name by accident, whereas "line"
// or "state" are ordinary names a customer list may have.
const RowColumn = "pregon_row"

// ExportColumns are the columns an export writes after a row's own, in
// order; RowColumn is the last. Each has pregon's prefix so that it never
// takes the name of a column of the user's files.
var ExportColumns = []string{"pregon_file", "pregon_line", "pregon_state", "pregon_error",
	"pregon_attempts", "pregon_message_id", "pregon_sent_at",
	"pregon_delivery", "pregon_delivered_at", "pregon_read_at", RowColumn}

// IsExport reports whether a header (column names as written) is a
// pregon export's.
func IsExport(header []string) bool {
	return slices.ContainsFunc(header, func(h string) bool { return NormalizeHeader(h) == RowColumn })
}

// Exported says where a row of an export fed back to send came from.
type Exported struct {
	Record int64  // the ledger record it was exported from; 0 when the file is not an export
	File   string // the file that record's row was read from, as the export names it
}

// exported reads a row's origin from an export's own columns.
func exported(cells map[string]string) Exported {
	id, err := strconv.ParseInt(strings.TrimSpace(cells[RowColumn]), 10, 64)
	if err != nil || id <= 0 {
		return Exported{}
	}
	return Exported{Record: id, File: strings.TrimSpace(cells["pregon_file"])}
}

// rowKey is what a row is known by without its line: a hash of its
// cells by column name. Blank cells are left out, and so are an export's
// own columns, so a row reads the same in its file and in an export of
// it, whatever the order of the columns.
func rowKey(cells map[string]string, fromExport bool) string {
	names := make([]string, 0, len(cells))
	for name, v := range cells {
		if strings.TrimSpace(v) == "" || (fromExport && slices.Contains(ExportColumns, name)) {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, name := range names {
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write([]byte(strings.TrimSpace(cells[name])))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
