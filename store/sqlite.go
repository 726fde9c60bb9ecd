package store

// SQLite's primary result codes (sqlite3.h) that the ledger tells apart.
// They are SQLite's own numbers, which go-sqlite3 defines only in a cgo
// build; sqliteCode reads them from an error.
const (
	codePerm     = 3
	codeBusy     = 5
	codeLocked   = 6
	codeNomem    = 7
	codeReadonly = 8
	codeIOErr    = 10
	codeCorrupt  = 11
	codeFull     = 13
	codeCantOpen = 14
	codeProtocol = 15
	codeAuth     = 23
	codeNotADB   = 26
)

// locked reports whether err says that another connection holds the
// lock the statement needed.
func locked(err error) bool {
	code, ok := sqliteCode(err)
	return ok && (code == codeBusy || code == codeLocked)
}

// fileFault reports whether err is the file's, the disk's or the
// connection's failure rather than one statement's: every write of the
// transaction would meet it.
func fileFault(err error) bool {
	code, ok := sqliteCode(err)
	if !ok {
		return false
	}
	switch code {
	case codeBusy, codeLocked, codeNomem, codeReadonly, codeIOErr, codeCorrupt,
		codeFull, codeCantOpen, codeProtocol, codeNotADB, codePerm, codeAuth:
		return true
	}
	return false
}
