//go:build linux

package bench

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestChildCPUCountsABusyChild: a child that spins is read at a good
// share of the wall time it ran (a shared machine gives it less than all
// of it), a sleeping one near zero: the replicated row's CPU a booking
// rests on it.
func TestChildCPUCountsABusyChild(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	busy := exec.Command("sh", "-c", "while :; do :; done")
	idle := exec.Command("sleep", "5")
	for _, c := range []*exec.Cmd{busy, idle} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { c.Process.Kill(); c.Wait() }()
	}
	time.Sleep(1200 * time.Millisecond)
	b, i := childCPU(busy.Process.Pid), childCPU(idle.Process.Pid)
	if b < 150*time.Millisecond {
		t.Errorf("a spinning child used %v of CPU in 1.2 s, want at least 0.15 s", b)
	}
	if i > 100*time.Millisecond {
		t.Errorf("a sleeping child used %v of CPU, want about none", i)
	}
	if childCPU(os.Getpid()) <= 0 {
		t.Errorf("this process's own CPU read as 0")
	}
}
