package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/pregon/pregon/i18n"
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
func runSandbox(ctx context.Context, tr *i18n.Printer, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(tr, "sandbox")
	addr := fs.String("addr", "127.0.0.1:8025", tr.T("flag.sandbox.addr"))
	latency := fs.Duration("latency", 150*time.Millisecond, tr.T("flag.sandbox.latency"))
	perSecond := fs.Int("limit", 25, tr.T("flag.sandbox.limit"))
	webSite := fs.Bool("web-site", false, tr.T("flag.sandbox.web_site"))
	v1Created := fs.Bool("v1-created", false, tr.T("flag.sandbox.v1_created"))
	var window sendertest.Window
	fs.TextVar(&window, "window", sendertest.Sliding, tr.T("flag.sandbox.window"))
	background := fs.Float64("background", 0, tr.T("flag.sandbox.background"))
	closeEvery := fs.Int("close-every", 0, tr.T("flag.sandbox.close_every"))
	deliveredAfter := fs.Duration("delivered-after", sendertest.SandboxDelivery.After, tr.T("flag.sandbox.delivered_after"))
	readAfter := fs.Duration("read-after", sendertest.SandboxDelivery.ReadAfter, tr.T("flag.sandbox.read_after"))
	otherTraffic := fs.Bool("other-traffic", false, tr.T("flag.sandbox.other_traffic"))
	atMTM := fs.Bool("templates-at-mtm", false, tr.T("flag.sandbox.templates_at_mtm"))
	millis := fs.Bool("timestamp-millis", false, tr.T("flag.sandbox.timestamp_millis"))
	skew := fs.Duration("clock-skew", 0, tr.T("flag.sandbox.clock_skew"))
	if err := parseArgs(tr, fs, args, stderr); err != nil {
		return err
	}
	if *background > 0 && *perSecond <= 0 {
		return usageError{say("sandbox.error.background")}
	}
	if *deliveredAfter < 0 || *readAfter < 0 {
		return usageError{say("sandbox.error.durations")}
	}
	delivery := sendertest.SandboxDelivery
	delivery.After, delivery.ReadAfter = atOnce(*deliveredAfter), atOnce(*readAfter)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usageError{err}
	}
	cfg := sendertest.Config{Latency: *latency, Jitter: 0.5, PerSecond: *perSecond, Window: window,
		Background: *background, CloseEvery: *closeEvery, Log: stdout,
		Sandbox: true, WebSite: *webSite, V1Created: *v1Created,
		Delivery: delivery, OtherTraffic: *otherTraffic, TemplatesAtMTM: *atMTM, TimestampMillis: *millis, ClockSkew: *skew}
	if *webSite {
		fmt.Fprintln(stderr, "pregon sandbox: "+tr.T("sandbox.web_site", ln.Addr().String()))
	} else {
		fmt.Fprintln(stderr, "pregon sandbox: "+tr.T("sandbox.api", ln.Addr().String()))
	}
	if *perSecond > 0 {
		fmt.Fprintln(stderr, "  "+tr.T("sandbox.limit", *perSecond, window.String()))
	}
	if !*webSite {
		fmt.Fprintln(stderr, "  "+tr.T("sandbox.delivery", tr.Duration(*deliveredAfter), delivery.FailEvery, delivery.ReadEvery,
			tr.Duration(*readAfter), fmt.Sprint(sendertest.DefaultChannel)))
	}
	fmt.Fprintln(stderr, "  "+tr.T("sandbox.try", ln.Addr().String()))
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
