//go:build !windows

package main

import (
	"os"
	"testing"
)

// startInterruptible starts pregon; press is a Ctrl-C (SIGINT).
func startInterruptible(t *testing.T, args ...string) (p *proc, press func()) {
	t.Helper()
	p = startPregon(t, args...)
	return p, func() {
		if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
	}
}
