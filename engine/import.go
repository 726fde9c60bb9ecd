package engine

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/store"
)

// importWork is the import of a run's CSV and the queue the run sends from.
type importWork struct {
	queue *store.Queue
	total int // contacts to send, as far as known before sending
	// start begins a following import (see prepareImport); onDone gets
	// the exact number of contacts to send once the import is done (at
	// once when it was done before sending).
	start func(ctx context.Context, onDone func(total int))
	stop  func() error // ends the import if it still runs; its error
}

// prepareImport brings the CSV into the ledger, or prepares to, and
// returns the run's queue.
//
// A campaign's first import runs while the run already sends: the whole
// file's syntax is checked first (a broken file sends nothing), then the
// queue follows the import batch by batch, so the first message leaves
// within a second even for a file of 100,000 rows. Later imports, which
// may refresh contacts the queue would already have passed, finish here,
// before anything is sent.
func prepareImport(ctx context.Context, ledger *store.Ledger, id store.CampaignID, contacts *campaign.Contacts,
	path string, eligible store.Eligible, ev Events) (*importWork, error) {
	fresh, err := ledger.Empty(ctx, id)
	if err != nil {
		return nil, err
	}
	var rows int
	if fresh {
		if rows, err = campaign.CheckSyntax(path); err != nil {
			return nil, brokenFile(err)
		}
	}
	imp, err := ledger.Import(ctx, id, contacts.Name(), contacts.Header())
	if err != nil {
		return nil, err
	}
	queue := ledger.Queue(id, imp.Generation(), eligible)
	if !fresh {
		res, err := fill(ctx, imp, contacts, ev)
		if err != nil {
			imp.Abort(err)
			return nil, err
		}
		ev.Imported(res)
		remaining, err := queue.Remaining(ctx)
		if err != nil {
			return nil, err
		}
		return &importWork{queue: queue, total: remaining,
			start: func(_ context.Context, onDone func(int)) { onDone(remaining) }, stop: func() error { return nil }}, nil
	}
	w := &importWork{queue: queue.Follow(imp), total: rows}
	done := make(chan error, 1)
	cancel := func() {}
	w.start = func(ctx context.Context, onDone func(int)) {
		var importCtx context.Context
		importCtx, cancel = context.WithCancel(ctx)
		go func() {
			res, err := fill(importCtx, imp, contacts, ev)
			if err != nil {
				imp.Abort(err)
				done <- err
				return
			}
			ev.Imported(res)
			onDone(res.New)
			done <- nil
		}()
	}
	var once sync.Once
	var importErr error
	w.stop = func() error {
		once.Do(func() {
			cancel()
			importErr = <-done
			if errors.Is(importErr, context.Canceled) {
				importErr = nil // the run was stopped; the next run imports again
			}
		})
		return importErr
	}
	return w, nil
}

// fill reads every row of the CSV into the import and finishes it. The
// invalid rows it reports are those the import counted invalid: a broken
// row whose contact was fixed in another file is not one.
func fill(ctx context.Context, imp *store.Importer, contacts *campaign.Contacts, ev Events) (store.ImportResult, error) {
	var ws warnings
	for {
		if err := ctx.Err(); err != nil {
			return store.ImportResult{}, err
		}
		m, err := contacts.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return store.ImportResult{}, brokenFile(err)
		}
		ws.add(m.Warnings...)
		if err := imp.Add(ctx, m); err != nil {
			return store.ImportResult{}, err
		}
	}
	noteWarnings(ev, ws)
	imp.AddEmpty(contacts.EmptyRows())
	res, err := imp.Finish(ctx)
	if err != nil {
		return res, err
	}
	for i, p := range res.Problems {
		if i == MaxShownProblems {
			break
		}
		ev.InvalidRow(p)
	}
	return res, nil
}

// noteWarnings tells ev each kind of warning, counted.
func noteWarnings(ev Events, ws warnings) {
	for i := range ws.list {
		ev.Note(Note{Kind: NoteWarnings, Warning: &ws.list[i]})
	}
}

// BrokenFileError is a contacts file that cannot be read to its end:
// nothing was sent.
type BrokenFileError struct{ Err error }

func (e *BrokenFileError) Error() string {
	return e.Err.Error() + "\nnothing was sent: fix the file and run the same command again"
}
func (e *BrokenFileError) Unwrap() error { return e.Err }

// brokenFile reports a contacts file that cannot be read to its end.
func brokenFile(err error) error { return inputError(&BrokenFileError{Err: err}) }
