package sender

import (
	"math"
	"testing"
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
