// Package synth makes large synthetic states for benchmarks: stored
// bookings by the million without going through the scheduler (Restore
// places them as stored, so they need not fit).
package synth

import (
	"fmt"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// Base is the first day of the synthetic bookings, as the bench's.
func Base(loc *time.Location) time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, loc) }

// Snapshot holds n bookings of the main trail, 1,000 a day from Base on,
// as internal/bench's recovery stores them: parties of 1 to 4 from 100
// operators, waves from 06:00 every slot to 14:45, at the route's gates in
// turn, created the day before.
func Snapshot(cfg *scheduler.Config, n int) scheduler.Snapshot {
	const perDay = 1000
	loc := cfg.Location()
	r, ok := cfg.Route("main")
	if !ok {
		panic("synth: the configuration has no route \"main\"")
	}
	snap := scheduler.Snapshot{Bookings: make([]scheduler.Booking, n)}
	slots := (15*60 - 6*60) / cfg.SlotMinutes
	for i := range n {
		day := Base(loc).AddDate(0, 0, i/perDay)
		m := 6*60 + (i%slots)*cfg.SlotMinutes
		created := day.Add(-12*time.Hour + time.Duration(i%perDay)*time.Second)
		snap.Bookings[i] = scheduler.Booking{
			ID: fmt.Sprintf("bk_r%08d", i), Operator: fmt.Sprintf("op-%03d", i%100), Date: day.Format(time.DateOnly),
			Route: r.ID, PartySize: 1 + i%4, Window: scheduler.Window{From: 6 * 60, To: 15 * 60},
			Slot: day.Add(time.Duration(m) * time.Minute), Gate: r.Gates[i%len(r.Gates)], Status: scheduler.StatusConfirmed,
			CreatedAt: created, UpdatedAt: created, Version: 1,
		}
	}
	return snap
}
