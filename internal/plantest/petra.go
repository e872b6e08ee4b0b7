package plantest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// Day is a generated day to plan: a state (with its bookings and
// closures), the time of planning, the date and the requests. Plan it with
// Day.State.DayInstance(Day.Now, Day.Date, Day.Requests) and
// scheduler.PlanInstance, or State.PlanDay.
type Day struct {
	Name     string
	State    *scheduler.State
	Now      time.Time
	Date     string
	Requests []scheduler.PlanRequest
}

// DayKind selects what PetraDay generates.
type DayKind struct {
	Groups    int     // requests to plan
	PreBooked float64 // share of the groups booked first-come before planning
	Closure   bool    // a flood closes the Siq in the morning of the day itself
	Rockfall  bool    // a rockfall closes the Monastery and the High Place all day
	Replan    bool    // the requests re-plan the pre-booked groups too
	Summer    bool
}

// PetraDay generates a realistic Petra day from a seed: operators of
// unequal size, groups of 10 to 60 (coaches of 30 to 60 most of the time,
// at most 30 on the back trail), windows of one to three hours, most of
// them around the coaches' arrival between 09:00 and 10:00 (docs/PETRA.md), the
// rest spread over the day, a few walk-ins and Petra by Night groups on
// its evenings.
func PetraDay(cfg *scheduler.Config, seed uint64, k DayKind) Day {
	rng := rand.New(rand.NewPCG(seed, 0x7e77a))
	loc := cfg.Location()
	base := time.Date(2026, 11, 30, 0, 0, 0, 0, loc).AddDate(0, 0, int(seed%40))
	if k.Summer {
		base = time.Date(2027, 4, 10, 0, 0, 0, 0, loc).AddDate(0, 0, int(seed%40))
	}
	date := base.Format(time.DateOnly)
	evening := false
	if _, ok := cfg.EveningOn(base, "petra-by-night"); ok {
		evening = true
	}
	ops := []string{"op-petra-tours", "op-nabatean", "op-wadi-musa", "op-aqaba-coach", "op-amman-express", "op-desert-rose", "op-little-guides"}
	weights := []int{26, 20, 16, 13, 11, 8, 6}
	op := func() string {
		x := rng.IntN(100)
		for i, w := range weights {
			if x < w {
				return ops[i]
			}
			x -= w
		}
		return ops[0]
	}
	clampWin := func(from, to int) scheduler.Window {
		from = max(from/15*15, hm(6, 0))
		to = min(to/15*15, hm(16, 0))
		if to <= from {
			to = from + 15
		}
		return scheduler.Window{From: from, To: to}
	}
	var reqs []scheduler.PlanRequest
	for i := range k.Groups {
		q := scheduler.PlanRequest{ID: fmt.Sprintf("rq-%03d-%04d", seed, i), Operator: op()}
		switch x := rng.IntN(100); {
		case x < 55:
			q.Route = "main"
		case x < 77:
			q.Route = "monastery"
		case x < 88:
			q.Route = "high-place"
		case x < 97 || !evening:
			q.Route = "back-trail"
		default:
			q.Route = "petra-by-night"
		}
		if rng.IntN(100) < 65 {
			q.PartySize = 30 + rng.IntN(31) // a coach
		} else {
			q.PartySize = 10 + rng.IntN(20)
		}
		if rng.IntN(100) < 5 {
			q.Operator = scheduler.WalkInOperator
			q.PartySize = 10 + rng.IntN(11)
		}
		if q.Route == "back-trail" {
			q.PartySize = min(q.PartySize, 10+rng.IntN(21))
		}
		if q.Route == "petra-by-night" {
			q.Window = scheduler.Window{From: hm(18, 30), To: hm(20, 15)}
			q.Preferred = []int{hm(18, 45), hm(20, 0)}[rng.IntN(2)]
		} else {
			var pref int
			if rng.IntN(100) < 70 {
				pref = hm(9, 0) + 15*rng.IntN(5) // coaches arrive 09:00-10:00
			} else {
				pref = hm(6, 0) + 15*rng.IntN(29) // 06:00-13:00
			}
			span := 60 * (1 + rng.IntN(3))
			before := 15 * rng.IntN(span/15)
			q.Window = clampWin(pref-before, pref-before+span)
			q.Preferred = min(max(pref, q.Window.From), q.Window.To-15)
		}
		reqs = append(reqs, q)
	}
	s := scheduler.New(cfg)
	now := base.Add(-6 * time.Hour) // the day before, at 18:00: the cut-off
	var pre []scheduler.PlanRequest
	if k.PreBooked > 0 {
		n := int(float64(len(reqs)) * k.PreBooked)
		for _, q := range reqs[:n] {
			s.Apply(now.Add(-24*time.Hour), scheduler.Book{ID: q.ID, Operator: q.Operator, Request: scheduler.BookingRequest{
				Date: date, Route: q.Route, PartySize: q.PartySize, Window: q.Window}})
		}
		pre, reqs = reqs[:n], reqs[n:]
	}
	if k.Closure {
		// Late morning on the day: a flood warning closes the Siq, its
		// entrance and the Treasury until 13:00; the state re-plans what it
		// can, and the day's remaining requests are planned after it.
		now = base.Add(10*time.Hour + 30*time.Minute)
		s.Apply(now, scheduler.Close{ID: "flood-" + date, Zones: []string{"bab-al-siq", "siq", "treasury"}, Reason: "flood",
			Until: base.Add(13 * time.Hour)})
		for i := range reqs {
			reqs[i].Window = scheduler.Window{From: max(reqs[i].Window.From, hm(10, 30)), To: max(reqs[i].Window.To, hm(10, 30)+60*(1+i%4))}
			reqs[i].Preferred = max(reqs[i].Preferred, reqs[i].Window.From)
		}
	}
	if k.Rockfall {
		// The evening before: the trails to the Monastery and the High
		// Place are closed for the whole next day.
		s.Apply(now, scheduler.Close{ID: "rockfall-" + date, Zones: []string{"monastery", "high-place"}, Reason: "rockfall",
			Until: base.Add(24 * time.Hour)})
	}
	if k.Replan {
		for _, q := range pre {
			if b, ok := s.Booking("", q.ID); ok && b.Active() {
				reqs = append(reqs, q)
			}
		}
	}
	return Day{State: s, Now: now, Date: date, Requests: reqs}
}

// PetraDays are the generated days of the quality comparison: ordinary
// days, light and overbooked ones, days with first-come bookings already
// made, re-plans, closure days and summer days.
func PetraDays(cfg *scheduler.Config) []Day {
	var out []Day
	add := func(name string, seed uint64, k DayKind) {
		c := PetraDay(cfg, seed, k)
		c.Name = name
		out = append(out, c)
	}
	for i := range 10 {
		add(fmt.Sprintf("normal-%02d", i+1), uint64(101+i), DayKind{Groups: 260 + 8*i})
	}
	add("light-1", 201, DayKind{Groups: 180})
	add("light-2", 202, DayKind{Groups: 200})
	add("overbooked-1", 301, DayKind{Groups: 450})
	add("overbooked-2", 302, DayKind{Groups: 520})
	add("prebooked-1", 401, DayKind{Groups: 320, PreBooked: 0.3})
	add("prebooked-2", 402, DayKind{Groups: 300, PreBooked: 0.5})
	add("replan-1", 501, DayKind{Groups: 300, PreBooked: 0.4, Replan: true})
	add("closure-1", 601, DayKind{Groups: 330, PreBooked: 0.45, Closure: true})
	add("closure-2", 602, DayKind{Groups: 340, PreBooked: 0.3, Rockfall: true})
	add("summer-1", 701, DayKind{Groups: 320, Summer: true})
	add("summer-2", 702, DayKind{Groups: 380, Summer: true})
	add("summer-over", 703, DayKind{Groups: 460, Summer: true})
	return out
}

func hm(h, m int) int { return h*60 + m }
