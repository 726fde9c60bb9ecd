package store

import (
	"encoding/json"

	"github.com/pregon/pregon/campaign"
)

// reasonValue is a reason as the reason column holds it: JSON, or NULL
// for none.
func reasonValue(r campaign.Reason) any {
	if r.IsZero() {
		return nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil // a Reason is strings and numbers: it always marshals
	}
	return string(b)
}

// readReason reads the reason column; a reason this pregon cannot read
// (none, or written wrong) is the zero Reason, and the error column's
// prose, if any, stands for it.
func readReason(s string) campaign.Reason {
	if s == "" {
		return campaign.Reason{}
	}
	r, err := campaign.ParseReason(s)
	if err != nil {
		return campaign.Reason{}
	}
	return r
}
