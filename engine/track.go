package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pregon/pregon/sender"
	"github.com/pregon/pregon/store"
)

// Tracking stops asking about a message once it is read or failed, or
// once it was sent longer ago than TrackAge: WhatsApp reports delivery
// within hours, and a message still "sent" after three days will not be
// delivered any more (the platform keeps trying for about 30 hours). A
// message not final yet is asked about again after TrackRecheck.
const (
	TrackAge     = 72 * time.Hour
	TrackRecheck = 10 * time.Minute
)

// ReadOptions are what reading from the platform needs: where the
// campaign was sent, and how fast.
type ReadOptions struct {
	Ledger   string
	Campaign string // the name in the ledger
	Token    string
	Rate     float64
	Timeout  time.Duration
	StateDir string
	// Progress, if set, is told how many contacts were handled so far;
	// never by two goroutines at once.
	Progress func(done int)
}

// TrackResult is what a tracking run did.
type TrackResult struct {
	Asked   int // messages asked about
	Moved   int // of those, whose status moved past "sent"
	Missing int // the platform did not know the message (404)
	Funnel  store.Funnel
}

// ErrNoReads says the campaign was sent where messages cannot be read
// back: API v1, or the built-in sandbox, which ended with its run.
var ErrNoReads = errors.New("cannot read messages back")

// NoReadsError says why a campaign's messages cannot be asked about.
type NoReadsError struct {
	Campaign string
	Ledger   string // with NotInLedger
	Why      NoReads
}

// NoReads is why a campaign's messages cannot be asked about.
type NoReads int

// The reasons.
const (
	NotInLedger        NoReads = iota // no campaign of that name
	SentThroughV1                     // v1 has no way to read a message back
	RehearsedInSandbox                // the built-in sandbox ended with its run
	NoRecordedAddress                 // a ledger from before pregon recorded addresses
)

func (e *NoReadsError) Error() string {
	switch e.Why {
	case SentThroughV1:
		return fmt.Sprintf("campaign %q was sent through API v1, which has no way to read a message back: %v", e.Campaign, ErrNoReads)
	case RehearsedInSandbox:
		return fmt.Sprintf("campaign %q was rehearsed in the built-in sandbox, which ended with its run: %v", e.Campaign, ErrNoReads)
	case NoRecordedAddress:
		return fmt.Sprintf("campaign %q has no recorded address (a ledger from before pregon recorded them): send it once with this version: %v", e.Campaign, ErrNoReads)
	}
	return fmt.Sprintf("no campaign %q in %s", e.Campaign, e.Ledger)
}

// Is makes every reason but NotInLedger an ErrNoReads.
func (e *NoReadsError) Is(target error) bool { return target == ErrNoReads && e.Why != NotInLedger }

// openReads opens the ledger and a paced reader of the campaign's
// destination, sharing the rate with any run that sends to the same API.
func openReads(ctx context.Context, o ReadOptions) (*store.Ledger, store.CampaignID, *sender.Sender, func(), error) {
	ledger, err := store.Open(ctx, o.Ledger)
	if err != nil {
		return nil, 0, nil, nil, err
	}
	sums, err := ledger.Summaries(ctx, o.Campaign)
	if err != nil || len(sums) == 0 {
		ledger.Close()
		if err == nil {
			err = inputError(&NoReadsError{Campaign: o.Campaign, Ledger: o.Ledger, Why: NotInLedger})
		}
		return nil, 0, nil, nil, err
	}
	dest := sums[0].Destination
	switch {
	case dest.API == "v1":
		ledger.Close()
		return nil, 0, nil, nil, inputError(&NoReadsError{Campaign: o.Campaign, Why: SentThroughV1})
	case dest.Sandbox:
		ledger.Close()
		return nil, 0, nil, nil, inputError(&NoReadsError{Campaign: o.Campaign, Why: RehearsedInSandbox})
	case dest.BaseURL == "":
		ledger.Close()
		return nil, 0, nil, nil, inputError(&NoReadsError{Campaign: o.Campaign, Why: NoRecordedAddress})
	}
	if err := checkDestination(dest.BaseURL, o.Token, true); err != nil {
		ledger.Close()
		return nil, 0, nil, nil, err
	}
	concurrency := sender.DefaultConcurrency(o.Rate)
	client, err := sender.NewClient(dest.BaseURL, o.Token, concurrency, o.Timeout)
	if err != nil {
		ledger.Close()
		return nil, 0, nil, nil, inputError(err)
	}
	closers := []func(){func() { ledger.Close() }}
	pacerOpts := sender.PacerOptions{}
	if o.Rate > 0 {
		if w, err := shareRate(o.StateDir, dest.BaseURL, o.Campaign+" (reads)", Quiet{}); err == nil {
			closers = append(closers, func() { w.Close() })
			pacerOpts.Window = w
		}
	}
	s := sender.New(client, sender.NewPacer(o.Rate, pacerOpts), sender.Options{Concurrency: concurrency, Rehearsal: dest.Rehearsal})
	done := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	return ledger, sums[0].ID, s, done, nil
}

// Track asks the platform what became of each sent message of the
// campaign that is not final yet, and records it. It can run beside a
// send (they share the rate), be stopped at any time (what was asked is
// recorded), and be run again (it asks only what is still open).
func Track(ctx context.Context, o ReadOptions) (*TrackResult, error) {
	ledger, id, s, done, err := openReads(ctx, o)
	if err != nil {
		return nil, err
	}
	defer done()
	res := &TrackResult{}
	var asked, moved, missing atomic.Int64
	var progressMu sync.Mutex // Progress is told one count at a time
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(sender.DefaultConcurrency(o.Rate))
	var after int64
	for gctx.Err() == nil {
		batch, err := ledger.ToTrack(gctx, id, after, 500, start.Add(-TrackAge), start.Add(-TrackRecheck))
		if err != nil || len(batch) == 0 {
			if err != nil && gctx.Err() == nil {
				g.Go(func() error { return err })
			}
			break
		}
		for _, t := range batch {
			after = t.ID
			if gctx.Err() != nil {
				break
			}
			g.Go(func() error {
				m, err := s.ReadMessage(gctx, t.Contact, t.MessageID)
				var re *sender.ReadError
				switch {
				case errors.As(err, &re) && re.Status == 404:
					missing.Add(1)
					return nil
				case err != nil:
					return err
				}
				progressMu.Lock()
				n := asked.Add(1)
				if o.Progress != nil {
					o.Progress(int(n))
				}
				progressMu.Unlock()
				d := deliveryOf(m)
				if d.Status != "sent" && d.Status != "pending" {
					moved.Add(1)
				}
				return ledger.RecordDelivery(context.WithoutCancel(gctx), t.ID, d, time.Now())
			})
		}
	}
	err = g.Wait()
	res.Asked, res.Moved, res.Missing = int(asked.Load()), int(moved.Load()), int(missing.Load())
	if f, ferr := ledger.Funnel(context.WithoutCancel(ctx), id); ferr == nil {
		res.Funnel = f
	}
	if err == nil {
		err = ctx.Err()
	}
	return res, err
}

// deliveryOf reads a message's history into what the ledger keeps.
func deliveryOf(m sender.Message) store.Delivery {
	d := store.Delivery{Status: m.Last().Value}
	for _, s := range m.Status {
		switch s.Value {
		case "delivered":
			d.DeliveredAt = s.At
		case "read":
			d.ReadAt = s.At
			if d.DeliveredAt.IsZero() {
				d.DeliveredAt = s.At // read implies delivered
			}
		case "failed":
			d.FailedAt, d.Error = s.At, s.Message
		}
	}
	return d
}
