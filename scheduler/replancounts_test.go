package scheduler

import "testing"

// tally counts, from the bookings themselves after a re-plan, those the
// re-plan with reason moved (and of them, those now outside their window)
// and cancelled: what the closure's or cut's counts must say.
func tally(s *State, date, reason string) ReplanCounts {
	var c ReplanCounts
	for _, b := range s.Bookings("", date) {
		if b.Reason != reason {
			continue
		}
		d, _ := s.day(date)
		switch b.Status {
		case StatusRescheduled:
			c.Moved++
			if m := s.minuteOf(d, b.Slot); m < b.Window.From || m >= b.Window.To {
				c.OutOfWindow++
			}
		case StatusCancelled:
			c.Cancelled++
		}
	}
	return c
}

// TestClosureSaysHowManyBookingsMovedLeftTheirWindowOrWereCancelled: a
// closure and a capacity cut answer with what their re-plan did, in one
// pass and in steps, so that the command that made them can tell.
func TestClosureSaysHowManyBookingsMovedLeftTheirWindowOrWereCancelled(t *testing.T) {
	cfg := petra(t)
	sc := replanScenario{name: "counts", seed: 1, date: "2026-12-01", at: "11:00", until: "13:00", zones: floodZones}
	for _, step := range []int{0, 16} {
		t.Run(map[int]string{0: "one pass", 16: "in steps"}[step], func(t *testing.T) {
			s, now, cl := sc.build(t, cfg)
			s.SetReplanStep(step)
			res, _ := s.Apply(now, cl)
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			for res.Closure.Applying {
				res, _ = s.Apply(now, ApplyStep{Closure: cl.ID})
			}
			want := tally(s, sc.date, closureReasonPrefix+cl.Reason)
			if want.Moved == 0 || want.OutOfWindow == 0 || want.Cancelled == 0 {
				t.Fatalf("the scenario should move, move out of window and cancel: %+v", want)
			}
			if got := res.Closure.Replanned; got != want {
				t.Fatalf("closure says %+v, the bookings say %+v", got, want)
			}
			if got := s.Closures(now)[0].Replanned; got != want {
				t.Fatalf("recorded closure says %+v, want %+v", got, want)
			}
		})
	}
	t.Run("capacity cut", func(t *testing.T) {
		r, now := fullMorning(t)
		res := r.do(t, now, CutCapacity{ID: "cu1", Zone: "siq", Capacity: 300, Reason: "rain",
			Until: now.AddDate(0, 0, 3)})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		want := tally(r.s, "2026-12-01", cutReasonPrefix+"rain")
		if want.Moved+want.Cancelled == 0 {
			t.Fatalf("the cut should re-plan something: %+v", want)
		}
		if got := res.Cut.Replanned; got != want {
			t.Fatalf("cut says %+v, the bookings say %+v", got, want)
		}
	})
}
