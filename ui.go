package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/ui"
)

// uiFlags are the options of `pregon ui`.
type uiFlags struct {
	ledger, addr, dir, lang string
	noBrowser               bool
}

func parseUIFlags(args []string, stderr io.Writer) (*uiFlags, error) {
	f := &uiFlags{}
	fs := flag.NewFlagSet("ui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.ledger, "ledger", defaultLedger, "ledger `file` of real sends (rehearsals go to "+defaultSandboxLedger+" beside it)")
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8026", "`address` to listen on: this machine only, unless you name another")
	fs.StringVar(&f.dir, "dir", ".", "`folder` whose campaign files (.json) and contacts files (.csv) the page offers")
	fs.StringVar(&f.lang, "lang", "", "the page's language, es or en (default: the browser's)")
	fs.BoolVar(&f.noBrowser, "no-browser", false, "do not open the browser; only print the address")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Errorf("ui: unexpected argument %q", fs.Arg(0))}
	}
	if f.lang != "" && f.lang != "es" && f.lang != "en" {
		return nil, usageError{fmt.Errorf("ui: -lang %q: write es or en", f.lang)}
	}
	return f, nil
}

// runUI serves the page for the people who send, and prints the one line
// with its address (which carries the page's key) on stdout.
func runUI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseUIFlags(args, stderr)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(f.dir); err != nil || !fi.IsDir() {
		return usageError{fmt.Errorf("ui: -dir %s is not a folder", f.dir)}
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return usageError{fmt.Errorf("ui: %w", err)}
	}
	token := os.Getenv(tokenEnv)
	srv, err := ui.New(ln, ui.Options{Dir: f.dir, Ledger: f.ledger, Token: token, Lang: f.lang, Tools: uiTools()})
	if err != nil {
		ln.Close()
		return err
	}
	if !srv.Loopback() {
		fmt.Fprintf(stderr, "pregon ui: warning: listening on %s, not only on this machine: anyone who can reach it and has the address below can send\n", ln.Addr())
	}
	if token == "" {
		fmt.Fprintf(stderr, "pregon ui: %s is not set: the page offers rehearsals only\n", tokenEnv)
	}
	fmt.Fprintln(stderr, "pregon ui: open the address below in your browser (it carries the page's key); Ctrl-C stops")
	fmt.Fprintln(stdout, srv.URL())
	if !f.noBrowser {
		openBrowser(srv.URL())
	}
	return srv.Serve(ctx)
}

// uiTools are the commands the page offers, as the command line runs them.
func uiTools() ui.Tools {
	return ui.Tools{
		Report: func(ctx context.Context, w io.Writer, ledger *store.Ledger, name string) error {
			data, err := loadReport(ctx, ledger, name)
			if err != nil {
				return err
			}
			return reportTemplate.Execute(w, data)
		},
		Export: func(ctx context.Context, w io.Writer, ledger *store.Ledger, id store.CampaignID) error {
			_, err := writeExport(ctx, ledger, id, []campaign.State{campaign.Invalid, campaign.Failed}, deliveryFilter{}, ';', w)
			return err
		},
		Init: func(contacts, named, typ string) ([]byte, []string, error) {
			text, notes, err := starterFile(contacts, named, typ, "v2")
			var ue usageError
			if errors.As(err, &ue) {
				err = ue.err
			}
			return text, notes, err
		},
	}
}

// openBrowser opens url in the desktop's browser, if there is one to ask.
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
