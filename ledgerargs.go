package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/store"
)

// openToRead opens the ledger a reading command (status, export, report)
// names. A missing default ledger next to a sandbox rehearsal's says so:
// the first thing a new user runs after `send -sandbox` is a bare status.
func openToRead(ctx context.Context, cmd, path string, c campaignArg) (*store.Ledger, error) {
	ledger, err := store.OpenReadOnly(ctx, path)
	if err == nil {
		return ledger, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		sandbox := filepath.Join(filepath.Dir(path), defaultSandboxLedger)
		if _, serr := os.Stat(sandbox); serr == nil && filepath.Base(path) == defaultLedger {
			return nil, usageError{sandboxLedger(cmd, path, sandbox, c)}
		}
		return nil, usageError{say("error.no_ledger", cmd, path)}
	}
	return nil, usageError{err}
}

// sandboxLedger says that the default ledger is not there but a sandbox
// rehearsal's is, and gives the command that reads it.
func sandboxLedger(cmd, path, sandbox string, c campaignArg) error {
	again := fmt.Sprintf("pregon %s -ledger %s", cmd, shellQuote(sandbox))
	if c.arg != "" {
		again += " -campaign " + shellQuote(c.arg)
	}
	if filepath.Dir(path) == "." {
		return say("error.sandbox_ledger_here", cmd, path, sandbox, again)
	}
	return say("error.sandbox_ledger", cmd, path, sandbox, again)
}

// campaignArg is what -campaign gave: a campaign's name, or its file.
type campaignArg struct {
	arg  string // as given
	name string // the campaign's name: arg, or the "name" in the file arg
	file bool   // arg is the campaign's file
}

// readCampaignArg reads -campaign: a path that exists and ends in .json is
// the campaign's file, whose "name" is the campaign's name; anything else
// is the name itself.
func readCampaignArg(cmd, arg string) (campaignArg, error) {
	c := campaignArg{arg: arg, name: arg}
	if !strings.EqualFold(filepath.Ext(arg), ".json") {
		return c, nil
	}
	if fi, err := os.Stat(arg); err != nil || !fi.Mode().IsRegular() {
		return c, nil
	}
	name, err := campaign.ReadName(arg)
	if err != nil {
		return c, usageError{say("error.campaign_file", cmd, err)}
	}
	c.name, c.file = name, true
	return c, nil
}

// noCampaign says a campaign is not in the ledger, and which are.
func noCampaign(ctx context.Context, ledger *store.Ledger, cmd, path string, c campaignArg) error {
	var names []string
	if sums, err := ledger.Summaries(ctx, ""); err == nil {
		for _, s := range sums {
			names = append(names, fmt.Sprintf("%q", s.Name))
		}
	}
	return usageError{noCampaignError(cmd, path, c, names)}
}

// noCampaignError says which campaign is missing from the ledger, and
// names the ones it has (quoted).
func noCampaignError(cmd, path string, c campaignArg, names []string) error {
	have := say("error.has_none")
	if len(names) > 0 {
		have = say("error.has", strings.Join(names, ", "))
	}
	if c.file {
		return say("error.no_campaign_file", cmd, c.name, c.arg, path, have)
	}
	return say("error.no_campaign", cmd, c.name, path, have)
}
