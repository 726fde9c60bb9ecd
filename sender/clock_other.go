//go:build !linux

package sender

import "time"

// bootClock is the wall clock at start where the time since boot is not
// at hand: processes started apart agree unless the clock stepped between
// their starts.
func bootClock(wall time.Time) int64 { return wall.UnixNano() }
