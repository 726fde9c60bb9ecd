package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pregon/pregon/store"
)

// openToRead opens the ledger a reading command (status, export, report)
// names. A missing default ledger next to a sandbox rehearsal's says so:
// the first thing a new user runs after `send -sandbox` is a bare status.
func openToRead(ctx context.Context, cmd, path string) (*store.Ledger, error) {
	ledger, err := store.OpenReadOnly(ctx, path)
	if err == nil {
		return ledger, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		hint := "give the ledger your send used with -ledger"
		if _, serr := os.Stat(filepath.Join(filepath.Dir(path), defaultSandboxLedger)); serr == nil && filepath.Base(path) == defaultLedger {
			hint = "a send with -sandbox keeps its rehearsal in " + defaultSandboxLedger + ": add -ledger " + defaultSandboxLedger
		}
		return nil, usageError{fmt.Errorf("%s: there is no ledger %s: %s", cmd, path, hint)}
	}
	return nil, usageError{err}
}

// noCampaign says a campaign is not in the ledger, and which are: a
// campaign is named by the "name" in its file (init takes it from -o),
// not by the file's name.
func noCampaign(ctx context.Context, ledger *store.Ledger, cmd, path, name string) error {
	var names []string
	if sums, err := ledger.Summaries(ctx, ""); err == nil {
		for _, s := range sums {
			names = append(names, fmt.Sprintf("%q", s.Name))
		}
	}
	have := "it has none yet"
	if len(names) > 0 {
		have = "it has " + strings.Join(names, ", ")
	}
	return usageError{fmt.Errorf("%s: no campaign %q in %s (%s; the name is the \"name\" in the campaign file)", cmd, name, path, have)}
}
