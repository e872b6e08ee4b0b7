//go:build unix

package bench

import (
	"syscall"
	"time"
)

// processCPU is the process's user and system CPU time so far (0 where
// it cannot be read): on a shared machine it tells what a figure cost
// this process, whatever else runs.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
