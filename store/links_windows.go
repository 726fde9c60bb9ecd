//go:build windows

package store

import "io/fs"

// links is how many names the file has: os.Stat does not say on Windows,
// where hard links to a ledger are rare (no shell command makes one by
// default); count it as one.
func links(fs.FileInfo) uint64 { return 1 }
