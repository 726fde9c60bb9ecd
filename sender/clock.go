package sender

import "time"

// The window's times are a clock that every process on the machine shares
// and that a wall-clock step (a manual change, a late NTP sync) does not
// move: the time since boot where the system gives it (bootClock), else
// the wall clock read once at start. A time.Time taken with time.Now
// carries Go's monotonic reading, so Clock maps it onto that shared clock
// without looking at its wall time again: stepping the clock back an hour
// neither stalls a run for an hour nor, forward, lets a window's sends
// through again.
var (
	startWall = time.Now()
	startBoot = bootClock(startWall)
)

// Clock is t on the machine's shared clock, in nanoseconds.
func Clock(t time.Time) int64 { return startBoot + int64(t.Sub(startWall)) }
