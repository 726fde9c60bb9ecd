//go:build linux

package main

import (
	"fmt"
	"time"

	"github.com/pregon/pregon/sender/sendertest"
)

func (b *bencher) rateRun(n int, latency time.Duration) (result, error) {
	r := result{what: fmt.Sprintf("%d messages at %v latency (±20%%): mean rate; busiest second; CPU", n, latency),
		target: "≥ 24.9/s; ≤ 25; ≤ 2% of a core"}
	fake := sendertest.New(sendertest.Config{Latency: latency, Jitter: 0.2})
	defer fake.Close()
	c, err := b.send(fmt.Sprintf("rate-%v", latency), n, fake)
	if err != nil {
		return r, err
	}
	reqs, err := received(fake, n)
	if err != nil {
		return r, err
	}
	r.got = fmt.Sprintf("%.2f/s; %d; %s", meanRate(reqs), sendertest.MaxInWindow(reqs, time.Second), c.cpuShare())
	return r, nil
}
