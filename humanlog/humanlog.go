// Package humanlog is a log/slog handler for a person at a terminal: each
// record is one short line, the local time of day and the message, which
// is a whole sentence in the reader's language. The record's attributes
// are for machines (the text and JSON handlers show them under cron and to
// log collectors): it leaves them out. It decides nothing about what is
// logged.
package humanlog

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// Handler writes "15:04:05 message" lines.
type Handler struct {
	mu    *sync.Mutex
	w     io.Writer
	opts  Options
	level slog.Leveler
}

// Options adjust a Handler.
type Options struct {
	// Level is the least level written (default Info).
	Level slog.Leveler
	// ClearLine starts each line by erasing the terminal's current line,
	// where a progress bar may be drawn: the bar draws itself again below.
	ClearLine bool
}

// New returns a Handler writing to w.
func New(w io.Writer, opts *Options) *Handler {
	h := &Handler{mu: &sync.Mutex{}, w: w}
	if opts != nil {
		h.opts = *opts
	}
	h.level = h.opts.Level
	if h.level == nil {
		h.level = slog.LevelInfo
	}
	return h
}

// Enabled reports whether a record of level l is written.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// Handle writes the record's time and message on one line; a message of
// several lines (a hint under a sentence) keeps its lines, indented under
// the first.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	if h.opts.ClearLine {
		b.WriteString("\r\x1b[K")
	}
	stamp := r.Time.Local().Format("15:04:05")
	b.WriteString(stamp)
	b.WriteByte(' ')
	b.WriteString(strings.ReplaceAll(strings.TrimRight(r.Message, "\n"), "\n", "\n"+strings.Repeat(" ", len(stamp)+1)))
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

// WithAttrs returns the handler: attributes are not shown.
func (h *Handler) WithAttrs([]slog.Attr) slog.Handler { return h }

// WithGroup returns the handler: attributes are not shown.
func (h *Handler) WithGroup(string) slog.Handler { return h }
