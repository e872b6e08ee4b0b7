//go:build unix

package scheduler_test

import "syscall"

// cpuSeconds is the process's user and system CPU time: on a shared
// machine the benchmarks report it beside the wall time, which depends
// on what else runs.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
