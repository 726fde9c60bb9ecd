package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/pregon/pregon/sender/sendertest"
)

// runSandbox serves the fake Messages API until interrupted, printing one
// line per message received, so a campaign can be rehearsed against it
// (-base-url http://127.0.0.1:8025) or shown to a colleague. Every answer
// carries sendertest.SandboxHeader; -web-site and -v1-created let a person
// rehearse by hand two answers that make a sender's life hard. It limits
// and reports the quota as the platform does, counting each request when
// it arrived (sendertest.Serve), so a sender that keeps to -limit never
// gets a 429 from it; -window, -background and -close-every make the
// platform harder, as it may be. Like the platform it keeps the v2
// messages it took and answers v2's reads: their statuses advance at a
// pace a person can watch (-delivered-after, -read-after), a contact's
// list can hold others' messages (-other-traffic), and the templates of
// channel 4242 are listed where the brand lists them (-templates-at-mtm),
// in timestamps of another unit or clock (-timestamp-millis, -clock-skew).
func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8025", "`address` to listen on")
	latency := fs.Duration("latency", 150*time.Millisecond, "how long each answer takes (±50%)")
	perSecond := fs.Int("limit", 25, "answer 429 beyond this many requests per second, like the platform (0: never)")
	webSite := fs.Bool("web-site", false, "be a web site, not the API: answer every request 200 with an HTML page, as a wrong base URL can")
	v1Created := fs.Bool("v1-created", false, `answer v1 sends 201 {"status":"success",…,"data":{"id":N}}, as some brands do`)
	var window sendertest.Window
	fs.TextVar(&window, "window", sendertest.Sliding, "count -limit in any one second (`sliding`) or in each calendar second (fixed)")
	background := fs.Float64("background", 0, "another integration's `requests` per second, spending the same -limit")
	closeEvery := fs.Int("close-every", 0, "close each connection after this many answers, as load balancers do (0: never)")
	deliveredAfter := fs.Duration("delivered-after", sendertest.SandboxDelivery.After, "how long after it is taken a v2 message is delivered, or fails (0: at once)")
	readAfter := fs.Duration("read-after", sendertest.SandboxDelivery.ReadAfter, "how long after its delivery a message that is read is read (0: at once)")
	otherTraffic := fs.Bool("other-traffic", false, "list beside each contact's messages what it wrote and what agents, workflows and broadcasts sent it")
	atMTM := fs.Bool("templates-at-mtm", false, "list templates at /v2/space/channel/{id}/mtm, as one official client reads them, instead of /template")
	millis := fs.Bool("timestamp-millis", false, "give status timestamps in Unix milliseconds instead of seconds")
	skew := fs.Duration("clock-skew", 0, "how far the platform's clock is ahead of this machine's (negative: behind)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *background > 0 && *perSecond <= 0 {
		return usageError{errors.New("sandbox: -background spends the quota of -limit: give a -limit")}
	}
	if *deliveredAfter < 0 || *readAfter < 0 {
		return usageError{errors.New("sandbox: -delivered-after and -read-after are durations from 0 up")}
	}
	delivery := sendertest.SandboxDelivery
	delivery.After, delivery.ReadAfter = atOnce(*deliveredAfter), atOnce(*readAfter)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usageError{fmt.Errorf("sandbox: %w", err)}
	}
	cfg := sendertest.Config{Latency: *latency, Jitter: 0.5, PerSecond: *perSecond, Window: window,
		Background: *background, CloseEvery: *closeEvery, Log: stdout,
		Sandbox: true, WebSite: *webSite, V1Created: *v1Created,
		Delivery: delivery, OtherTraffic: *otherTraffic, TemplatesAtMTM: *atMTM, TimestampMillis: *millis, ClockSkew: *skew}
	if *webSite {
		fmt.Fprintf(stderr, "pregon sandbox: a web site, not the API, on http://%s: every request gets 200 and an HTML page; Ctrl-C stops it\n", ln.Addr())
	} else {
		fmt.Fprintf(stderr, "pregon sandbox: a fake Messages API (v1 and v2) on http://%s; any token is accepted; Ctrl-C stops it\n", ln.Addr())
	}
	if *perSecond > 0 {
		fmt.Fprintf(stderr, "  at most %d requests per second (%s window), said in X-RateLimit-Limit and -Remaining on every answer\n", *perSecond, window)
	}
	if !*webSite {
		fmt.Fprintf(stderr, "  v2 messages are delivered %v after they are taken (1 in %d fails), 1 in %d of those read %v later; channel %d has templates\n",
			*deliveredAfter, delivery.FailEvery, delivery.ReadEvery, *readAfter, sendertest.DefaultChannel)
	}
	fmt.Fprintf(stderr, "  try: PREGON_TOKEN=sandbox pregon send -campaign … -contacts … -ledger ensayo.db -base-url http://%s\n", ln.Addr())
	return sendertest.Serve(ctx, ln, cfg)
}

// atOnce is a flag's duration for sendertest.Delivery, where 0 is the
// default and a negative duration means at once.
func atOnce(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
