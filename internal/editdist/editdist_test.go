package editdist

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"contacts", "contacts", 0}, {"contact", "contacts", 1},
		{"delivery_ordr", "delivery_order", 1}, {"ñandú", "nandu", 2}, {"abc", "", 3}, {"ab", "ba", 2},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
