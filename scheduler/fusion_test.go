package scheduler

import (
	"testing"
	"time"
)

// TestLiveTakesALostBurstAndARebootAtOnce: a counter's totals are
// cumulative, so messages lost in a burst cost nothing once the next one
// arrives, and a counter that reboots and counts from zero again keeps
// what its old boot counted. Live must follow both at once — not drift
// towards them over the fusion's hour — and stay where the counters put it
// while nothing moves (docs/closed-loop.md, "Round three": in the
// simulator the lost burst and the reboot leave live within tolerance).
func TestLiveTakesALostBurstAndARebootAtOnce(t *testing.T) {
	s := New(petra(t))
	loc := s.cfg.Location()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, loc)
	read := func(at time.Time, sensor, boot string, seq uint64, in, out int64, want int) {
		t.Helper()
		res, _ := s.Apply(at, CounterReading{Sensor: sensor, Zone: "treasury", Boot: boot, Seq: seq, In: in, Out: out, At: at})
		if res.Counter != CounterApplied {
			t.Fatalf("%s %s seq %d at %s: %s (%v)", sensor, boot, seq, at.Format("15:04"), res.Counter, res.Err)
		}
		s.Apply(at, Tick{})
		if live, counted := s.Live("treasury"), s.Counted("treasury"); live != want || counted != want {
			t.Fatalf("after %s %s seq %d at %s: live %d, counted %d, want both %d", sensor, boot, seq, at.Format("15:04"), live, counted, want)
		}
	}
	read(t0, "treasury-1", "b1", 1, 100, 20, 80)
	read(t0, "treasury-2", "b1", 1, 50, 10, 120)
	// Seqs 2-6 of treasury-1 are lost; seq 7 carries everything.
	read(t0.Add(6*time.Minute), "treasury-1", "b1", 7, 180, 40, 180)
	// It sends its last totals, reboots and counts from zero again.
	read(t0.Add(7*time.Minute), "treasury-1", "b1", 8, 190, 45, 185)
	read(t0.Add(8*time.Minute), "treasury-1", "b2", 1, 4, 2, 187)
	// An hour with nothing moving: live stays the counters' figure.
	for now := t0.Add(9 * time.Minute); now.Before(t0.Add(70 * time.Minute)); now = now.Add(time.Minute) {
		s.Apply(now, Tick{})
		if live := s.Live("treasury"); live != 187 {
			t.Fatalf("%s: live %d with nothing moving, want 187", now.Format("15:04"), live)
		}
	}
}
