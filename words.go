package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/internal/editdist"
	"github.com/pregon/pregon/outfile"
	"github.com/pregon/pregon/sender"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/wording"
)

// langFlag is the value of -lang in args, wherever it is: before the
// command (pregon -lang es status) or among its flags.
func langFlag(args []string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "lang" {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// withoutLang is args without a -lang before the command, which run has
// read already; a command's own -lang is its flag set's.
func withoutLang(args []string) []string {
	if len(args) == 0 || !strings.HasPrefix(args[0], "-") {
		return args
	}
	name, _, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
	switch {
	case name != "lang":
		return args
	case hasValue || len(args) == 1:
		return args[1:]
	}
	return args[2:]
}

// printerFor is the printer for args and the environment; an invalid -lang
// means English.
func printerFor(args []string) *i18n.Printer {
	tag, _ := i18n.Choose(langFlag(args), os.Getenv)
	return i18n.New(tag)
}

// words is an error that main reports in the reader's language: a message
// key and its values. A value that is an error is put in words too.
type words struct {
	key  string
	args []any
}

func (w *words) Error() string { return describe(i18n.For(i18n.English), w) }

// say is the error whose message is key with args.
func say(key string, args ...any) error { return &words{key: key, args: args} }

// describe puts an error in the reader's words: pregon's own errors and
// the codes of the packages' errors through the catalogs; anything else
// (the system's words, a library's) as it is.
func describe(tr *i18n.Printer, err error) string {
	switch e := err.(type) {
	case nil:
		return ""
	case *words:
		args := make([]any, len(e.args))
		for i, a := range e.args {
			if ae, ok := a.(error); ok {
				a = describe(tr, ae)
			}
			args[i] = a
		}
		return tr.T(e.key, args...)
	case usageError:
		return describe(tr, e.err)
	case *outcomeError:
		return e.msg
	case *engine.InputError:
		return describe(tr, e.Err)
	case *unfilledError:
		return unfilledText(tr, e)
	case *engine.BrokenFileError:
		return tr.T("error.broken_file", describe(tr, e.Err))
	case *campaign.Error:
		if text, ok := fileText(tr, e.Err); ok && samePath(e.Err, e.File) {
			return text // it names the file already
		}
		return e.File + ": " + describe(tr, e.Err)
	case *campaign.RowError:
		return tr.T("error.row", rowPlace(tr, e.File, e.Line), wording.Reason(tr, e.Reason()))
	case *campaign.ReasonError:
		return wording.Reason(tr, e.Reason)
	case *store.ChangedError:
		return tr.T("error.changed", e.Name)
	case *store.DestinationError:
		return tr.T("error.destination", e.Name, wording.Destination(tr, e.Recorded), wording.Destination(tr, e.Current))
	case *store.LockedError:
		if e.Holder.PID == 0 {
			return tr.T("error.locked", e.Campaign)
		}
		return tr.T("error.locked_by", e.Campaign, e.Holder.Host, tr.DateTime(e.Holder.Since), strconv.Itoa(e.Holder.PID))
	case *sender.StopError:
		return stopText(tr, e)
	case *outfile.Error:
		return outfileText(tr, e)
	case *campaign.RulesError:
		text := tr.T("campaign.rules")
		for _, b := range e.Broken {
			text += "\n  " + b.Path + ": " + describe(tr, b.Err)
		}
		return text
	case *campaign.SyntaxError:
		what := e.Err.Error()
		switch e.Fix {
		case campaign.FixMissingComma:
			what = tr.T("campaign.missing_comma")
		case campaign.FixExtraComma:
			what = tr.T("campaign.extra_comma")
		}
		return tr.T("campaign.syntax", strconv.Itoa(e.Line), strconv.Itoa(e.Column), what) + ":\n" + e.Spot()
	case *sender.LedgerError:
		return tr.T("error.ledger_write", describe(tr, e.Err))
	case *sender.TokenError:
		if e.What == "empty" {
			return tr.T("error.token_empty")
		}
		where := tr.T("token.at", e.At+1, e.Len)
		switch e.At {
		case 0:
			where = tr.T("token.at_start")
		case e.Len - 1:
			where = tr.T("token.at_end")
		}
		return tr.T("error.token", tr.T(tokenWhat[e.What]), where)
	case *sender.BaseURLError:
		if e.Carries {
			return tr.T("error.base_url_carries", e.URL)
		}
		return tr.T("error.base_url", e.URL)
	case *engine.InsecureError:
		return tr.T("error.insecure", e.URL)
	case *engine.TemplateError:
		return templateText(tr, e)
	case *engine.NoReadsError:
		switch e.Why {
		case engine.SentThroughV1:
			return tr.T("error.no_reads_v1", e.Campaign)
		case engine.RehearsedInSandbox:
			return tr.T("error.no_reads_sandbox", e.Campaign)
		case engine.NoRecordedAddress:
			return tr.T("error.no_reads_unrecorded", e.Campaign)
		}
		return tr.T("error.no_campaign_in", e.Campaign, e.Ledger)
	}
	switch err {
	case engine.ErrNoToken:
		return tr.T("error.no_token") + "\n" + tr.T("token.how", tokenEnv)
	case engine.ErrNoAddress:
		return tr.T("error.no_address")
	}
	if text, ok := fileText(tr, err); ok {
		return text
	}
	return wrapped(tr, err)
}

// tokenWhat names what is wrong in a token, by TokenError.What.
var tokenWhat = map[string]string{"cr": i18n.K("token.cr"), "lf": i18n.K("token.lf"), "space": i18n.K("token.space"),
	"control": i18n.K("token.control"), "non_ascii": i18n.K("token.non_ascii")}

// wrapped puts in words an error that wraps one of pregon's with context
// of its own ("clientes.csv:" before a quote out of place): the context
// as it is, the error it ends with in words.
func wrapped(tr *i18n.Printer, err error) string {
	text := err.Error()
	for inner := errors.Unwrap(err); inner != nil; inner = errors.Unwrap(inner) {
		switch inner.(type) {
		case *campaign.ReasonError, *campaign.RowError, *campaign.SyntaxError, *campaign.RulesError, *words, *sender.LedgerError,
			*sender.TokenError, *sender.BaseURLError, *engine.InsecureError, *engine.NoReadsError, *engine.TemplateError:
			if prefix, ok := strings.CutSuffix(text, inner.Error()); ok {
				return prefix + describe(tr, inner)
			}
			return text
		}
	}
	return text
}

// templateText says why the campaign's WhatsApp template cannot be sent.
func templateText(tr *i18n.Printer, e *engine.TemplateError) string {
	var problem string
	switch e.Problem {
	case engine.TemplateAbsent:
		var names []string
		for _, t := range e.Approved {
			names = append(names, tr.T("template.name_language", t.Name, t.Language))
		}
		switch {
		case len(e.Closest) > 0:
			problem = tr.T("template.closest", tr.List(quoteAll(e.Closest)))
		case e.ApprovedCount > len(e.Approved):
			problem = tr.T("template.approved_more", len(e.Approved), e.ApprovedCount, strings.Join(names, ", "))
		case len(e.Approved) > 0:
			problem = tr.T("template.approved", len(e.Approved), tr.List(names))
		default:
			problem = tr.T("template.approved_none")
		}
	case engine.TemplateOtherLanguage:
		problem = tr.T("template.other_language", tr.List(e.Languages), e.Language)
	case engine.TemplateNotApproved:
		problem = tr.T("template.not_approved", e.Status)
	case engine.TemplateParameters:
		part := e.Component
		part = wording.Part(tr, part)
		problem = tr.T("template.parameters", part, e.Want, e.Got)
	default:
		return e.Error()
	}
	return tr.T("template.error", e.Template, problem)
}

// rowPlace names a row of a file: clientes.csv:14, or in Spanish
// clientes.csv, fila 14.
func rowPlace(tr *i18n.Printer, file string, line int) string {
	return tr.T("where.row", file, strconv.Itoa(line))
}

// stopText says why the platform stopped a run, and what to do.
func stopText(tr *i18n.Printer, e *sender.StopError) string {
	came := e.Reason
	if e.Cause != nil {
		came = wording.Reason(tr, *e.Cause)
	}
	switch e.Problem {
	case sender.TokenRejected:
		return tr.T("stop.token_rejected", came)
	case sender.WrongAddress:
		return tr.T("stop.wrong_address", e.Base, came)
	case sender.NotTheAPI:
		return tr.T("stop.not_the_api", e.Base, came)
	case sender.SandboxMismatch:
		return tr.T("stop.sandbox_mismatch", e.Base, came)
	}
	return tr.T("stop.unreachable", e.Base, came)
}

// outfileText says why an output file was refused.
func outfileText(tr *i18n.Printer, e *outfile.Error) string {
	switch e.Err {
	case outfile.ErrExists:
		return tr.T("outfile.exists", e.Path)
	case outfile.ErrLedger:
		if e.File != e.Ledger {
			return tr.T("outfile.ledger_file", e.Path, e.File, e.Ledger)
		}
		return tr.T("outfile.ledger", e.Path, e.Ledger)
	case outfile.ErrLink:
		return tr.T("outfile.link", e.Path)
	case outfile.ErrNotFile:
		return tr.T("outfile.not_file", e.Path)
	}
	return tr.T("outfile.write", e.Path, describe(tr, e.Err))
}

// newFlags is a command's flag set, with -lang: the flag package's own
// output goes nowhere, parseArgs says what went wrong in words.
func newFlags(tr *i18n.Printer, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.String("lang", "", tr.T("flag.lang"))
	return fs
}

// parseArgs parses a command's flags; it prints the help that -h asked
// for, or the problem in a few lines that stay on screen: what is wrong,
// the flag the user probably meant, and how to see them all.
func parseArgs(tr *i18n.Printer, fs *flag.FlagSet, args []string, stderr io.Writer) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(tr, fs, stderr)
		return errHelp
	case err != nil:
		fmt.Fprintf(stderr, "pregon %s: %s\n", fs.Name(), flagError(tr, fs, err))
		fmt.Fprintln(stderr, tr.T("usage.see_help", fs.Name()))
		return errUsage
	}
	return nil
}

// flagErrors are the flag package's messages, to put in words.
var flagErrors = []struct {
	re  *regexp.Regexp
	key string
}{
	{regexp.MustCompile(`^flag provided but not defined: (-\S+)$`), i18n.K("flag.error.undefined")},
	{regexp.MustCompile(`^flag needs an argument: (-\S+)$`), i18n.K("flag.error.no_value")},
	{regexp.MustCompile(`^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?(-\S+): (.*)$`), i18n.K("flag.error.invalid")},
	{regexp.MustCompile(`^bad flag syntax: (.*)$`), i18n.K("flag.error.syntax")},
}

// flagWants say what a flag of each kind takes, for an invalid value.
var flagWants = map[string]string{"*flag.float64Value": i18n.K("flag.want.number"), "*flag.intValue": i18n.K("flag.want.whole"),
	"*flag.uintValue": i18n.K("flag.want.whole"), "*flag.durationValue": i18n.K("flag.want.duration"),
	"*flag.boolValue": i18n.K("flag.want.bool")}

func flagError(tr *i18n.Printer, fs *flag.FlagSet, err error) string {
	for _, fe := range flagErrors {
		m := fe.re.FindStringSubmatch(err.Error())
		if m == nil {
			continue
		}
		args := make([]any, len(m)-1)
		for i, s := range m[1:] {
			args[i] = s
		}
		switch fe.key {
		case "flag.error.invalid":
			if f := fs.Lookup(strings.TrimLeft(m[2], "-")); f != nil {
				if k, ok := flagWants[fmt.Sprintf("%T", f.Value)]; ok {
					args[2] = tr.T(k, f.Name)
				}
			}
		case "flag.error.undefined":
			if near := nearestFlag(fs, strings.TrimLeft(m[1], "-")); near != "" {
				return tr.T(fe.key, args...) + ". " + tr.T("flag.error.did_you_mean", near)
			}
		}
		return tr.T(fe.key, args...)
	}
	return err.Error()
}

// nearestFlag is the name of fs's flag closest to name (a letter missing,
// one too many, two swapped), or "" when none is close.
func nearestFlag(fs *flag.FlagSet, name string) string {
	best, bestD := "", max(2, len(name)/3)+1
	fs.VisitAll(func(f *flag.Flag) {
		if d := editdist.Distance(strings.ToLower(name), f.Name); d < bestD {
			best, bestD = f.Name, d
		}
	})
	return best
}

// defaultDuration is a duration flag's default as people write it
// (2 min, not 2m0s; 150 ms).
func defaultDuration(tr *i18n.Printer, def string) string {
	d, err := time.ParseDuration(def)
	switch {
	case err != nil:
		return def
	case d < 10*time.Second && d%(100*time.Millisecond) != 0:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return tr.Duration(d)
}

// flagTypes are the flag package's names for a value it has no name
// for in its usage.
var flagTypes = map[string]string{"string": i18n.K("flagtype.string"), "int": i18n.K("flagtype.number"),
	"uint": i18n.K("flagtype.number"), "float": i18n.K("flagtype.number"), "duration": i18n.K("flagtype.duration"),
	"value": i18n.K("flagtype.value")}

// printUsage prints a command's flags as flag.PrintDefaults does, in the
// reader's words.
func printUsage(tr *i18n.Printer, fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintln(w, tr.T("usage.command", fs.Name()))
	fs.VisitAll(func(f *flag.Flag) {
		var b strings.Builder
		fmt.Fprintf(&b, "  -%s", f.Name)
		name, usage := flag.UnquoteUsage(f)
		if k, ok := flagTypes[name]; ok && !strings.Contains(f.Usage, "`") {
			name = tr.T(k) // the flag package's word for the value's type
		}
		if name != "" {
			b.WriteString(" " + name)
		}
		if b.Len() <= 4 {
			b.WriteString("\t")
		} else {
			b.WriteString("\n    \t")
		}
		b.WriteString(strings.ReplaceAll(usage, "\n", "\n    \t"))
		if d := f.DefValue; d != "" && d != "0" && d != "false" && d != "0s" {
			switch fmt.Sprintf("%T", f.Value) {
			case "*flag.stringValue":
				d = strconv.Quote(d)
			case "*flag.durationValue":
				d = defaultDuration(tr, d)
			}
			b.WriteString(" " + tr.T("usage.default", d))
		}
		fmt.Fprintln(w, b.String())
	})
}
