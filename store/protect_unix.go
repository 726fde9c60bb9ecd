//go:build !windows

package store

import (
	"errors"
	"io/fs"
	"os"
)

// protect gives the ledger's files mode 0600 (they hold customers' phone
// numbers), leaving alone anything that is not a regular file.
func protect(real string) error {
	for _, name := range append([]string{real}, companionsOf(real)...) {
		fi, err := os.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.Mode().IsRegular() {
			continue
		}
		if err == nil {
			err = os.Chmod(name, 0o600)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
