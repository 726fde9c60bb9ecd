package engine

import (
	"context"
	"errors"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/sender"
	"github.com/pregon/pregon/sender/sendertest"
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
	// Insecure allows a plain http address for another machine, as the
	// send's -insecure does.
	Insecure bool
	// AllowChanged: the send would accept a campaign whose message or
	// address changed (-allow-changed).
	AllowChanged bool
	// AllProblems keeps every invalid and duplicate row, not only the
	// first MaxShownProblems: memory grows with them.
	AllProblems bool
}

// DryRun is what a dry run found.
type DryRun struct {
	Encoding  string // the contacts file's
	Valid     int    // would be sent
	Invalid   int
	Duplicate int
	Done      int // not sent again: the ledger has them sent, in doubt or refused
	Empty     int // rows whose cells are all empty: skipped
	// Destination is where the send would post each message.
	Destination Destination
	// Problems are the invalid and duplicate rows, in file order: the
	// first MaxShownProblems, or all of them with AllProblems.
	Problems []Problem
	// Previews are the first MaxPreviews messages that would be sent, as
	// the customer will see them.
	Previews []campaign.Preview
	// Template says what became of the template check.
	Template TemplateCheck
	// Unfilled are values init left to fill in that the send would
	// refuse (see UnfilledError).
	Unfilled []campaign.Unfilled
	// Warnings are what will be sent as it is but likely is not what was
	// meant: the campaign's with this file's columns, and the rows' that
	// would be sent. CampaignWarnings are the campaign's own, in words.
	Warnings         []Warning
	CampaignWarnings []string
}

// Destination is where a send posts: the built-in sandbox, or the URL
// of every message, "{contact}" standing for each contact ("" when the
// campaign has no address and no -base-url gives one).
type Destination struct {
	Sandbox bool
	URL     string
}

// Problem is a row a send would not send: an invalid one (Row says why)
// or a duplicate of an earlier row (FirstLine).
type Problem struct {
	State     campaign.State // campaign.Invalid or campaign.Duplicate
	File      string
	Line      int
	Row       *campaign.RowError // Invalid
	Contact   string             // Duplicate: the contact both rows are
	FirstLine int                // Duplicate: the line of the contact's first row
}

// TemplateCheck is what became of a dry run's WhatsApp template check.
type TemplateCheck string

// The template checks' ends.
const (
	TemplateNone       TemplateCheck = "none"            // not a WhatsApp template with a channelId
	TemplateChecked    TemplateCheck = "checked"         // on the platform, approved, in this language, with these parameters
	TemplateNoToken    TemplateCheck = "no_token"        // skipped: no token to ask with
	TemplateNoAddress  TemplateCheck = "no_address"      // skipped: no baseUrl nor -base-url
	TemplateExample    TemplateCheck = "example_address" // skipped: the baseUrl is init's example
	TemplateUnreadable TemplateCheck = "unreadable"      // the list could not be read (unreachable, 5xx)
	TemplateNotListed  TemplateCheck = "not_listed"      // the platform lists no templates for the channel
)

// MaxPreviews is how many messages a dry run shows.
const MaxPreviews = 3

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
	plan, closePlan, err := planFromLedger(ctx, c, o)
	if err != nil {
		return nil, err
	}
	defer closePlan()
	dest, err := destinationOf(c, o)
	if err != nil {
		return nil, err
	}
	d := &DryRun{Encoding: contacts.Encoding(), Unfilled: unfilled(c, o.BaseURL, o.Sandbox), Destination: dest}
	platform, err := dryTemplate(ctx, c, o, d)
	if err != nil {
		return nil, err
	}
	file := filepath.Base(o.Contacts)
	var ws warnings
	ws.add(contacts.Warnings()...)
	problem := func(p Problem) {
		if o.AllProblems || len(d.Problems) < MaxShownProblems {
			d.Problems = append(d.Problems, p)
		}
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
			problem(Problem{State: campaign.Invalid, File: m.Problem.File, Line: m.Line, Row: m.Problem})
		default:
			h := maphash.String(seed, m.Contact)
			if first, ok := seen[h]; ok {
				d.Duplicate++
				problem(Problem{State: campaign.Duplicate, File: file, Line: m.Line, Contact: m.Contact, FirstLine: int(first)})
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
			ws.add(m.Warnings...)
			if len(d.Previews) < MaxPreviews {
				d.Previews = append(d.Previews, c.Preview(m, platform))
			}
		}
	}
	d.Empty = contacts.EmptyRows()
	d.Warnings, d.CampaignWarnings = ws.list, c.Warnings()
	if err := recordDryRun(ctx, c.Name, o, d.Code()); err != nil {
		return nil, err
	}
	return d, nil
}

// planFromLedger opens the plan of a campaign the ledger already has, so
// the dry run counts what this command would really send; nil when there
// is no such ledger or campaign. Call the returned function when done.
func planFromLedger(ctx context.Context, c *campaign.Campaign, o DryRunOptions) (*store.Plan, func(), error) {
	none := func() {}
	if _, err := os.Stat(o.Ledger); err != nil {
		return nil, none, nil
	}
	ledger, err := store.OpenReadOnly(ctx, o.Ledger)
	if err != nil {
		return nil, none, err
	}
	id, ok, err := ledger.Lookup(ctx, c.Name)
	if err != nil || !ok {
		ledger.Close()
		return nil, none, err
	}
	// The send would refuse a ledger whose campaign went elsewhere (a
	// rehearsal's "sent" would hide the real customers): so does its dry
	// run, rather than count them as done.
	if dest, ok := storeDestination(c, o); ok {
		if err := ledger.CheckDestination(ctx, c.Name, dest, o.AllowChanged); err != nil {
			ledger.Close()
			return nil, none, err
		}
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

// destinationOf is where a send with these options would post. An
// address the send would refuse (user info, a query, plain http to
// another machine without -insecure) is refused here too, and an address
// is only ever shown without user info.
func destinationOf(c *campaign.Campaign, o DryRunOptions) (Destination, error) {
	if o.Sandbox {
		return Destination{Sandbox: true}, nil
	}
	base := c.BaseURL
	if o.BaseURL != "" {
		base = o.BaseURL
	}
	if base == "" {
		return Destination{}, nil
	}
	u, err := sender.ParseBaseURL(base)
	if err != nil {
		return Destination{}, inputError(err)
	}
	if sender.Insecure(u) && !o.Insecure {
		return Destination{}, inputError(&InsecureError{URL: u.Redacted()})
	}
	return Destination{URL: strings.TrimRight(u.Redacted(), "/") + c.PathPattern()}, nil
}

// storeDestination is where the send would record the campaign as sent;
// ok is false when there is no address yet, or init's example (the dry
// run reports those by themselves).
func storeDestination(c *campaign.Campaign, o DryRunOptions) (d store.Destination, ok bool) {
	if o.Sandbox {
		return store.Destination{API: c.API, Sandbox: true, Rehearsal: true}, true
	}
	base := c.BaseURL
	if o.BaseURL != "" {
		base = o.BaseURL
	}
	u, err := sender.ParseBaseURL(base)
	if base == "" || err != nil || campaign.IsExampleURL(base) {
		return d, false
	}
	return store.Destination{API: c.API, BaseURL: u.String()}, true
}

// dryTemplate checks the campaign's WhatsApp template against the
// platform's list, when a token allows it, setting d.Template; it returns
// the platform's copy of the template, to show the messages with.
func dryTemplate(ctx context.Context, c *campaign.Campaign, o DryRunOptions, d *DryRun) (*campaign.PlatformTemplate, error) {
	d.Template = TemplateNone
	if _, ok := c.Template(); !ok || c.ChannelID == "" {
		return nil, nil
	}
	base, token := c.BaseURL, o.Token
	if o.BaseURL != "" {
		base = o.BaseURL
	}
	for _, u := range d.Unfilled {
		if u.Kind == campaign.UnfilledBaseURL {
			d.Template = TemplateExample // the token must not go there
			return nil, nil
		}
	}
	if o.Sandbox {
		// As the send would: the built-in sandbox's own templates.
		fake := sendertest.New(sendertest.Config{Sandbox: true})
		defer fake.Close()
		base, token = fake.URL, "sandbox"
	}
	if token == "" {
		d.Template = TemplateNoToken
		return nil, nil
	}
	if base == "" {
		d.Template = TemplateNoAddress
		return nil, nil
	}
	if err := checkDestination(base, token, true); err != nil {
		return nil, err
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = sender.DefaultTimeout
	}
	client, err := sender.NewClient(base, token, 4, timeout)
	if err != nil {
		return nil, inputError(err)
	}
	s := sender.New(client, sender.NewPacer(sender.DefaultRate, sender.PacerOptions{}), sender.Options{})
	t, err := checkTemplate(ctx, s, c)
	switch {
	case errors.Is(err, ErrTemplatesUnlisted) && err != ErrTemplatesUnlisted:
		d.Template = TemplateUnreadable // the list failed (unreachable, 5xx): the send would say more
		return nil, nil
	case errors.Is(err, ErrTemplatesUnlisted):
		d.Template = TemplateNotListed
		return nil, nil
	case err != nil:
		var te *TemplateError
		if errors.As(err, &te) {
			return nil, inputError(err)
		}
		return nil, err
	}
	d.Template = TemplateChecked
	return platformTemplate(t), nil
}

// platformTemplate is the platform's template as campaign previews take
// it; nil when there is none.
func platformTemplate(t *sender.Template) *campaign.PlatformTemplate {
	if t == nil {
		return nil
	}
	out := &campaign.PlatformTemplate{}
	for _, comp := range t.Components {
		pc := campaign.PlatformComponent{Type: comp.Type, Format: comp.Format, Text: comp.Text}
		for _, b := range comp.Buttons {
			pc.Buttons = append(pc.Buttons, campaign.Button{Type: b.Type, Text: b.Text, URL: b.URL, PhoneNumber: b.PhoneNumber})
		}
		out.Components = append(out.Components, pc)
	}
	return out
}
