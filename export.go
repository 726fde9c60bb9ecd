package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gocarina/gocsv"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/outfile"
	"github.com/pregon/pregon/store"
)

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ledgerPath := fs.String("ledger", defaultLedger, "ledger `file`")
	name := fs.String("campaign", "", "the campaign to export (required)")
	outcome := fs.String("outcome", "", "only contacts in these `states`, comma-separated: "+joinStates(campaign.States)+" (default all)")
	outPath := fs.String("o", "", "write to this `file` (mode 0600; never the ledger; default standard output)")
	force := fs.Bool("force", false, "replace the -o file if it exists")
	delim := fs.String("delimiter", ";", "cell delimiter: ; (Excel in Spanish), , or tab")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" || fs.NArg() > 0 {
		return usageError{errors.New("export: -campaign NAME is required (see pregon status for the names)")}
	}
	states, err := parseStates(*outcome)
	if err != nil {
		return usageError{fmt.Errorf("export: -outcome: %w", err)}
	}
	comma, err := parseDelimiter(*delim)
	if err != nil {
		return usageError{fmt.Errorf("export: -delimiter: %w", err)}
	}
	ledger, err := store.OpenReadOnly(ctx, *ledgerPath)
	if err != nil {
		return usageError{err}
	}
	defer ledger.Close()
	id, ok, err := ledger.Lookup(ctx, *name)
	if err != nil {
		return err
	}
	if !ok {
		return usageError{fmt.Errorf("export: no campaign %q in %s", *name, *ledgerPath)}
	}
	if *outPath == "" {
		_, err := writeExport(ctx, ledger, id, states, comma, stdout)
		return err
	}
	var n int
	err = outfile.Write(*outPath, outfile.Options{Force: *force, Ledgers: []string{*ledgerPath}}, func(w io.Writer) error {
		n, err = writeExport(ctx, ledger, id, states, comma, w)
		return err
	})
	if err != nil {
		return outputError("export", err)
	}
	fmt.Fprintf(stderr, "pregon: wrote %d contacts to %s\n", n, *outPath)
	return nil
}

// outputError is err from writing a command's -o file: a refused file, a
// missing directory or one the user may not write to is a usage error, as
// opening the file was before -o went through outfile.
func outputError(command string, err error) error {
	var refused *outfile.Error
	if errors.As(err, &refused) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return usageError{fmt.Errorf("%s: %w", command, err)}
	}
	return err
}

// writeExport writes the CSV: UTF-8 with a byte order mark and CRLF, as
// Excel expects, every cell guarded against formula injection.
// campaign.ExportColumns follow the row's own, the last naming each row's
// record, so that the file fed back to send replaces exactly the rows it
// came from. It returns how many contacts it wrote.
func writeExport(ctx context.Context, ledger *store.Ledger, id store.CampaignID, states []campaign.State, comma rune, w io.Writer) (int, error) {
	header, err := ledger.Header(ctx, id)
	if err != nil {
		return 0, err
	}
	// Columns of an earlier export fed back to send are replaced, not repeated.
	keep := make([]int, 0, len(header))
	export := campaign.IsExport(header)
	for i, h := range header {
		if h != "" && !(export && slices.Contains(campaign.ExportColumns, campaign.NormalizeHeader(h))) {
			keep = append(keep, i)
		}
	}
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString("\uFEFF"); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(bw)
	cw.Comma = comma
	cw.UseCRLF = true
	out := gocsv.NewSafeCSVWriter(cw)
	row := make([]string, 0, len(keep)+len(campaign.ExportColumns))
	for _, i := range keep {
		row = append(row, campaign.Neutralize(header[i]))
	}
	if err := out.Write(append(row, campaign.ExportColumns...)); err != nil {
		return 0, err
	}
	n := 0
	err = ledger.Export(ctx, id, states, func(r store.Row) error {
		row = row[:0]
		for _, i := range keep {
			cell := ""
			if i < len(r.Cells) {
				cell = r.Cells[i]
			}
			row = append(row, campaign.Neutralize(cell))
		}
		sent := ""
		if !r.SentAt.IsZero() {
			sent = r.SentAt.Local().Format("2006-01-02 15:04:05")
		}
		row = append(row, campaign.Neutralize(r.Source), strconv.Itoa(r.Line), string(r.State), campaign.Neutralize(r.Error),
			strconv.Itoa(r.Attempts), campaign.Neutralize(r.MessageID), sent, strconv.FormatInt(r.ID, 10))
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

func parseStates(list string) ([]campaign.State, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var out []campaign.State
	for _, s := range strings.Split(list, ",") {
		st := campaign.State(strings.ToLower(strings.TrimSpace(s)))
		if !slices.Contains(campaign.States, st) {
			return nil, fmt.Errorf("%q is not a state; the states are %s", s, joinStates(campaign.States))
		}
		out = append(out, st)
	}
	return out, nil
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
	return 0, fmt.Errorf("%q: use ; , or tab", s)
}
