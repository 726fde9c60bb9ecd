package campaign

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
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

// ExportColumnsSpanish are ExportColumns as an export in Spanish names
// them, in the same order. An export in either language is read back as
// pregon's own.
var ExportColumnsSpanish = []string{"pregon_archivo", "pregon_fila", "pregon_estado", "pregon_motivo",
	"pregon_intentos", "pregon_id_mensaje", "pregon_enviado_el",
	"pregon_entrega", "pregon_entregado_el", "pregon_leido_el", RowColumnSpanish}

// RowColumnSpanish is RowColumn in an export in Spanish.
const RowColumnSpanish = "pregon_registro"

// exportName is how an export's own column names are recognized: as
// NormalizeHeader compares names, and also without accents and with spaces
// and dashes read as underscores, since a person may retype a header in
// Excel ("Pregón registro").
func exportName(name string) string {
	n, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), NormalizeHeader(name))
	if err != nil {
		n = NormalizeHeader(name)
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, n)
}

// IsExportColumn reports whether a column is one that an export adds
// after a row's own, in either language.
func IsExportColumn(name string) bool {
	n := exportName(name)
	return slices.Contains(ExportColumns, n) || slices.Contains(ExportColumnsSpanish, n)
}

// IsExport reports whether a header (column names as written) is a
// pregon export's.
func IsExport(header []string) bool {
	return slices.ContainsFunc(header, func(h string) bool {
		n := exportName(h)
		return n == RowColumn || n == RowColumnSpanish
	})
}

// exportCell is the cell of an export's column i (of ExportColumns), in
// whichever language and spelling the export names it.
func exportCell(cells map[string]string, i int) string {
	if v, ok := cells[ExportColumns[i]]; ok {
		return v
	}
	if v, ok := cells[ExportColumnsSpanish[i]]; ok {
		return v
	}
	for name, v := range cells {
		if n := exportName(name); n == ExportColumns[i] || n == ExportColumnsSpanish[i] {
			return v
		}
	}
	return ""
}

// Exported says where a row of an export fed back to send came from.
type Exported struct {
	Record int64  // the ledger record it was exported from; 0 when the file is not an export
	File   string // the file that record's row was read from, as the export names it
}

// exported reads a row's origin from an export's own columns.
func exported(cells map[string]string) Exported {
	id, err := strconv.ParseInt(strings.TrimSpace(exportCell(cells, len(ExportColumns)-1)), 10, 64)
	if err != nil || id <= 0 {
		return Exported{}
	}
	return Exported{Record: id, File: strings.TrimSpace(exportCell(cells, 0))}
}

// rowKey is what a row is known by without its line: a hash of its
// cells by column name. Blank cells are left out, and so are an export's
// own columns, so a row reads the same in its file and in an export of
// it, whatever the order of the columns.
func rowKey(cells map[string]string, fromExport bool) string {
	names := make([]string, 0, len(cells))
	for name, v := range cells {
		if strings.TrimSpace(v) == "" || (fromExport && IsExportColumn(name)) {
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
