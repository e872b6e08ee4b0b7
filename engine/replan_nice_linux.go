package engine

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// replanNice is the niceness of the thread that runs a re-plan's planner:
// on a machine with few cores, the kernel then gives the owner loop, the
// NATS server and the HTTP handlers the CPU first, and the planner what is
// left.
const replanNice = 10

// lowerPriority locks the calling goroutine to its thread and lowers that
// thread's priority. The goroutine must end without unlocking: its thread
// then ends with it, and no other goroutine ever runs at that priority.
func lowerPriority() {
	runtime.LockOSThread()
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), replanNice)
}
