package rateshare

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pregon/pregon/sender"
)

// Intervals of the live-run registry.
const (
	heartbeat = 50 * time.Millisecond // how often a run refreshes its entry, and learns who else sends
	deadAfter = 1200 * time.Millisecond
)

// Run is one run sharing a window.
type Run struct {
	PID      int       `json:"pid"`
	Host     string    `json:"host"`
	Campaign string    `json:"campaign"`
	Started  time.Time `json:"started"`
	Seen     int64     `json:"seen"`            // its last heartbeat, on sender.Clock
	Limit    int       `json:"limit,omitempty"` // the sends it allows itself in a window
}

// state is the shared file's content.
type state struct {
	Sends sender.Sends   `json:"sends"`
	Runs  map[string]Run `json:"runs"`
	Next  uint64         `json:"next"` // the last slot handed out
}

// Window is a sender.Window shared through a file.
type Window struct {
	path string
	f    *os.File
	id   string // this run's key in the registry
	run  Run

	mu     sync.Mutex // one file operation at a time from this process
	others atomic.Pointer[[]Run]

	stop     chan struct{}
	done     chan struct{}
	left     sync.Once
	onChange func(others []Run)
}

var _ sender.Window = (*Window)(nil)

// Key names the window of an API: its host. The platform's limit is the
// organization's, and one organization's runs may use several tokens (v1
// gives each channel its own), so every run to one host shares; two
// organizations served by one machine and one host then share too, which
// costs speed, never a 429 storm.
func Key(baseURL string) string {
	host := baseURL
	if u, err := url.Parse(baseURL); err == nil && u.Host != "" {
		host = strings.ToLower(u.Host)
	}
	sum := sha256.Sum256([]byte("pregon rate share\x00" + host))
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, host)
	return safe + "-" + hex.EncodeToString(sum[:4])
}

// Dir is where the windows live: PREGON_STATE_DIR, else pregon's folder in
// the user's cache directory.
func Dir() (string, error) {
	if d := os.Getenv("PREGON_STATE_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the cache directory: %w", err)
	}
	return filepath.Join(base, "pregon"), nil
}

// Open joins the window of key in dir as run, and keeps its entry alive
// until Close. onChange, if set, is told whenever the other live runs
// change (from a background goroutine).
func Open(dir, key string, run Run, onChange func(others []Run)) (*Window, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("rate share: %w", err)
	}
	path := filepath.Join(dir, "rate-"+key+".json")
	f, err := openFile(path)
	if err != nil {
		return nil, fmt.Errorf("rate share: %w", err)
	}
	w := &Window{path: path, f: f, run: run, onChange: onChange,
		id:   fmt.Sprintf("%s/%d/%d", strings.Join(strings.Fields(run.Host), "_"), run.PID, run.Started.UnixNano()),
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := w.beat(); err != nil {
		f.Close()
		return nil, err
	}
	go w.beatLoop()
	return w, nil
}

// Leave gives this run's share to the others at once: it sends nothing
// new (the window still counts what it sent, and any retry it makes).
func (w *Window) Leave() error {
	var err error
	w.left.Do(func() {
		close(w.stop)
		<-w.done
		err = w.update(func(s *state) { delete(s.Runs, w.id) })
	})
	return err
}

// Close leaves the window, if not yet, and closes its file.
func (w *Window) Close() error {
	return errors.Join(w.Leave(), w.f.Close())
}

// Take implements sender.Window over every run's sends.
func (w *Window) Take(now time.Time, n int) (slot uint64, wait time.Duration, err error) {
	err = w.update(func(s *state) {
		s.Next++
		slot = s.Next
		total := n
		for id, r := range s.Runs {
			if id == w.id {
				r.Limit = n
				s.Runs[id] = r
			}
			total = max(total, r.Limit)
		}
		wait = s.Sends.Take(now, n, total, w.id, slot)
	})
	return slot, wait, err
}

// Written implements sender.Window. A write that fails leaves the slot at
// its admission time, a few milliseconds early: the window's slack covers
// it.
func (w *Window) Written(slot uint64, t time.Time) int {
	n := 0
	_ = w.update(func(s *state) {
		s.Sends.Written(slot, t)
		n = s.Sends.Count(t)
	})
	return n
}

// Count implements sender.Window: every run's sends in the second up to t.
func (w *Window) Count(t time.Time) int {
	var n int
	_ = w.view(func(s state) { n = s.Sends.Count(t) })
	return n
}

// Share implements sender.Window: the split of the rate between the live
// runs, each wanting what it allows itself in a window (a run that has
// not said yet wants as much as the most), within the most any of them
// allows itself.
func (w *Window) Share(want float64) float64 {
	others := w.Others()
	if len(others) == 0 {
		return want
	}
	capacity := want
	for _, r := range others {
		capacity = max(capacity, float64(r.Limit))
	}
	wants := []float64{want}
	for _, r := range others {
		if r.Limit > 0 {
			wants = append(wants, float64(r.Limit))
		} else {
			wants = append(wants, capacity)
		}
	}
	return sender.Split(capacity, wants, 0)
}

// Others is the other live runs, as of the last heartbeat.
func (w *Window) Others() []Run {
	if p := w.others.Load(); p != nil {
		return *p
	}
	return nil
}

func (w *Window) beatLoop() {
	defer close(w.done)
	t := time.NewTicker(heartbeat)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			_ = w.beat() // a missed beat only delays what others learn
		}
	}
}

// beat refreshes this run's entry, drops dead runs, and learns who else
// sends.
func (w *Window) beat() error {
	now := time.Now()
	var others []Run
	err := w.update(func(s *state) {
		if s.Runs == nil {
			s.Runs = map[string]Run{}
		}
		run := w.run
		run.Seen = sender.Clock(now)
		run.Limit = s.Runs[w.id].Limit
		s.Runs[w.id] = run
		for id, r := range s.Runs {
			switch {
			case time.Duration(run.Seen-r.Seen) > deadAfter:
				delete(s.Runs, id)
			case id != w.id:
				others = append(others, r)
			}
		}
	})
	if err != nil {
		return err
	}
	slices.SortFunc(others, func(a, b Run) int { return a.Started.Compare(b.Started) })
	old := w.Others()
	w.others.Store(&others)
	if w.onChange != nil && !sameRuns(old, others) {
		w.onChange(others)
	}
	return nil
}

func sameRuns(a, b []Run) bool {
	return slices.EqualFunc(a, b, func(x, y Run) bool {
		return x.PID == y.PID && x.Host == y.Host && x.Started.Equal(y.Started)
	})
}

// update reads the shared state under the file's lock, lets fn change it,
// and writes it back.
func (w *Window) update(fn func(*state)) error {
	return w.locked(func(s *state) bool { fn(s); return true })
}

// view reads the shared state under the file's lock.
func (w *Window) view(fn func(state)) error {
	return w.locked(func(s *state) bool { fn(*s); return false })
}

// locked runs fn on the state under the file's lock, and writes the state
// back when fn says so.
func (w *Window) locked(fn func(*state) (write bool)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := lockFile(w.f); err != nil {
		return fmt.Errorf("rate share: lock %s: %w", w.path, err)
	}
	defer unlockFile(w.f)
	s, err := w.read()
	if err != nil {
		return err
	}
	if !fn(&s) {
		return nil
	}
	return w.write(s)
}

// read loads the state. A file that is not valid (a write cut short by a
// crash) could hide sends of the last second: it is read as a full window
// instead, which costs at most one second's wait.
func (w *Window) read() (state, error) {
	data, err := io.ReadAll(io.NewSectionReader(w.f, 0, 1<<20))
	if err != nil {
		return state{}, fmt.Errorf("rate share: read %s: %w", w.path, err)
	}
	if len(data) == 0 {
		return state{}, nil
	}
	s, err := decode(data)
	if err != nil {
		s = state{}
		now := sender.Clock(time.Now())
		for i := range 1000 {
			s.Sends = append(s.Sends, sender.Send{Slot: uint64(i + 1), At: now})
		}
		s.Next = 1000
	}
	return s, nil
}

// write stores the state: over the old content first, then cut to size,
// so that a crash in between leaves a file that does not parse (read as a
// full window), never an empty one.
func (w *Window) write(s state) error {
	data, err := encode(s)
	if err != nil {
		return err
	}
	if _, err := w.f.WriteAt(data, 0); err != nil {
		return fmt.Errorf("rate share: write %s: %w", w.path, err)
	}
	if err := w.f.Truncate(int64(len(data))); err != nil {
		return fmt.Errorf("rate share: write %s: %w", w.path, err)
	}
	return nil
}
