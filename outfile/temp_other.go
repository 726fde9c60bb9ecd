//go:build !unix

package outfile

import "os"

// openExclusive creates name, failing if anything is there already: on
// Windows O_EXCL is CREATE_NEW, which fails on an existing name, a
// symbolic link included, so no O_NOFOLLOW is needed.
func openExclusive(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}

// syncDir does nothing: Windows cannot sync a directory through os.File.
func syncDir(dir string) error { return nil }
