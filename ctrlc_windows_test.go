//go:build windows

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// On Windows a Ctrl-C is an event that GenerateConsoleCtrlEvent sends to
// every process of the caller's console. The test's own process must not
// get it, so pregon runs under a console host: the test binary again
// (PREGON_TEST_CONSOLE), in a console of its own, which starts pregon
// there and presses Ctrl-C in that console for each line it reads.
func init() {
	if os.Getenv("PREGON_TEST_CONSOLE") == "1" {
		os.Exit(consoleHost(os.Args[1:]))
	}
}

// startInterruptible starts pregon under a console host; press is a Ctrl-C.
func startInterruptible(t *testing.T, args ...string) (p *proc, press func()) {
	t.Helper()
	p = &proc{cmd: exec.Command(os.Args[0], args...)}
	p.cmd.Env = append(os.Environ(), "PREGON_TEST_CONSOLE=1", tokenEnv+"=t")
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errOut
	presses, err := p.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { presses.Close() })
	return p, func() {
		if _, err := io.WriteString(presses, "ctrl-c\n"); err != nil {
			t.Fatal(err)
		}
	}
}

func consoleHost(args []string) int {
	fail := func(what string, err error) int {
		fmt.Fprintf(os.Stderr, "console host: %s: %v\n", what, err)
		return 99
	}
	kernel32 := windows.NewLazySystemDLL("kernel32.dll")
	kernel32.NewProc("FreeConsole").Call()
	if ok, _, err := kernel32.NewProc("AllocConsole").Call(); ok == 0 {
		return fail("make a console", err)
	}
	// Ctrl-C handling is inherited: turn it on, whatever the test's
	// runner chose, and let the host survive its own Ctrl-C.
	kernel32.NewProc("SetConsoleCtrlHandler").Call(0, 0)
	signal.Notify(make(chan os.Signal, 8), os.Interrupt)

	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "PREGON_TEST_CONSOLE=")
	}), "PREGON_TEST_AS_MAIN=1")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fail("start pregon", err)
	}
	go func() {
		for in := bufio.NewScanner(os.Stdin); in.Scan(); {
			if err := windows.GenerateConsoleCtrlEvent(windows.CTRL_C_EVENT, 0); err != nil {
				fail("press Ctrl-C", err)
			}
		}
	}()
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode()
	case err != nil:
		return fail("wait for pregon", err)
	}
	return 0
}
