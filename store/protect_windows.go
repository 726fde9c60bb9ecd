//go:build windows

package store

// protect does nothing on Windows, where mode bits mean nothing (os.Chmod
// only sets or clears the read-only attribute, and fails on a file SQLite
// holds open). What protects a ledger there is the access control list
// its files inherit from their folder: under the user's profile
// (C:\Users\NAME), only that user, the administrators and the system can
// read them. The README says to keep ledgers there, not in a shared folder.
func protect(string) error { return nil }
