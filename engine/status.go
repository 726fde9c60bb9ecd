package engine

import (
	"context"

	"github.com/pregon/pregon/store"
)

// CampaignStatus is what the ledger holds of one campaign: its contacts
// by state, its runs, the run sending it now and what became of its sent
// messages.
type CampaignStatus struct {
	store.Summary
	Runs    []store.Run   // newest first
	Running *store.Holder // the run holding the campaign now; nil when none does
	Funnel  store.Funnel
}

// Status reads every campaign of the ledger, or only the one named. It
// never takes a campaign's lock, only looks at it: a send starting at
// that moment must not find the campaign taken by a reader.
func Status(ctx context.Context, ledger *store.Ledger, name string) ([]CampaignStatus, error) {
	sums, err := ledger.Summaries(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make([]CampaignStatus, 0, len(sums))
	for _, s := range sums {
		runs, err := ledger.Runs(ctx, s.ID, 0)
		if err != nil {
			return nil, err
		}
		running, err := store.Probe(ledger.Path(), s.Name)
		if err != nil {
			return nil, err
		}
		funnel, err := ledger.Funnel(ctx, s.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, CampaignStatus{Summary: s, Runs: runs, Running: running, Funnel: funnel})
	}
	return out, nil
}
