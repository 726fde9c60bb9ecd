//go:build cgo

package store

import (
	"testing"

	"github.com/mattn/go-sqlite3"
)

// The ledger's copies of SQLite's result codes are the driver's.
func TestResultCodesAreTheDrivers(t *testing.T) {
	for _, c := range []struct {
		name string
		ours int
		its  sqlite3.ErrNo
	}{
		{"perm", codePerm, sqlite3.ErrPerm},
		{"busy", codeBusy, sqlite3.ErrBusy},
		{"locked", codeLocked, sqlite3.ErrLocked},
		{"nomem", codeNomem, sqlite3.ErrNomem},
		{"readonly", codeReadonly, sqlite3.ErrReadonly},
		{"ioerr", codeIOErr, sqlite3.ErrIoErr},
		{"corrupt", codeCorrupt, sqlite3.ErrCorrupt},
		{"full", codeFull, sqlite3.ErrFull},
		{"cantopen", codeCantOpen, sqlite3.ErrCantOpen},
		{"protocol", codeProtocol, sqlite3.ErrProtocol},
		{"auth", codeAuth, sqlite3.ErrAuth},
		{"notadb", codeNotADB, sqlite3.ErrNotADB},
	} {
		if c.ours != int(c.its) {
			t.Errorf("%s: the ledger says %d, the driver %d", c.name, c.ours, c.its)
		}
	}
}
