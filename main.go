// Command pregon sends a marketing campaign — one chat message per customer,
// filled in from a CSV file — through a chat platform's Messages API, at the
// platform's rate limit, never twice to the same person, recording every
// contact's fate in a SQLite ledger.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/engine"
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
		fmt.Fprintln(os.Stderr, "pregon: stopping: letting the requests in flight finish (press Ctrl-C again to quit at once)")
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "pregon: quit at once: contacts in flight will show as unknown on the next run")
		os.Exit(exitStopped)
	}()
	return ctx
}

const usage = `pregon sends one chat message per CSV row through the Messages API.

Usage:
  pregon send   -campaign FILE -contacts FILE [-ledger pregon.db] [flags]
  pregon status [-ledger pregon.db] [-campaign NAME|FILE] [-json]
  pregon export -campaign NAME|FILE [-ledger pregon.db] [-outcome failed,unknown,invalid] [-o FILE]
  pregon report -campaign NAME|FILE [-ledger pregon.db] -o report.html
  pregon track  -campaign NAME [-ledger pregon.db]   ask the platform what became of each sent message (v2)
  pregon reconcile -campaign NAME [-ledger pregon.db] ask the platform about the unknown contacts (v2)
  pregon init -contacts FILE [-type whatsapp_template|text|image|quick_reply] [-api v2]
  pregon sandbox [-addr 127.0.0.1:8025]     a fake Messages API to rehearse against
  pregon ui [-ledger pregon.db] [-addr 127.0.0.1:8026] [-dir .]   a page to prepare, rehearse and send in the browser
  pregon version                            the version, commit and build date

Run "pregon COMMAND -h" for a command's flags.
The API token is read from the environment variable PREGON_TOKEN.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "send":
		return runSend(ctx, args[1:], stdout, stderr)
	case "status":
		return runStatus(ctx, args[1:], stdout, stderr)
	case "track":
		return runTrack(ctx, args[1:], stdout, stderr)
	case "reconcile":
		return runReconcile(ctx, args[1:], stdout, stderr)
	case "export":
		return runExport(ctx, args[1:], stdout, stderr)
	case "init":
		return runInit(ctx, args[1:], stdout, stderr)
	case "report":
		return runReport(ctx, args[1:], stdout, stderr)
	case "sandbox":
		return runSandbox(ctx, args[1:], stdout, stderr)
	case "ui":
		return runUI(ctx, args[1:], stdout, stderr)
	case "version", "-version", "--version":
		return runVersion(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "pregon: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}

// errUsage means the problem was already explained (flag's own message).
var errUsage = errors.New("usage")

// errHelp means the user asked for a command's flags, which were printed.
var errHelp = errors.New("help")

// parseFlags parses a command's flags; flag prints the problem, or the
// help that -h asked for.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return errHelp
	case err != nil:
		return errUsage
	}
	return nil
}

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
	code, msg := classify(err)
	if msg != "" {
		fmt.Fprintln(stderr, "pregon:", msg)
	}
	return code
}

// codeOf is err's exit code.
func codeOf(err error) int {
	code, _ := classify(err)
	return code
}

// classify maps an error to its exit code and the message still to print.
func classify(err error) (int, string) {
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
		return exitUsage, err.Error()
	}
	// Everything else stopped a run with work left: a token rejected,
	// another run holding the campaign, an interruption, a ledger that
	// cannot be written.
	return exitStopped, err.Error()
}
