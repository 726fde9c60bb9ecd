package rateshare

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/internal/testfs"
	"github.com/pregon/pregon/sender"
)

func open(t *testing.T, dir, campaign string, pid int) *Window {
	t.Helper()
	w, err := Open(dir, "api.example-5ca1ab1e", Run{PID: pid, Host: "h", Campaign: campaign, Started: time.Now()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// Two runs through one file hold the limit together: what one took counts
// for the other.
func TestRunsShareOneWindow(t *testing.T) {
	dir := testfs.TempDir(t)
	a, b := open(t, dir, "a", 1), open(t, dir, "b", 2)
	defer a.Close()
	defer b.Close()
	now := time.Now()
	for i := range 25 {
		w := a
		if i%2 == 1 {
			w = b
		}
		if _, wait, err := w.Take(now, 25); err != nil || wait > 0 {
			t.Fatalf("take %d: wait %s, %v", i, wait, err)
		}
	}
	for _, w := range []*Window{a, b} {
		if _, wait, _ := w.Take(now, 25); wait <= 0 {
			t.Errorf("a 26th send in the same second was admitted")
		}
		if n := w.Count(now); n != 25 {
			t.Errorf("count = %d, want 25", n)
		}
	}
	if _, wait, _ := a.Take(now.Add(time.Second+10*time.Millisecond), 25); wait > 0 {
		t.Errorf("a send a second later waits %s", wait)
	}
}

// A run learns of another within a heartbeat, and of its end at once; a
// run that dies without a word drops out within two seconds.
func TestLiveRuns(t *testing.T) {
	dir := testfs.TempDir(t)
	a := open(t, dir, "a", 1)
	defer a.Close()
	if n := len(a.Others()); n != 0 {
		t.Fatalf("others = %d, want 0", n)
	}
	b := open(t, dir, "b", 2)
	waitFor(t, func() bool { return len(a.Others()) == 1 && len(b.Others()) == 1 })
	if o := a.Others(); len(o) != 1 || o[0].Campaign != "b" || o[0].PID != 2 {
		t.Errorf("others = %+v", o)
	}
	b.Close()
	waitFor(t, func() bool { return len(a.Others()) == 0 })

	// A killed run: its entry stops being refreshed.
	c := open(t, dir, "c", 3)
	waitFor(t, func() bool { return len(a.Others()) == 1 })
	close(c.stop) // stops its heartbeat, as a kill would
	<-c.done
	c.f.Close()
	start := time.Now()
	waitFor(t, func() bool { return len(a.Others()) == 0 })
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("a dead run kept its share for %s", el)
	}
}

// A file cut short by a crash is read as a full window, never as an empty
// one that would let a second's sends through again.
func TestBrokenFileReadsAsFull(t *testing.T) {
	dir := testfs.TempDir(t)
	w := open(t, dir, "a", 1)
	defer w.Close()
	if err := os.WriteFile(w.path, []byte(`{"sends":[{"slot":1,"at":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, wait, err := w.Take(time.Now(), 25); err != nil || wait <= 0 {
		t.Errorf("take on a broken file: wait %s, %v", wait, err)
	}
}

// Every run to one host shares, whatever its token: the limit is the
// organization's, and v1 gives each channel a token of its own.
func TestKeyIsTheHost(t *testing.T) {
	k := Key("https://API.Brand.com/api")
	if !strings.HasPrefix(k, "api.brand.com-") {
		t.Errorf("key %q", k)
	}
	if Key("https://api.brand.com/v2") != k {
		t.Error("the path changed the key: the limit is the host's")
	}
	if Key("https://other.brand.com") == k {
		t.Error("two hosts share a key")
	}
	w, err := Open(testfs.TempDir(t), k, Run{PID: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	fi, err := os.Stat(w.path)
	if err != nil || filepath.Dir(w.path) == "" {
		t.Fatalf("file %s: %v", w.path, err)
	}
	// Windows has no mode bits: the folder's access list protects the file.
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("file %s: %v, want 0600", w.path, fi.Mode())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A run that allows itself fewer sends is not starved by one that allows
// more: each keeps to its own limit, together to the larger.
func TestASlowerRunIsNotStarved(t *testing.T) {
	dir := testfs.TempDir(t)
	fast, slow := open(t, dir, "a", 1), open(t, dir, "b", 2)
	defer fast.Close()
	defer slow.Close()
	now := time.Now()
	for i := range 20 {
		if _, wait, err := fast.Take(now, 25); err != nil || wait > 0 {
			t.Fatalf("fast take %d: wait %s, %v", i, wait, err)
		}
	}
	for i := range 5 {
		if _, wait, err := slow.Take(now, 5); err != nil || wait > 0 {
			t.Fatalf("slow take %d: wait %s, %v (the fast run's sends count against the slow one's own limit)", i, wait, err)
		}
	}
	if _, wait, _ := slow.Take(now, 5); wait <= 0 {
		t.Error("the slow run went past its own 5")
	}
	if _, wait, _ := fast.Take(now, 25); wait <= 0 {
		t.Error("together they went past 25")
	}
}

// The file is the JSON encoding/json writes, so every version reads it;
// it reads back as written, by hand or (for another spelling) through
// encoding/json, and a file cut short does not parse.
func TestFormat(t *testing.T) {
	s := state{Next: 7, Runs: map[string]Run{"vm/1/2": {PID: 1, Host: "vm", Campaign: "promo <b>", Seen: 42, Limit: 13}},
		Sends: sender.Sends{{Slot: 6, At: 100, Run: "vm/1/2"}, {Slot: 7, At: 200}}}
	data, err := encode(s)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := json.Marshal(s); string(data) != string(want) {
		t.Fatalf("encode:\n%s\nencoding/json:\n%s", data, want)
	}
	for _, spelling := range [][]byte{data, indented(t, s)} {
		got, err := decode(spelling)
		if err != nil || !reflect.DeepEqual(got, s) {
			t.Fatalf("decode = %+v, %v, want %+v\n%s", got, err, s, spelling)
		}
	}
	if _, ok := decodeFast(data); !ok {
		t.Error("encode's own spelling is not read by hand")
	}
	for _, empty := range []state{{}, {Runs: map[string]Run{}}} {
		data, _ := encode(empty)
		if got, err := decode(data); err != nil || len(got.Sends) != 0 || got.Next != 0 {
			t.Errorf("decode(%s) = %+v, %v", data, got, err)
		}
	}
	for cut := 1; cut < len(data); cut++ {
		if _, err := decode(data[:cut]); err == nil {
			t.Fatalf("a file cut at byte %d parses:\n%s", cut, data[:cut])
		}
	}
}

func indented(t *testing.T, s state) []byte {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A run that allows itself less than an even part (-rate 10 beside a run
// at 25) keeps all of it, and the other gets the rest: together, 25.
func TestShareLeavesTheRestToTheOthers(t *testing.T) {
	dir := testfs.TempDir(t)
	fast, slow := open(t, dir, "a", 1), open(t, dir, "b", 2)
	defer fast.Close()
	defer slow.Close()
	// Each says what it allows itself in a window at its first take.
	fast.Take(time.Now(), 25)
	slow.Take(time.Now(), 10)
	waitFor(t, func() bool { return len(fast.Others()) == 1 && fast.Others()[0].Limit == 10 && len(slow.Others()) == 1 })
	if f, s := fast.Share(25), slow.Share(10); f != 15 || s != 10 {
		t.Errorf("shares: fast %v, slow %v; want 15 and 10", f, s)
	}
}
