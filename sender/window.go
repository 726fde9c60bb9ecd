package sender

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"
)

// windowSlack is added to the one-second window the hard limit is checked
// over, so that a request's travel time to the platform, which varies by a
// millisecond or so on a loaded machine, cannot put one request too many
// into the platform's window. It costs rate: 25 requests per 1.003 s is
// 24.93/s, above the 24.9/s target with a little room.
const windowSlack = 3 * time.Millisecond

// Window is the record of recent sends that the hard limit is checked
// against: a run's own (LocalWindow), or one shared by every run on the
// machine that sends to the same API (the organization's limit is one).
type Window interface {
	// Take records a send at now when fewer than n sends are in the
	// window before it, and returns its slot; otherwise it returns how
	// long to wait before asking again.
	Take(now time.Time, n int) (slot uint64, wait time.Duration, err error)
	// Written moves a slot's time to t, the end of the request's write,
	// and returns how many sends the window holds in the second up to t
	// (this one included): what the platform's count at this request's
	// arrival can be compared with.
	Written(slot uint64, t time.Time) int
	// Share is this run's part of the rate, for a run that would send
	// at want requests per second alone: want itself in a window of its
	// own; with other runs, want split with them so that the sum stays
	// within what the most ambitious run would send alone, a run that wants
	// less than an even part (a -rate 10 beside a 25) leaving the rest to
	// the others.
	Share(want float64) float64
}

// Split is the water-filling split of capacity between runs that want
// wants (each at most its want, the smaller wants filled first, the rest
// evenly): the part of the run at index own.
func Split(capacity float64, wants []float64, own int) float64 {
	order := make([]int, len(wants))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(wants[a], wants[b]) })
	left := capacity
	for k, i := range order {
		part := math.Min(wants[i], left/float64(len(order)-k))
		if i == own {
			return part
		}
		left -= part
	}
	return 0
}

// Send is one request in a window: when it was written (or admitted, until
// it was), which run sent it, and a slot number to find it again.
//
// Until its write ends (Written), a send is Pending, and counts as if it
// were being written at every moment the window is checked: a request
// admitted, then held back by the scheduler before its bytes left, would
// otherwise age out of the window from its admission, and let another
// request in less than a second before its own arrival. A pending send
// that is never written (its process died) leaves with the others, two
// seconds after its admission.
type Send struct {
	Slot    uint64 `json:"slot"`
	At      int64  `json:"at"` // on the shared Clock
	Run     string `json:"run,omitempty"`
	Pending bool   `json:"pending,omitempty"`
}

// time is when the send counts as made, checked at: its write's end, or
// at itself while it is pending.
func (x Send) time(at int64) int64 {
	if x.Pending {
		return max(x.At, at)
	}
	return x.At
}

// Sends are the recent sends of a window; the methods implement the
// window's rules for any storage (memory, or a file shared by processes).
type Sends []Send

// Take records a send of run at now, with the given slot, when fewer than
// n of run's own sends and fewer than total of all sends are within a
// second (plus windowSlack) before now; otherwise it returns how long until
// enough of them leave the window. Sends older than two seconds are
// dropped. Each run keeps to its own limit, and together they keep to the
// largest (a run at -rate 5 beside one at 25 is not starved by it).
func (s *Sends) Take(now time.Time, n, total int, run string, slot uint64) (wait time.Duration) {
	at := Clock(now)
	s.prune(at)
	from := at - int64(time.Second+windowSlack)
	var all, own []int64
	for _, x := range *s {
		if t := x.time(at); t > from {
			all = append(all, t)
			if x.Run == run {
				own = append(own, t)
			}
		}
	}
	if len(own) < n && len(all) < max(n, total) {
		*s = append(*s, Send{Slot: slot, At: at, Run: run, Pending: true})
		return 0
	}
	return max(leaves(own, n, at), leaves(all, max(n, total), at), time.Millisecond)
}

// leaves is how long until fewer than n of the times are in the window.
func leaves(in []int64, n int, at int64) time.Duration {
	if len(in) < n {
		return 0
	}
	slices.Sort(in)
	// The oldest len(in)-n+1 must leave before one more fits.
	return time.Duration(in[len(in)-n] + int64(time.Second+windowSlack) - at)
}

// Written moves the slot's time to t, when t is later, and ends its
// pending.
func (s Sends) Written(slot uint64, t time.Time) {
	at := Clock(t)
	for i := range s {
		if s[i].Slot == slot {
			s[i].At, s[i].Pending = max(s[i].At, at), false
		}
	}
}

// Count is how many sends are in the second up to t, pending ones
// included.
func (s Sends) Count(t time.Time) int {
	to := Clock(t)
	from := to - int64(time.Second)
	n := 0
	for _, x := range s {
		if at := min(x.time(to), to); at > from && at <= to {
			n++
		}
	}
	return n
}

func (s *Sends) prune(at int64) {
	old := at - int64(2*time.Second)
	*s = slices.DeleteFunc(*s, func(x Send) bool { return x.At < old })
}

// LocalWindow is a run's own window, in memory.
type LocalWindow struct {
	mu    sync.Mutex
	sends Sends
	next  uint64
}

// Take implements Window.
func (w *LocalWindow) Take(now time.Time, n int) (uint64, time.Duration, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.next++
	return w.next, w.sends.Take(now, n, n, "", w.next), nil
}

// Written implements Window.
func (w *LocalWindow) Written(slot uint64, t time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sends.Written(slot, t)
	return w.sends.Count(t)
}

// Count implements Window.
func (w *LocalWindow) Count(t time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sends.Count(t)
}

// Share implements Window: a local window has one run.
func (w *LocalWindow) Share(want float64) float64 { return want }
