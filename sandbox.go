package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/pregon/pregon/sender/sendertest"
)

// runSandbox serves the fake Messages API until interrupted, printing one
// line per message received, so a campaign can be rehearsed against it
// (-base-url http://127.0.0.1:8025) or shown to a colleague. Every answer
// carries sendertest.SandboxHeader; -web-site and -v1-created let a person
// rehearse by hand two answers that make a sender's life hard.
func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8025", "`address` to listen on")
	latency := fs.Duration("latency", 150*time.Millisecond, "how long each answer takes (±50%)")
	perSecond := fs.Int("limit", 25, "answer 429 beyond this many requests per second, like the platform (0: never)")
	webSite := fs.Bool("web-site", false, "be a web site, not the API: answer every request 200 with an HTML page, as a wrong base URL can")
	v1Created := fs.Bool("v1-created", false, `answer v1 sends 201 {"status":"success",…,"data":{"id":N}}, as some brands do`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usageError{fmt.Errorf("sandbox: %w", err)}
	}
	cfg := sendertest.Config{Latency: *latency, Jitter: 0.5, PerSecond: *perSecond, Log: stdout,
		Sandbox: true, WebSite: *webSite, V1Created: *v1Created}
	srv := &http.Server{
		Handler:           sendertest.Handler(cfg),
		ReadHeaderTimeout: 10 * time.Second,
	}
	if *webSite {
		fmt.Fprintf(stderr, "pregon sandbox: a web site, not the API, on http://%s: every request gets 200 and an HTML page; Ctrl-C stops it\n", ln.Addr())
	} else {
		fmt.Fprintf(stderr, "pregon sandbox: a fake Messages API (v1 and v2) on http://%s; any token is accepted; Ctrl-C stops it\n", ln.Addr())
	}
	fmt.Fprintf(stderr, "  try: PREGON_TOKEN=sandbox pregon send -campaign … -contacts … -ledger ensayo.db -base-url http://%s\n", ln.Addr())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-stopped // Serve returns when Shutdown starts; the answers in flight finish first
	return nil
}
