package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/ui"
)

// runUI serves the page for the people who send, and prints the one line
// with its address (which carries the page's key) on stdout.
func runUI(ctx context.Context, tr *i18n.Printer, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(tr, "ui")
	ledger := fs.String("ledger", defaultLedger, tr.T("flag.ui.ledger"))
	addr := fs.String("addr", "127.0.0.1:8026", tr.T("flag.ui.addr"))
	dir := fs.String("dir", ".", tr.T("flag.ui.dir"))
	noBrowser := fs.Bool("no-browser", false, tr.T("flag.ui.no_browser"))
	if err := parseArgs(tr, fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{say("ui.error.argument", fs.Arg(0))}
	}
	if fi, err := os.Stat(*dir); err != nil || !fi.IsDir() {
		return usageError{say("ui.error.dir", *dir)}
	}
	// The page speaks -lang when it is given, else each browser's
	// language (run has refused a -lang that is neither es nor en).
	var lang i18n.Lang
	if v := fs.Lookup("lang").Value.String(); v != "" {
		tag, _ := i18n.Choose(v, os.Getenv)
		lang = i18n.LangOf(tag)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usageError{err}
	}
	token := os.Getenv(tokenEnv)
	srv, err := ui.New(ln, ui.Options{Dir: *dir, Ledger: *ledger, Token: token, Lang: lang, DefaultLang: tr.Lang(), Tools: uiTools()})
	if err != nil {
		ln.Close()
		var same *ui.SameLedgerError
		if errors.As(err, &same) {
			return usageError{say("ui.error.same_ledger", same.Ledger, same.Rehearsals)}
		}
		return err
	}
	if !srv.Loopback() {
		fmt.Fprintln(stderr, "pregon ui: "+tr.T("ui.not_loopback", ln.Addr().String()))
	}
	if token == "" {
		fmt.Fprintln(stderr, "pregon ui: "+tr.T("ui.no_token", tokenEnv))
	}
	fmt.Fprintln(stderr, "pregon ui: "+tr.T("ui.open"))
	fmt.Fprintln(stdout, srv.URL())
	if !*noBrowser {
		// The browser is opened on a file that leads to the URL: a
		// process's arguments are there for every user of the machine to
		// read, and the URL carries the key.
		if path, err := srv.LaunchFile(); err == nil {
			openBrowser(path)
		}
	}
	return srv.Serve(ctx)
}

// uiTools are what the command line has that the page offers: its
// report, export and init, and its words for errors.
func uiTools() ui.Tools {
	return ui.Tools{
		Report: func(ctx context.Context, tr *i18n.Printer, w io.Writer, ledger *store.Ledger, name string) error {
			data, err := loadReport(ctx, tr, ledger, name)
			if err != nil {
				return err
			}
			return renderReport(tr, w, data)
		},
		Export: func(ctx context.Context, tr *i18n.Printer, w io.Writer, ledger *store.Ledger, id store.CampaignID) error {
			_, err := writeExport(ctx, tr, ledger, id, []campaign.State{campaign.Invalid, campaign.Failed}, deliveryFilter{}, ';', w)
			return err
		},
		Init: func(tr *i18n.Printer, contacts, named, typ string) ([]byte, []string, error) {
			text, notes, err := starterFile(contacts, named, typ, "v2")
			if err != nil {
				return nil, nil, err
			}
			words := make([]string, len(notes))
			for i, n := range notes {
				words[i] = describe(tr, n)
			}
			return text, words, nil
		},
		Describe: describe,
	}
}

// openBrowser opens a file or an address in the desktop's browser, if
// there is one to ask; never one that carries a secret (see LaunchFile).
func openBrowser(url string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		cmd = exec.Command("open", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if cmd.Start() == nil {
		go cmd.Wait()
	}
}
