package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/pregon/pregon/i18n"
)

// A release build stamps these (see .goreleaser.yaml):
//
//	go build -ldflags "-X main.version=1.4.0 -X main.commit=3f2a9c1… -X main.date=2026-11-22T05:24:00Z"
//
// Otherwise they come from what the go command recorded in the binary.
var (
	version string
	commit  string
	date    string
)

// build says which pregon this is.
type build struct {
	Version  string // "1.4.0", a module version, or "(devel)"
	Commit   string // the VCS revision, when known
	Modified bool   // built from a checkout with uncommitted changes
	Date     string // the build's time when stamped, else the commit's
	Stamped  bool   // Date is the build's time
	Go       string // the Go release and the target, "go1.26.8 windows/amd64"
}

// thisBuild describes the running binary.
func thisBuild() build {
	bi, _ := debug.ReadBuildInfo()
	b := describeBuild(bi)
	if version != "" {
		b.Version = version
	}
	if commit != "" {
		b.Commit, b.Modified = commit, false
	}
	if date != "" {
		b.Date, b.Stamped = date, true
	}
	b.Go = runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	return b
}

// describeBuild reads what the go command recorded: the main module's version
// (a tag, a pseudo-version, or "(devel)") and, when it built from a
// checkout, the revision, its time and whether the tree was modified.
func describeBuild(bi *debug.BuildInfo) build {
	b := build{Version: "(devel)"}
	if bi == nil {
		return b
	}
	if v := bi.Main.Version; v != "" {
		b.Version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.Date = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

func (b build) String() string {
	s := "pregon " + b.Version + "\n"
	if b.Commit != "" {
		s += "commit: " + b.Commit
		if b.Modified {
			s += " (with uncommitted changes)"
		}
		s += "\n"
	}
	switch {
	case b.Date != "" && b.Stamped:
		s += "built: " + b.Date + "\n"
	case b.Date != "":
		s += "commit date: " + b.Date + "\n"
	}
	return s + "go: " + b.Go + "\n"
}

// runVersion prints the build, in English whatever the language: it is
// what a bug report quotes.
func runVersion(_ context.Context, tr *i18n.Printer, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(tr, "version")
	if err := parseArgs(tr, fs, args, stderr); err != nil {
		if err == errHelp {
			fmt.Fprintln(stderr, tr.T("version.usage"))
		}
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pregon version: %s\n", tr.T("version.argument", fs.Arg(0)))
		return errUsage
	}
	fmt.Fprint(stdout, thisBuild())
	return nil
}
