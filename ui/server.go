package ui

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/rateshare"
	"github.com/pregon/pregon/store"
)

// Options are what the page serves and with what.
type Options struct {
	// Dir is the folder whose campaign files (.json) and contacts files
	// (.csv) the page offers.
	Dir string
	// Ledger is the ledger of real sends; RehearsalLedger the
	// rehearsals' ("": pregon-sandbox.db beside Ledger, where `pregon
	// send -sandbox` keeps them when run from that folder).
	Ledger, RehearsalLedger string
	// StateDir is pregon's own folder ("": rateshare.Dir()); uploaded
	// files are kept in its "uploads" folder.
	StateDir string
	// Token is the API token, from the environment: without it the page
	// offers rehearsals only. It is never sent to the browser.
	Token string
	// Lang is the page's language when -lang gives it; "" follows each
	// browser's Accept-Language, and DefaultLang (pregon ui's own) a
	// browser that names neither Spanish nor English.
	Lang, DefaultLang i18n.Lang
	// MaxUpload bounds an uploaded file (0: DefaultMaxUpload).
	MaxUpload int64
	// Poll is how often live progress reads the ledger (0: a second).
	Poll time.Duration
	// Tools are the command line's report, export, init and words for
	// errors.
	Tools Tools
}

// Tools are what the command line has that the page offers, handed in by
// package main so that the page runs exactly its code, in the reader's
// language.
type Tools struct {
	// Report writes the campaign's report (`pregon report`).
	Report func(ctx context.Context, tr *i18n.Printer, w io.Writer, ledger *store.Ledger, campaign string) error
	// Export writes the rows to fix, invalid and failed, as the CSV
	// `pregon export -outcome invalid,failed` writes.
	Export func(ctx context.Context, tr *i18n.Printer, w io.Writer, ledger *store.Ledger, id store.CampaignID) error
	// Init is the text of a starter campaign of message type typ for a
	// contacts file, named after the file named, and what is left to
	// fill in, in words (`pregon init`).
	Init func(tr *i18n.Printer, contacts, named, typ string) (text []byte, notes []string, err error)
	// Describe puts an error in words, as the command line reports it.
	Describe func(tr *i18n.Printer, err error) string
}

// DefaultMaxUpload bounds an uploaded file: a contacts file of a million
// rows is some tens of megabytes.
const DefaultMaxUpload = 64 << 20

// Server is the page's web server.
type Server struct {
	o     Options
	ln    net.Listener
	key   string                        // the secret the URL carries; the cookie holds it
	csrf  string                        // the forms' token, derived from the key
	pages map[string]*template.Template // each page with the layout and the parts, never executed (see render)
	runs  *runs
	srv   *http.Server
	// ctx is Serve's: the runs the page starts end with it, as a send
	// ends with Ctrl-C.
	ctx context.Context

	mu     sync.Mutex
	launch string // the page LaunchFile wrote, removed when Serve returns
}

// New makes the page's server, to listen on ln. Only a browser that
// opened URL gets in.
func New(ln net.Listener, o Options) (*Server, error) {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.RehearsalLedger == "" {
		o.RehearsalLedger = filepath.Join(filepath.Dir(o.Ledger), "pregon-sandbox.db")
	}
	if sameFile(o.Ledger, o.RehearsalLedger) {
		// Rehearsals would be recorded as real sends, and real sends
		// skipped as already rehearsed.
		return nil, &SameLedgerError{Ledger: o.Ledger, Rehearsals: o.RehearsalLedger}
	}
	if o.StateDir == "" {
		dir, err := rateshare.Dir()
		if err != nil {
			return nil, err
		}
		o.StateDir = dir
	}
	if o.MaxUpload <= 0 {
		o.MaxUpload = DefaultMaxUpload
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Lang != "" && o.Lang != i18n.Spanish && o.Lang != i18n.English {
		return nil, fmt.Errorf("language %q: es or en", o.Lang)
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	s := &Server{o: o, ln: ln, key: base64.RawURLEncoding.EncodeToString(secret), runs: newRuns()}
	s.csrf = derive(s.key, "csrf")
	var err error
	if s.pages, err = loadPages(); err != nil {
		return nil, err
	}
	return s, nil
}

// SameLedgerError refuses a -ledger that is the rehearsals' own file:
// rehearsals would be recorded as real sends, and real sends skipped as
// already rehearsed.
type SameLedgerError struct{ Ledger, Rehearsals string }

func (e *SameLedgerError) Error() string {
	return fmt.Sprintf("the ledger %s is the rehearsals' ledger (%s): rehearsals and real sends must be kept apart; choose another -ledger", e.Ledger, e.Rehearsals)
}

// URL is the address to open, with the key; on this machine when the
// server listens on every address.
func (s *Server) URL() string {
	addr := s.ln.Addr().String()
	if a, ok := s.ln.Addr().(*net.TCPAddr); ok && a.IP.IsUnspecified() {
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port))
	}
	return "http://" + addr + "/?key=" + s.key
}

// LaunchFile writes a page, readable by this user only, in pregon's own
// folder, that sends the browser on to URL, and returns its path: the
// browser is opened on that path, so that the key never appears in a
// process's arguments, which every user of the machine can read. Serve
// removes it when it returns.
func (s *Server) LaunchFile() (string, error) {
	if err := os.MkdirAll(s.o.StateDir, 0o700); err != nil {
		return "", err
	}
	_, port, _ := net.SplitHostPort(s.ln.Addr().String())
	path := filepath.Join(s.o.StateDir, "ui-"+port+".html")
	os.Remove(path) // one a pregon ui that was killed left on this port
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	u := template.HTMLEscapeString(s.URL())
	_, err = fmt.Fprintf(f, `<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=%s"><title>pregon ui</title></head>
<body><p><a href="%s">pregon ui</a></p></body></html>
`, u, u)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", err
	}
	s.mu.Lock()
	s.launch = path
	s.mu.Unlock()
	return path, nil
}

// Loopback says whether the server listens on this machine only.
func (s *Server) Loopback() bool {
	a, ok := s.ln.Addr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// Serve serves until ctx ends. Then the sends the page started stop as
// Ctrl-C stops a send (the requests in flight finish and are recorded),
// and Serve returns once they have.
func (s *Server) Serve(ctx context.Context) error {
	s.ctx = ctx
	s.srv = s.httpServer(ctx)
	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(s.ln) }()
	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
	}
	s.runs.wait()
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if e := s.srv.Shutdown(shut); err == nil && e != nil {
		err = e
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	s.mu.Lock()
	if s.launch != "" {
		os.Remove(s.launch)
		s.launch = ""
	}
	s.mu.Unlock()
	return err
}

// httpServer is the page's HTTP server. A browser's idle connections are
// closed after a while, and a client that sends its headers slowly is
// cut off, so that neither holds the server's resources.
func (s *Server) httpServer(ctx context.Context) *http.Server {
	return &http.Server{
		Handler:           s.guard(s.routes()),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// Live progress is a response that lasts: no WriteTimeout. Each
		// request's context ends with ctx, and every stream with it.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
}

func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/prepare", http.StatusSeeOther)
	})
	m.Handle("GET /static/", http.FileServerFS(staticFS))
	m.HandleFunc("GET /prepare", s.prepare)
	m.HandleFunc("POST /check", s.check)
	m.HandleFunc("POST /upload", s.upload)
	m.HandleFunc("POST /init", s.initCampaign)
	m.HandleFunc("GET /rehearse", s.rehearse)
	m.HandleFunc("GET /send", s.sendPage)
	m.HandleFunc("POST /confirm", s.confirm)
	m.HandleFunc("POST /start", s.start)
	m.HandleFunc("GET /live", s.live)
	m.HandleFunc("GET /events", s.events)
	m.HandleFunc("POST /stop", s.stop)
	m.HandleFunc("GET /results", s.results)
	m.HandleFunc("POST /track", s.track)
	m.HandleFunc("GET /report", s.report)
	m.HandleFunc("GET /export", s.export)
	m.HandleFunc("POST /lang", s.setLang)
	return m
}

// sameFile says whether two paths name one file: the same path once
// absolute and with its folder's links resolved, or, when both exist,
// the same file.
func sameFile(a, b string) bool {
	if fa, err := os.Stat(a); err == nil {
		if fb, err := os.Stat(b); err == nil {
			return os.SameFile(fa, fb)
		}
	}
	return canonical(a) == canonical(b)
}

func canonical(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(dir, filepath.Base(abs))
	}
	return abs
}
