package engine

import (
	"path/filepath"
	"time"
)

// Record is what the run history keeps of a run's options: the ones that
// matter to judge the run, and the files, so that status can print the
// command that resumes it. Every front end records its runs through it,
// so that a run started from the page reads like one started from the
// command line.
type Record struct {
	CampaignFile, ContactsFile, Ledger string // made absolute
	Rate                               float64
	Concurrency                        int
	DryRun, Sandbox                    bool
	ResendUnknown, RetryFailed         bool
	AllowChanged, Insecure             bool
	MaxDuration                        time.Duration
	NotAfter                           string // as the user wrote it
	BaseURL                            string // the -base-url given, "" for the campaign's own
}

// Map is the record as the ledger's run history stores it.
func (r Record) Map() map[string]any {
	return map[string]any{
		"campaign_file": absPath(r.CampaignFile), "contacts_file": absPath(r.ContactsFile), "ledger": absPath(r.Ledger),
		"rate": r.Rate, "concurrency": r.Concurrency, "dry_run": r.DryRun, "sandbox": r.Sandbox,
		"resend_unknown": r.ResendUnknown, "retry_failed": r.RetryFailed, "allow_changed": r.AllowChanged,
		"max_duration": r.MaxDuration.String(), "not_after": r.NotAfter, "base_url": r.BaseURL, "insecure": r.Insecure,
	}
}

// absPath is path made absolute, so that a command built from the record
// works from any folder.
func absPath(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}
