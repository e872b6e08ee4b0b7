package scheduler

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// pendingReplan is a job taken (ReplanJobs) and planned, not yet applied.
type pendingReplan struct {
	job  ReplanJob
	plan *PlanResult
}

// TestOffLoopReplanProperty: the interleavings of TestCutsKeepLoadsProperty
// (bookings, changes, cancellations, admissions, holds, closures, cuts and
// lifts, time moving on), with every closure and cut re-planned off the
// loop: its jobs are taken at random moments, and their plans applied
// later, in any order, in parts, twice, or never (first come then). Every
// command of the re-plan reports each booking it changes with an event and
// the closure's or cut's reason; once every re-plan is whole, no zone or
// wave holds more than the capacity in force but for admitted groups, no
// booking meets a closure not reopened that could still be moved, and every booking
// acknowledged is there, as its last report says.
func TestOffLoopReplanProperty(t *testing.T) {
	cfg := midnightPetra(t)
	rapid.Check(t, func(rt *rapid.T) {
		start := time.Date(2026, 11, 30, 5, 0, 0, 0, cfg.Location())
		s := New(cfg)
		s.SetReplanOffLoop(true)
		g := &interleaving{cfg: cfg, s: s, now: start, cuts: map[string]CapacityCut{},
			dates: []string{"2026-11-30", "2026-12-01", "2026-12-02"}}
		known := map[string]Booking{} // as last reported to a caller or by an event
		var pending []pendingReplan
		apply := func(c Command) Result {
			res, effects := s.Apply(g.now, c)
			if res.Cut != nil {
				g.cuts[res.Cut.ID] = *res.Cut
			}
			reported := map[string]bool{}
			for _, ef := range effects {
				switch ef := ef.(type) {
				case PutBooking:
					known[ef.Booking.ID] = ef.Booking
				case Event:
					if b, ok := ef.Data.(Booking); ok {
						reported[b.ID] = true
					}
				}
			}
			if _, ok := c.(ApplyReplan); !ok {
				return res
			}
			for _, ef := range effects {
				pb, ok := ef.(PutBooking)
				if !ok {
					continue
				}
				b := pb.Booking
				if !reported[b.ID] {
					rt.Fatalf("%+v changed booking %s without an event", c, b.ID)
				}
				if !strings.HasPrefix(b.Reason, closureReasonPrefix) && !strings.HasPrefix(b.Reason, cutReasonPrefix) {
					rt.Fatalf("%+v changed booking %s with reason %q", c, b.ID, b.Reason)
				}
			}
			return res
		}
		targets := func() []ApplyStep {
			closures, cuts := s.Applying()
			var out []ApplyStep
			for _, id := range closures {
				out = append(out, ApplyStep{Closure: id})
			}
			for _, id := range cuts {
				out = append(out, ApplyStep{Cut: id})
			}
			return out
		}
		take := func(st ApplyStep) {
			jobs, err := s.ReplanJobs(g.now, st, rapid.IntRange(1, 20000).Draw(rt, "budget"))
			if err != nil {
				rt.Fatalf("jobs of %+v: %v", st, err)
			}
			for _, j := range jobs {
				if j.Options.Iterations < replanMinIterations {
					rt.Fatalf("job %s of %+v: %d iterations", j.Date, st, j.Options.Iterations)
				}
				p := pendingReplan{job: j}
				if j.Err == nil && rapid.IntRange(0, 5).Draw(rt, "planned") > 0 {
					res, err := PlanInstance(j.Instance, PlanOptions{Iterations: -1})
					if err != nil {
						rt.Fatalf("plan of %s: %v", j.Date, err)
					}
					p.plan = &res
				}
				pending = append(pending, p)
			}
		}
		steps := rapid.IntRange(1, 60).Draw(rt, "steps")
		for range steps {
			switch k := rapid.IntRange(0, 9).Draw(rt, "what"); {
			case k < 2 && len(targets()) > 0:
				take(rapid.SampledFrom(targets()).Draw(rt, "target"))
			case k < 4 && len(pending) > 0:
				i := rapid.IntRange(0, len(pending)-1).Draw(rt, "pending")
				p := pending[i]
				if rapid.Bool().Draw(rt, "keep") { // applied again later
					pending = slices.Delete(pending, i, i+1)
				}
				apply(ApplyReplan{Step: p.job.Step, Date: p.job.Date, Plan: p.plan, Max: rapid.IntRange(0, 3).Draw(rt, "max")})
			default:
				c := g.step(rt)
				if res := apply(c); res.Booking != nil && res.Err == nil {
					known[res.Booking.ID] = *res.Booking
				}
			}
		}
		// Whatever was taken and not applied, and every re-plan left, is
		// finished off the loop's way.
		for _, p := range pending {
			apply(ApplyReplan{Step: p.job.Step, Date: p.job.Date, Plan: p.plan})
		}
		for round := 0; len(targets()) > 0; round++ {
			if round == 3 {
				rt.Fatalf("still applying after three rounds of jobs: %+v", targets())
			}
			for _, st := range targets() {
				jobs, err := s.ReplanJobs(g.now, st, 0)
				if err != nil {
					rt.Fatal(err)
				}
				if len(jobs) == 0 {
					apply(ApplyReplan{Step: st})
				}
				for _, j := range jobs {
					apply(ApplyReplan{Step: st, Date: j.Date})
				}
			}
		}

		checkLoadsAgainstCuts(rt, s, g.cuts)
		for _, cl := range s.closures {
			if !cl.Lifted.IsZero() {
				// Reopened: what it blocked is no longer re-planned (and an
				// open-ended one's span reaches its lifting).
				continue
			}
			from, until := s.blockSpan(cl)
			for b := range s.bookings.view("", nil) {
				if s.hits(cl, from, until, b) {
					rt.Fatalf("booking %s (%s at %s) meets closure %s once every re-plan is whole", b.ID, b.Route, b.Slot.Format(time.DateTime), cl.ID)
				}
			}
		}
		for _, id := range slices.Sorted(maps.Keys(known)) {
			k, b := known[id], s.bookings.at(id)
			if b == nil {
				rt.Fatalf("acknowledged booking %s is gone", id)
			}
			if b.Gate != k.Gate || !b.Slot.Equal(k.Slot) || b.Status != k.Status || b.PartySize != k.PartySize {
				rt.Fatalf("booking %s is %s %s at %s, last reported %s %s at %s", id, b.Status, b.Gate, b.Slot, k.Status, k.Gate, k.Slot)
			}
		}
	})
}

// TestReplanJobsShareOneBudget: the jobs of a closure over several dates
// share the budget given in proportion to their groups, each within what
// one date gets in the loop.
func TestReplanJobsShareOneBudget(t *testing.T) {
	cfg := petraWith(t, func(*Config) {})
	s := New(cfg)
	s.SetReplanOffLoop(true)
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, cfg.Location())
	res, effects := closeThreeBookedDates(t, s, now)
	if res.Err != nil || !res.Closure.Applying {
		t.Fatalf("close: %v, applying %v", res.Err, res.Closure != nil && res.Closure.Applying)
	}
	for _, ef := range effects {
		if _, ok := ef.(PutBooking); ok {
			t.Fatal("the closure moved a booking in its own command")
		}
	}
	for _, tc := range []struct {
		budget int
		want   []int
	}{
		{60000, []int{10000, 20000, 30000}},
		{6000, []int{replanMinIterations, replanMinIterations, 3000}},
		{6000000, []int{10000, 20000, 30000}}, // each date at most replanIterations(its groups)
		{30000, []int{5000, 10000, 15000}},
	} {
		jobs, err := s.ReplanJobs(now, ApplyStep{Closure: "flood"}, tc.budget)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, j := range jobs {
			got = append(got, j.Options.Iterations)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("budget %d: iterations %v, want %v", tc.budget, got, tc.want)
		}
	}
}
