package main

import (
	"io"
	"log/slog"
	"os"

	"golang.org/x/term"

	"github.com/pregon/pregon/humanlog"
)

// Logs, by -log:
//
//   - auto (the default): on a terminal, short sentences with the local
//     time (humanlog); otherwise, as under cron, text.
//   - text: slog's key=value lines, one per event.
//   - json: one JSON object per line, for log collectors.
//
// In every form msg is a sentence in the reader's language: a cron mail is
// read by a person. What a program reads does not change with the
// language: the event key names what happened (row_invalid, paused…), and
// the other keys and their values (states, counts) are the same in every
// language.

// isTerminal reports whether w is a terminal, where people read pregon's
// log as sentences; tests replace it to see what a terminal shows.
var isTerminal = realTerminal

// realTerminal reports whether w is a terminal, where a progress bar can
// be drawn.
func realTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newLogger is the log a command writes on stderr, in the form -log chose.
func newLogger(mode string, stderr io.Writer) (*slog.Logger, error) {
	switch mode {
	case "auto", "":
		if isTerminal(stderr) {
			return slog.New(humanlog.New(stderr, &humanlog.Options{ClearLine: realTerminal(stderr)})), nil
		}
		return slog.New(slog.NewTextHandler(stderr, nil)), nil
	case "text":
		return slog.New(slog.NewTextHandler(stderr, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, nil)), nil
	}
	return nil, say("error.log_flag", mode)
}
