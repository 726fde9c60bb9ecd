//go:build linux

package main

import (
	"bufio"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pregon/pregon/sender/sendertest"
)

// What the bench relies on of the pregon command, as its README documents
// it: the token's variable, where runs share the rate, the exit codes.
const (
	tokenEnv    = "PREGON_TOKEN"
	stateDirEnv = "PREGON_STATE_DIR"
	exitOK      = 0
	exitStopped = 3
)

// module is pregon's module path: the bench builds the pregon of the
// module it runs in.
const module = "github.com/pregon/pregon"

// bencher runs the measured pregon processes.
type bencher struct {
	ctx     context.Context
	dir     string // the bench's files: campaigns, CSVs, ledgers, shared rate
	exe     string // the pregon binary measured
	version string // its commit
	log     io.Writer
	stamps  string // where to save the fake's stamps of the rate rows; "": nowhere

	rateRows int       // rate rows measured
	rateCPU  []float64 // the CPU of those at the limit, shares of one core
	floorCPU float64   // the floor row's
}

func newBencher(ctx context.Context, dir, exe string, log io.Writer) (*bencher, error) {
	b := &bencher{ctx: ctx, dir: dir, exe: exe, log: log}
	if b.exe != "" {
		b.version = builtFrom(exe)
		return b, nil
	}
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Path}}\t{{.Dir}}").Output()
	path, root, _ := strings.Cut(strings.TrimSpace(string(out)), "\t")
	if err != nil || path != module {
		return nil, fmt.Errorf("find pregon's repository: run the bench from inside it, or give -pregon (go list -m: %q, %v)", path, err)
	}
	b.exe = filepath.Join(dir, "pregon")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", b.exe, ".")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, log, log
	fmt.Fprintf(log, "pregon-bench: go build -o %s %s\n", b.exe, root)
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build pregon: %w", err)
	}
	// The build stamps no commit where GOFLAGS has -buildvcs=false: ask git.
	b.version = "unknown"
	if out, err := exec.CommandContext(ctx, "git", "-C", root, "describe", "--always", "--dirty=+changes", "--abbrev=7").Output(); err == nil {
		b.version = strings.TrimSpace(string(out))
	}
	return b, nil
}

// builtFrom is the commit a pregon binary was built from ("2557e87",
// "2557e87+changes"), as its build recorded it, or "unknown".
func builtFrom(exe string) string {
	info, err := buildinfo.ReadFile(exe)
	if err != nil {
		return "unknown"
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "unknown"
	}
	rev = rev[:min(len(rev), 7)]
	if modified == "true" {
		rev += "+changes"
	}
	return rev
}

// child is a finished `pregon send` child process.
type child struct {
	wall    time.Duration
	cpu     time.Duration
	maxRSS  int64 // bytes
	started time.Time
	code    int
	stderr  string
}

// cpuShare is the child's CPU time as a share of one core over its run.
func (c child) cpuShare() string {
	return fmt.Sprintf("%.2f%% (%.2f s CPU in %.1f s)", 100*c.share(), c.cpu.Seconds(), c.wall.Seconds())
}

func (c child) share() float64 { return c.cpu.Seconds() / c.wall.Seconds() }

func (b *bencher) run(args ...string) (child, error) {
	c, _, err := b.runUntil("", args...)
	return c, err
}

// send sends a campaign of n contacts to the fake in a child process.
func (b *bencher) send(name string, n int, fake *sendertest.Server, extra ...string) (child, error) {
	args, err := b.sendArgs(name, n, 0, fake, extra...)
	if err != nil {
		return child{}, err
	}
	return b.sendChild(args)
}

// sendArgs writes a campaign named name of n contacts numbered from first,
// and returns the arguments that send it to the fake.
func (b *bencher) sendArgs(name string, n, first int, fake *sendertest.Server, extra ...string) ([]string, error) {
	camp, csv, err := b.files(name, n, first)
	if err != nil {
		return nil, err
	}
	return append([]string{"send", "-campaign", camp, "-contacts", csv, "-ledger", filepath.Join(b.dir, name+".db"),
		"-base-url", fake.URL}, extra...), nil
}

// sendChild runs one send, which must end as a send that went through
// does (stopped, when it was given a -max-duration).
func (b *bencher) sendChild(args []string) (child, error) {
	c, err := b.run(args...)
	if err == nil && c.code != exitOK && c.code != exitStopped {
		err = fmt.Errorf("send exit %d: %s", c.code, c.stderr)
	}
	return c, err
}

// sendTogether starts one send per args at once, and waits for them all.
func (b *bencher) sendTogether(args [][]string) ([]child, error) {
	children := make([]child, len(args))
	errs := make([]error, len(args))
	var wg sync.WaitGroup
	for i := range args {
		wg.Go(func() { children[i], errs[i] = b.sendChild(args[i]) })
	}
	wg.Wait()
	return children, errors.Join(errs...)
}

// runUntil runs pregon with args; when marker is not empty, it stops the
// child with SIGTERM once it writes a line containing marker to stderr,
// and returns how long after the start that came. Every child shares its
// rate (rateshare) in the bench's own folder, never the user's.
func (b *bencher) runUntil(marker string, args ...string) (child, time.Duration, error) {
	return b.runExe(b.exe, marker, args...)
}

func (b *bencher) runExe(exe, marker string, args ...string) (child, time.Duration, error) {
	cmd := exec.CommandContext(b.ctx, exe, args...)
	cmd.Env = append(os.Environ(), tokenEnv+"=bench", stateDirEnv+"="+filepath.Join(b.dir, "state"))
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return child{}, 0, err
	}
	c := child{started: time.Now()}
	if err := cmd.Start(); err != nil {
		return c, 0, err
	}
	var seen time.Duration
	var errb strings.Builder
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		errb.WriteString(sc.Text() + "\n")
		if marker != "" && seen == 0 && strings.Contains(sc.Text(), marker) {
			seen = time.Since(c.started)
			cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	err = cmd.Wait()
	c.wall, c.stderr = time.Since(c.started), errb.String()
	c.code = cmd.ProcessState.ExitCode()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return c, seen, err
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		c.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		c.maxRSS = ru.Maxrss * 1024
	}
	return c, seen, nil
}
