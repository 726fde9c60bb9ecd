// Command pregon sends a marketing campaign — one chat message per customer,
// filled in from a CSV file — through a chat platform's Messages API, at the
// platform's rate limit, never twice to the same person, recording every
// contact's fate in a SQLite ledger.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/sender"
	"github.com/pregon/pregon/store"
)

// The ledger is the queue the sender works from.
var _ sender.Queue = (*store.Queue)(nil)

// Exit codes.
const (
	exitOK         = 0 // every contact is sent
	exitIncomplete = 1 // the run finished; some contacts are failed, unknown or invalid
	exitUsage      = 2 // usage or input error; nothing sent
	exitStopped    = 3 // stopped early with work left
)

// memoryLimit is the soft limit on the Go heap: a million-row file is
// streamed, and this keeps the garbage collector from letting the heap grow
// to twice what is live before it collects. GOMEMLIMIT overrides it.
const memoryLimit = 64 << 20

// wholeProcess is set when pregon is its own process, and not a command run
// inside the tests' process beside the fake API: settings that apply to the
// whole process (processors, see oneProcessor) are then pregon's to make.
var wholeProcess bool

func main() {
	wholeProcess = true
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx := stopOnSignal()
	os.Exit(exitCode(run(ctx, os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

// stopOnSignal returns a context cancelled by the first SIGINT or SIGTERM
// (a graceful stop: requests in flight finish and are recorded); a second
// signal exits at once.
func stopOnSignal() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		tr := printerFor(os.Args[1:])
		fmt.Fprintln(os.Stderr, "pregon: "+tr.T("signal.stopping"))
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "pregon: "+tr.T("signal.quit"))
		os.Exit(exitStopped)
	}()
	return ctx
}

// run runs the command args name, in the language -lang, PREGON_LANG or
// the locale chooses. Its error is ready to report (see exitCode).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	tag, err := i18n.Choose(langFlag(args), os.Getenv)
	tr := i18n.New(tag)
	if err != nil {
		return present(tr, usageError{err})
	}
	return present(tr, dispatch(ctx, tr, withoutLang(args), stdout, stderr))
}

func dispatch(ctx context.Context, tr *i18n.Printer, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, tr.T("usage.main"))
		return errUsage
	}
	switch args[0] {
	case "send":
		return runSend(ctx, tr, args[1:], stdout, stderr)
	case "status":
		return runStatus(ctx, tr, args[1:], stdout, stderr)
	case "track":
		return runTrack(ctx, tr, args[1:], stdout, stderr)
	case "reconcile":
		return runReconcile(ctx, tr, args[1:], stdout, stderr)
	case "export":
		return runExport(ctx, tr, args[1:], stdout, stderr)
	case "init":
		return runInit(ctx, tr, args[1:], stdout, stderr)
	case "report":
		return runReport(ctx, tr, args[1:], stdout, stderr)
	case "sandbox":
		return runSandbox(ctx, tr, args[1:], stdout, stderr)
	case "ui":
		return runUI(ctx, tr, args[1:], stdout, stderr)
	case "version", "-version", "--version":
		return runVersion(ctx, tr, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, tr.T("usage.main"))
		return nil
	}
	fmt.Fprintf(stderr, "pregon: %s\n\n%s", tr.T("usage.unknown_command", args[0]), tr.T("usage.main"))
	return errUsage
}

// errUsage means the problem was already explained (flag's own message).
var errUsage = errors.New("usage")

// errHelp means the user asked for a command's flags, which were printed.
var errHelp = errors.New("help")

// usageError is a problem with how pregon was called or with its input;
// nothing was sent.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// outcomeError carries the exit code of a run that went to the end of its
// decision: incomplete (1) or stopped (3). Its message was printed already.
type outcomeError struct {
	code int
	msg  string
}

func (e *outcomeError) Error() string { return e.msg }

// exitCode reports err on stderr, unless it was reported already, and
// returns the process's exit code for it.
func exitCode(err error, stderr io.Writer) int {
	code, msg := classify(i18n.For(i18n.English), err)
	if msg != "" {
		fmt.Fprintln(stderr, "pregon:", msg)
	}
	return code
}

// present turns the error a command returned into the exit code and the
// message in the reader's words that exitCode reports.
func present(tr *i18n.Printer, err error) error {
	if err == nil {
		return nil
	}
	code, msg := classify(tr, err)
	return &outcomeError{code: code, msg: msg}
}

// classify maps an error to its exit code and the message still to print.
func classify(tr *i18n.Printer, err error) (int, string) {
	if err == nil {
		return exitOK, ""
	}
	var oe *outcomeError
	var ce *campaign.Error
	var ue usageError
	var changed *store.ChangedError
	var dest *store.DestinationError
	var input *engine.InputError
	switch {
	case errors.Is(err, errHelp):
		return exitOK, ""
	case errors.Is(err, errUsage):
		return exitUsage, ""
	case errors.As(err, &oe):
		return oe.code, oe.msg
	case errors.As(err, &ce), errors.As(err, &ue), errors.As(err, &changed), errors.As(err, &dest), errors.As(err, &input):
		return exitUsage, describe(tr, err)
	}
	// Everything else stopped a run with work left: a token rejected,
	// another run holding the campaign, an interruption, a ledger that
	// cannot be written.
	return exitStopped, describe(tr, err)
}

// codeOf is err's exit code.
func codeOf(err error) int {
	code, _ := classify(i18n.For(i18n.English), err)
	return code
}
