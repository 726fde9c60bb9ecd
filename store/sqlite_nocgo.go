//go:build !cgo

package store

// Without cgo, go-sqlite3 is a stub whose every Open fails with its own
// message ("requires cgo"): no error carries a result code. This build
// exists so that pregon's own code can be checked (go vet) for systems
// whose C toolchain is not at hand, such as macOS from Linux; it is never
// released.
func sqliteCode(error) (int, bool) { return 0, false }
