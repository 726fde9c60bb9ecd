package engine

import (
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/sender"
	"github.com/pregon/pregon/store"
)

// Events is told what happens during a run, as it happens, so a front end
// can show it in its own words. Its methods are called from the run's
// goroutines: implementations must be safe for concurrent use.
type Events interface {
	// Note reports something the user should know before the send starts
	// (a file's encoding, a campaign warning, contacts recovered as
	// unknown).
	Note(n Note)
	// InvalidRow reports a row that will not be sent; only the first
	// MaxShownProblems of a run are reported.
	InvalidRow(problem error)
	// Imported reports the contacts file's import, once it is done.
	Imported(res store.ImportResult)
	// Sending reports that the send starts with about total contacts
	// (corrected by Total once a following import has counted them);
	// stats reads the counts so far.
	Sending(total int, stats func() sender.Stats)
	Total(total int)
	// Outcome reports a contact's recorded outcome.
	Outcome(job campaign.Job, o campaign.Outcome)
	// Paused reports a pause the platform asked for that was longer than
	// the sender waits (it waited max instead).
	Paused(asked, max time.Duration)
	// Done reports that the send has stopped (before the summary is made).
	Done()
}

// NoteKind says what a Note is about.
type NoteKind int

// The kinds of Note.
const (
	NoteEncoding          NoteKind = iota // the contacts file is not UTF-8: Text is the encoding read
	NoteWarning                           // a campaign warning: Text
	NoteRecovered                         // Count contacts an earlier run left in flight are now unknown
	NoteRehearsal                         // the address (Text) answered as a pregon sandbox: the campaign is a rehearsal
	NoteSandbox                           // sending to the built-in sandbox at Text
	NoteSharing                           // the rate is shared with Count other runs (Text names them; 0: alone again)
	NoteTemplateUnchecked                 // the platform does not list the channel's templates: not checked
	NoteReconciled                        // unknown contacts asked about: see Reconciled
	NoteWarnings                          // what will be sent as it is but likely is not what was meant: see Warning
)

// Note is one thing worth telling before or while sending.
type Note struct {
	Kind       NoteKind
	Text       string
	Count      int
	Names      []string // NoteSharing: the campaigns of the other runs
	Reconciled *ReconcileResult
	Warning    *Warning
}

// MaxShownProblems bounds the invalid rows a run reports one by one.
const MaxShownProblems = 10

// Quiet is an Events that ignores everything; embed it to handle only some.
type Quiet struct{}

func (Quiet) Note(Note)                              {}
func (Quiet) InvalidRow(error)                       {}
func (Quiet) Imported(store.ImportResult)            {}
func (Quiet) Sending(int, func() sender.Stats)       {}
func (Quiet) Total(int)                              {}
func (Quiet) Outcome(campaign.Job, campaign.Outcome) {}
func (Quiet) Paused(time.Duration, time.Duration)    {}
func (Quiet) Done()                                  {}
