package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionAndItsFlagSayTheSame(t *testing.T) {
	code, out, errOut := pregon(t, "version")
	if code != 0 || errOut != "" {
		t.Fatalf("version: exit %d, stderr %q", code, errOut)
	}
	goLine := "go: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if !strings.HasPrefix(out, "pregon ") || !strings.HasSuffix(out, goLine) {
		t.Errorf("version says %q", out)
	}
	for _, flag := range []string{"-version", "--version"} {
		if code, out2, _ := pregon(t, flag); code != 0 || out2 != out {
			t.Errorf("%s: exit %d, %q; want %q", flag, code, out2, out)
		}
	}
	if code, _, _ := pregon(t, "version", "extra"); code != exitUsage {
		t.Errorf("version with an argument: exit %d, want %d", code, exitUsage)
	}
}

// A release build's stamps (-ldflags -X) win over what the go command
// recorded.
func TestVersionStampedByTheRelease(t *testing.T) {
	old := [3]string{version, commit, date}
	t.Cleanup(func() { version, commit, date = old[0], old[1], old[2] })
	version, commit, date = "1.4.0", "3f2a9c1e0d5b7a8c9d0e1f2a3b4c5d6e7f8a9b0c", "2026-11-22T05:24:00Z"
	_, out, _ := pregon(t, "version")
	want := "pregon 1.4.0\n" +
		"commit: 3f2a9c1e0d5b7a8c9d0e1f2a3b4c5d6e7f8a9b0c\n" +
		"built: 2026-11-22T05:24:00Z\n" +
		"go: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestDescribeReadsTheBuildInfo(t *testing.T) {
	vcs := func(rev, when, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: when}, {Key: "vcs.modified", Value: modified}}
	}
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "pregon (devel)\ngo: X\n"},
		{"go install of a tag", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}},
			"pregon v1.4.0\ngo: X\n"},
		{"a clean checkout", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261122052400-b9c73c1abcde"},
			Settings: vcs("b9c73c1abcdef", "2026-11-22T05:24:00Z", "false")},
			"pregon v0.0.0-20261122052400-b9c73c1abcde\ncommit: b9c73c1abcdef\ncommit date: 2026-11-22T05:24:00Z\ngo: X\n"},
		{"a modified checkout", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: vcs("b9c73c1abcdef", "2026-11-22T05:24:00Z", "true")},
			"pregon (devel)\ncommit: b9c73c1abcdef (with uncommitted changes)\ncommit date: 2026-11-22T05:24:00Z\ngo: X\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := describeBuild(tc.bi)
			b.Go = "X"
			if got := b.String(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
