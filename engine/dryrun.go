package engine

import (
	"context"
	"errors"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/sender"
	"github.com/pregon/pregon/store"
)

// DryRunOptions are what a dry run needs besides the campaign.
type DryRunOptions struct {
	Contacts string
	Ledger   string // read, if it exists, to count what this command would really send
	Eligible store.Eligible
	Record   map[string]any // the run history's copy of the options
	// BaseURL (overriding the campaign's), Token and Timeout let the dry
	// run check a WhatsApp template against the platform's list; without
	// a token that check is skipped.
	BaseURL string
	Token   string
	Timeout time.Duration
	// Sandbox: the send would go to the built-in sandbox.
	Sandbox bool
}

// DryRun is what a dry run found.
type DryRun struct {
	Encoding  string // the contacts file's
	Valid     int    // would be sent
	Invalid   int
	Duplicate int
	Done      int // not sent again: the ledger has them sent, in doubt or refused
	Empty     int // rows whose cells are all empty: skipped
	// Problems lists the first MaxShownProblems invalid and duplicate rows.
	Problems []string
	// Sample is the first message that would be sent; nil when none.
	Sample *campaign.Message
	// Template says what became of the template check: "checked",
	// "no token", "no address" or "example address" (skipped), "not
	// listed" (the platform lists no templates for the channel), or ""
	// (not a WhatsApp template with a channelId).
	Template string
	// Unfilled are values init left to fill in that the send would
	// refuse (see UnfilledError).
	Unfilled []campaign.Unfilled
}

// Code is the dry run's end, as a send's would be: bad input when the
// send would refuse the campaign, incomplete when rows are invalid.
func (d *DryRun) Code() Code {
	if len(d.Unfilled) > 0 {
		return BadInput
	}
	if d.Invalid > 0 {
		return Incomplete
	}
	return Complete
}

// Check reads every row and counts what a send would do, touching neither
// the platform nor the ledger (a dry run never creates a ledger or a
// campaign; it adds itself to the run history of a campaign the ledger
// already has).
func Check(ctx context.Context, c *campaign.Campaign, o DryRunOptions) (*DryRun, error) {
	contacts, err := c.Open(o.Contacts)
	if err != nil {
		return nil, inputError(err)
	}
	defer contacts.Close()
	plan, closePlan, err := planFromLedger(ctx, c.Name, o)
	if err != nil {
		return nil, err
	}
	defer closePlan()
	d := &DryRun{Encoding: contacts.Encoding(), Unfilled: unfilled(c, o.BaseURL, o.Sandbox)}
	if d.Template, err = dryTemplate(ctx, c, o, d.Unfilled); err != nil {
		return nil, err
	}
	// Identities are remembered by 64-bit hash to find duplicates in a
	// million rows within a few megabytes; a collision is a 1-in-10^7
	// chance at that size, and would only make the count one off.
	seed := maphash.MakeSeed()
	seen := map[uint64]int32{}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m, err := contacts.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, inputError(err)
		}
		switch {
		case m.Problem != nil:
			d.Invalid++
			if len(d.Problems) < MaxShownProblems {
				d.Problems = append(d.Problems, m.Problem.Error())
			}
		default:
			h := maphash.String(seed, m.Contact)
			if first, ok := seen[h]; ok {
				d.Duplicate++
				if len(d.Problems) < MaxShownProblems {
					d.Problems = append(d.Problems, campaign.DuplicateNote(filepath.Base(o.Contacts), m.Line, int(first), m.Contact))
				}
				continue
			}
			seen[h] = int32(m.Line)
			if plan != nil {
				send, err := plan.WouldSend(ctx, m.Contact)
				if err != nil {
					return nil, err
				}
				if !send {
					d.Done++
					continue
				}
			}
			d.Valid++
			if d.Sample == nil {
				d.Sample = &m
			}
		}
	}
	d.Empty = contacts.EmptyRows()
	if err := recordDryRun(ctx, c.Name, o, d.Code()); err != nil {
		return nil, err
	}
	return d, nil
}

// planFromLedger opens the plan of a campaign the ledger already has, so
// the dry run counts what this command would really send; nil when there
// is no such ledger or campaign. Call the returned function when done.
func planFromLedger(ctx context.Context, name string, o DryRunOptions) (*store.Plan, func(), error) {
	none := func() {}
	if _, err := os.Stat(o.Ledger); err != nil {
		return nil, none, nil
	}
	ledger, err := store.OpenReadOnly(ctx, o.Ledger)
	if err != nil {
		return nil, none, err
	}
	id, ok, err := ledger.Lookup(ctx, name)
	if err != nil || !ok {
		ledger.Close()
		return nil, none, err
	}
	plan, err := ledger.Plan(ctx, id, o.Eligible)
	if err != nil {
		ledger.Close()
		return nil, none, err
	}
	return plan, func() { plan.Close(); ledger.Close() }, nil
}

// recordDryRun adds the dry run to the run history of a campaign the
// ledger already has.
func recordDryRun(ctx context.Context, name string, o DryRunOptions, code Code) error {
	if _, err := os.Stat(o.Ledger); err != nil {
		return nil
	}
	ledger, err := store.Open(ctx, o.Ledger)
	if err != nil {
		return err
	}
	defer ledger.Close()
	id, ok, err := ledger.Lookup(ctx, name)
	if err != nil || !ok {
		return err
	}
	runID, err := ledger.StartRun(ctx, id, o.Record)
	if err != nil {
		return err
	}
	return ledger.EndRun(ctx, store.Run{ID: runID, Ended: time.Now(), EndedBy: "dry run", ExitCode: int(code)})
}

// dryTemplate checks the campaign's WhatsApp template against the
// platform's list, when a token allows it.
func dryTemplate(ctx context.Context, c *campaign.Campaign, o DryRunOptions, unfilled []campaign.Unfilled) (string, error) {
	if _, ok := c.Template(); !ok || c.ChannelID == "" {
		return "", nil
	}
	for _, u := range unfilled {
		if u.Kind == campaign.UnfilledBaseURL {
			return "example address", nil // the token must not go there
		}
	}
	if o.Token == "" {
		return "no token", nil
	}
	base := c.BaseURL
	if o.BaseURL != "" {
		base = o.BaseURL
	}
	if base == "" {
		return "no address", nil
	}
	if err := checkDestination(base, o.Token, true); err != nil {
		return "", err
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = sender.DefaultTimeout
	}
	client, err := sender.NewClient(base, o.Token, 4, timeout)
	if err != nil {
		return "", inputError(err)
	}
	s := sender.New(client, sender.NewPacer(sender.DefaultRate, sender.PacerOptions{}), sender.Options{})
	switch err := checkTemplate(ctx, s, c); {
	case errors.Is(err, ErrTemplatesUnlisted) && err != ErrTemplatesUnlisted:
		return "unreadable", nil // the list failed (unreachable, 5xx): the send would say more
	case errors.Is(err, ErrTemplatesUnlisted):
		return "not listed", nil
	case err != nil:
		var te *TemplateError
		if errors.As(err, &te) {
			return "", inputError(err)
		}
		return "", err
	}
	return "checked", nil
}
