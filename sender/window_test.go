package sender

import (
	"math"
	"testing"
	"time"
)

// Runs that want less than an even part keep what they want; the others
// split the rest, and the parts never sum above the capacity.
func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		capacity float64
		wants    []float64
		parts    []float64
	}{
		{25, []float64{25}, []float64{25}},
		{25, []float64{25, 25}, []float64{12.5, 12.5}},
		{25, []float64{25, 10}, []float64{15, 10}},
		{25, []float64{5, 25, 25}, []float64{5, 10, 10}},
		{25, []float64{25, 20, 3}, []float64{11, 11, 3}},
		{25, []float64{4, 4}, []float64{4, 4}},
	} {
		sum := 0.0
		for i, want := range tc.parts {
			got := Split(tc.capacity, tc.wants, i)
			if math.Abs(got-want) > 1e-9 {
				t.Errorf("Split(%v, %v, %d) = %v, want %v", tc.capacity, tc.wants, i, got, want)
			}
			sum += got
		}
		if sum > tc.capacity+1e-9 {
			t.Errorf("Split(%v, %v): parts sum to %v", tc.capacity, tc.wants, sum)
		}
	}
}

// A send admitted but not yet written counts as being written now: its
// admission ages out of the window only once its write ended, so a request
// held back after its admission never lets another in less than a second
// before its own arrival.
func TestPendingSendCountsUntilWritten(t *testing.T) {
	var s Sends
	start := time.Now()
	for i := range 25 {
		if wait := s.Take(start, 25, 25, "a", uint64(i+1)); wait > 0 {
			t.Fatalf("take %d: wait %v", i, wait)
		}
	}
	later := start.Add(1100 * time.Millisecond) // past the window of the admissions
	if wait := s.Take(later, 25, 25, "a", 26); wait <= 0 {
		t.Fatal("a 26th was admitted while the 25 were still being written")
	}
	for i := range 25 {
		s.Written(uint64(i+1), start.Add(time.Millisecond))
	}
	if wait := s.Take(later, 25, 25, "a", 27); wait > 0 {
		t.Errorf("once written a second ago, the 25 still hold the window: wait %v", wait)
	}
	if n := s.Count(later); n != 1 {
		t.Errorf("count = %d, want the 27th alone", n)
	}
}
