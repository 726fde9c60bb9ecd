package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gocarina/gocsv"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/outfile"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/wording"
)

func runExport(ctx context.Context, tr *i18n.Printer, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(tr, "export")
	ledgerPath := fs.String("ledger", defaultLedger, tr.T("flag.ledger"))
	name := fs.String("campaign", "", tr.T("flag.export.campaign"))
	outcome := fs.String("outcome", "", tr.T("flag.export.outcome", joinStates(campaign.States), strings.Join(deliveryOutcomes, ",")))
	outPath := fs.String("o", "", tr.T("flag.export.o"))
	force := fs.Bool("force", false, tr.T("flag.force"))
	delim := fs.String("delimiter", ";", tr.T("flag.export.delimiter"))
	if err := parseArgs(tr, fs, args, stderr); err != nil {
		return err
	}
	if *name == "" || fs.NArg() > 0 {
		return usageError{say("error.campaign_required", "export", *ledgerPath)}
	}
	states, deliveries, err := parseStates(*outcome)
	if err != nil {
		return usageError{err}
	}
	comma, err := parseDelimiter(*delim)
	if err != nil {
		return usageError{err}
	}
	camp, err := readCampaignArg("export", *name)
	if err != nil {
		return err
	}
	ledger, err := openToRead(ctx, "export", *ledgerPath, camp)
	if err != nil {
		return err
	}
	defer ledger.Close()
	id, ok, err := ledger.Lookup(ctx, camp.name)
	if err != nil {
		return err
	}
	if !ok {
		return noCampaign(ctx, ledger, "export", *ledgerPath, camp)
	}
	if *outPath == "" {
		_, err := writeExport(ctx, tr, ledger, id, states, deliveries, comma, stdout)
		return err
	}
	var n int
	err = outfile.Write(*outPath, outfile.Options{Force: *force, Ledgers: []string{*ledgerPath}}, func(w io.Writer) error {
		n, err = writeExport(ctx, tr, ledger, id, states, deliveries, comma, w)
		return err
	})
	if err != nil {
		return outputError("export", err)
	}
	fmt.Fprintln(stderr, "pregon: "+tr.T("export.wrote", n, *outPath))
	return nil
}

// outputError is err from writing a command's -o file: a refused file, a
// missing directory or one the user may not write to is a usage error, as
// opening the file was before -o went through outfile.
func outputError(command string, err error) error {
	var refused *outfile.Error
	if errors.As(err, &refused) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return usageError{say("error.command", command, err)}
	}
	return err
}

// writeExport writes the CSV: UTF-8 with a byte order mark and CRLF, as
// Excel expects, every cell guarded against formula injection. Each row
// is written under its own file's columns, matched by name: the export's
// columns are those of every file its rows came from, and a column one
// file lacks is empty in its rows. campaign.ExportColumns follow, the last
// naming each row's record, so that the file fed back to send replaces
// exactly the rows it came from. It returns how many contacts it wrote.
func writeExport(ctx context.Context, tr *i18n.Printer, ledger *store.Ledger, id store.CampaignID, states []campaign.State, deliveries deliveryFilter,
	comma rune, w io.Writer) (int, error) {
	headers, err := ledger.Headers(ctx, id, states)
	if err != nil {
		return 0, err
	}
	cols := newColumns(headers)
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString("\uFEFF"); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(bw)
	cw.Comma = comma
	cw.UseCRLF = true
	out := gocsv.NewSafeCSVWriter(cw)
	row := make([]string, 0, len(cols.names)+len(campaign.ExportColumns))
	for _, name := range cols.names {
		row = append(row, campaign.Neutralize(name))
	}
	if err := out.Write(append(row, exportColumns(tr)...)); err != nil {
		return 0, err
	}
	n := 0
	err = ledger.Export(ctx, id, states, func(r store.Row) error {
		row = row[:len(cols.names)]
		clear(row)
		for i, at := range cols.of(r.HeaderID, r.Header) {
			if at >= 0 && i < len(r.Cells) {
				row[at] = campaign.Neutralize(r.Cells[i])
			}
		}
		if !deliveries.match(r) {
			return nil
		}
		reason := wording.Stored(tr, r.Reason, r.Error)
		if reason == "" && r.DeliveryError != "" {
			reason = tr.T("export.after_sending", r.DeliveryError)
		}
		row = append(row, campaign.Neutralize(r.Source), strconv.Itoa(r.Line), string(r.State), campaign.Neutralize(reason),
			strconv.Itoa(r.Attempts), campaign.Neutralize(r.MessageID), localTime(r.SentAt),
			r.Delivery, localTime(r.DeliveredAt), localTime(r.ReadAt), strconv.FormatInt(r.ID, 10))
		n++
		return out.Write(row)
	})
	if err != nil {
		return n, err
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, bw.Flush()
}

// columns are an export's own columns: the union, by name, of the headers
// its rows follow, in the order first met.
type columns struct {
	names []string       // as first written
	at    map[string]int // normalized name → position
	// placed caches, per header, where each of its cells goes.
	placed map[int64][]int
}

// oldExportColumns are the columns pregon wrote after a row's own before
// exports had a marker; a header with all of them is such an export's.
var oldExportColumns = []string{"line", "state", "error", "attempts", "message_id", "sent_at"}

func newColumns(headers [][]string) *columns {
	c := &columns{at: map[string]int{}, placed: map[int64][]int{}}
	for _, h := range headers {
		for _, name := range h {
			if n := campaign.NormalizeHeader(name); exportable(h, n) {
				if _, ok := c.at[n]; !ok {
					c.at[n] = len(c.names)
					c.names = append(c.names, strings.TrimSpace(name))
				}
			}
		}
	}
	return c
}

// exportable reports whether a column (its normalized name) of a header
// is the user's: not unnamed, and not one an export of pregon wrote.
func exportable(header []string, name string) bool {
	switch {
	case name == "":
		return false
	case campaign.IsExport(header):
		return !campaign.IsExportColumn(name)
	case slices.Contains(oldExportColumns, name):
		// Unless the header lacks one of them: then it is the user's.
		return slices.ContainsFunc(oldExportColumns, func(c string) bool {
			return !slices.ContainsFunc(header, func(h string) bool { return campaign.NormalizeHeader(h) == c })
		})
	}
	return true
}

// of returns, for each cell of a row that follows header (identified by
// id), its position in the export; -1 for a cell not exported.
func (c *columns) of(id int64, header []string) []int {
	if p, ok := c.placed[id]; ok {
		return p
	}
	p := make([]int, len(header))
	for i, name := range header {
		p[i] = -1
		if n := campaign.NormalizeHeader(name); exportable(header, n) {
			if at, ok := c.at[n]; ok {
				p[i] = at
			}
		}
	}
	c.placed[id] = p
	return p
}

// exportColumns are the columns an export adds after a row's own, named
// in the reader's language.
func exportColumns(tr *i18n.Printer) []string {
	if tr.Lang() == i18n.Spanish {
		return campaign.ExportColumnsSpanish
	}
	return campaign.ExportColumns
}

// deliveryOutcomes are the -outcome values about what happened after
// sent (pregon track): delivered (read included), read, and undelivered
// (failed after the platform accepted it).
var deliveryOutcomes = []string{"delivered", "read", "undelivered"}

// deliveryFilter keeps, of the sent contacts, those whose delivery is one
// of the outcomes (all of them when sent itself was asked for, or no
// outcome was); other states are kept as the query chose them.
type deliveryFilter struct {
	outcomes []string
	allSent  bool
}

func (f deliveryFilter) match(r store.Row) bool {
	if len(f.outcomes) == 0 || f.allSent || r.State != campaign.Sent {
		return true
	}
	for _, o := range f.outcomes {
		switch {
		case o == "delivered" && (r.Delivery == "delivered" || r.Delivery == "read" || !r.DeliveredAt.IsZero()),
			o == "read" && r.Delivery == "read",
			o == "undelivered" && r.Delivery == "failed":
			return true
		}
	}
	return false
}

// parseStates reads -outcome: states, and outcomes after sending.
func parseStates(list string) ([]campaign.State, deliveryFilter, error) {
	var f deliveryFilter
	if strings.TrimSpace(list) == "" {
		return nil, f, nil
	}
	var out []campaign.State
	for _, s := range strings.Split(list, ",") {
		word := strings.ToLower(strings.TrimSpace(s))
		st := campaign.State(word)
		switch {
		case slices.Contains(campaign.States, st):
			out = append(out, st)
			f.allSent = f.allSent || st == campaign.Sent
		case slices.Contains(deliveryOutcomes, word):
			f.outcomes = append(f.outcomes, word)
		default:
			return nil, f, say("export.error.outcome", s, joinStates(campaign.States), strings.Join(deliveryOutcomes, ","))
		}
	}
	if len(f.outcomes) > 0 && !slices.Contains(out, campaign.Sent) {
		out = append(out, campaign.Sent)
	}
	return out, f, nil
}

// localTime is t as the export writes it: local time, "" when zero.
func localTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func joinStates(states []campaign.State) string {
	s := make([]string, len(states))
	for i, st := range states {
		s[i] = string(st)
	}
	return strings.Join(s, ",")
}

func parseDelimiter(s string) (rune, error) {
	switch s {
	case "tab", `\t`:
		return '\t', nil
	case ";", ",", "\t":
		r, _ := utf8.DecodeRuneInString(s)
		return r, nil
	}
	return 0, say("export.error.delimiter", s)
}
