package sender

import (
	"time"

	"golang.org/x/sys/unix"
)

// bootClock is the time since boot (CLOCK_BOOTTIME: it counts suspend
// too, and no wall-clock change moves it).
func bootClock(wall time.Time) int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return wall.UnixNano()
	}
	return ts.Nano()
}
