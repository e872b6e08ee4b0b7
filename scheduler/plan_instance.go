package scheduler

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// DayInstance builds the planning instance of reqs on date at now from a
// copy of the day's capacity picture. A request whose id is an active,
// not yet admitted booking of the same operator on that date re-plans it:
// the booking's load is lifted off the copy (if the plan leaves it
// unplaced, the caller decides whether to cancel it or keep it where it
// was). Errors are *Error with CodeInvalid or CodeConflict; the state is
// never changed. The instance shares nothing with the state, so
// PlanInstance may run on it outside the goroutine that owns the state.
func (s *State) DayInstance(now time.Time, date string, reqs []PlanRequest) (Instance, error) {
	base, err := time.ParseInLocation(time.DateOnly, date, s.cfg.Location())
	if err != nil {
		return Instance{}, errorf(CodeInvalid, "date", "date %q is not a date of the form YYYY-MM-DD", date)
	}
	seen := make(map[string]int, len(reqs))
	for i, q := range reqs {
		field := func(f string) string { return fmt.Sprintf("requests[%d].%s", i, f) }
		if q.ID == "" {
			return Instance{}, errorf(CodeInvalid, field("id"), "request %d has no id (accepted: a unique non-empty id)", i)
		}
		if j, dup := seen[q.ID]; dup {
			return Instance{}, errorf(CodeInvalid, field("id"), "request id %q is repeated (requests %d and %d)", q.ID, j, i)
		}
		seen[q.ID] = i
		if q.Operator == "" {
			return Instance{}, errorf(CodeInvalid, field("operator"), "request %q has no operator", q.ID)
		}
		if _, ok := s.cfg.Route(q.Route); !ok {
			return Instance{}, errorf(CodeInvalid, field("route"), "request %q: unknown route %q (known: %s)", q.ID, q.Route, s.cfg.routeList())
		}
		if q.PartySize < 1 || q.PartySize > s.cfg.Policy.MaxPartySize {
			return Instance{}, errorf(CodeInvalid, field("party_size"), "request %q: party_size %d is out of range: a group has 1 to %d visitors", q.ID, q.PartySize, s.cfg.Policy.MaxPartySize)
		}
		if e := s.validWindow(q.Window); e != nil {
			e.Field = field("window")
			e.Message = fmt.Sprintf("request %q: %s", q.ID, e.Message)
			return Instance{}, e
		}
		if q.Preferred < 0 || q.Preferred > 24*60 {
			return Instance{}, errorf(CodeInvalid, field("preferred"), "request %q: preferred %d is out of range (accepted: minutes after midnight, 0 to 1440; 0 for the window's start)", q.ID, q.Preferred)
		}
	}

	d, _ := s.existingOrTemp(date) // a new day's empty picture is not kept
	dc := d.cloneForPlan()
	for i, q := range reqs {
		b, ok := s.bookings.peek(q.ID)
		if !ok {
			continue
		}
		switch {
		case b.Operator != q.Operator:
			return Instance{}, errorf(CodeConflict, fmt.Sprintf("requests[%d].id", i), "request id %q is a booking of another operator", q.ID)
		case b.Date != date:
			return Instance{}, errorf(CodeConflict, fmt.Sprintf("requests[%d].id", i), "request id %q is a booking on %s, not %s", q.ID, b.Date, date)
		case b.Admitted > 0:
			return Instance{}, errorf(CodeConflict, fmt.Sprintf("requests[%d].id", i), "request id %q is a booking with %d visitors admitted; it cannot be re-planned", q.ID, b.Admitted)
		case b.Active():
			s.add(dc, b.Operator, b.Route, b.Gate, s.minuteOf(dc, b.Slot), -b.PartySize)
		}
	}

	share := 1 - s.cfg.Policy.WalkInShare
	inst := Instance{
		Date:                base,
		SlotMinutes:         s.cfg.SlotMinutes,
		Resolution:          s.res,
		Horizon:             dayMinutes,
		OperatorDayCapacity: floorShare(dc.entries, s.cfg.Policy.OperatorDayShare),
		OperatorDayLoad:     maps.Clone(dc.opDay),
		Requests:            slices.Clone(reqs),
	}
	for _, g := range s.cfg.Gates {
		inst.Gates = append(inst.Gates, PlanGate{
			ID: g.ID, Capacity: g.WaveCapacity,
			OperatorCapacity:     floorShare(g.WaveCapacity, share),
			OperatorWaveCapacity: floorShare(g.WaveCapacity, s.cfg.Policy.OperatorWaveShare),
			Load:                 ints(dc.wave[g.ID]), OperatorLoad: ints(dc.waveOp[g.ID]),
		})
	}
	for _, z := range s.cfg.Zones {
		inst.Zones = append(inst.Zones, PlanZone{
			ID: z.ID, Capacity: z.Capacity, OperatorCapacity: floorShare(z.Capacity, share),
			Load: ints(dc.zone[z.ID]), OperatorLoad: ints(dc.zoneOp[z.ID]),
		})
	}
	for k, v := range dc.opWave {
		inst.OperatorWaveLoad = append(inst.OperatorWaveLoad, OperatorWaveLoad{Operator: s.bookings.names[k.op], Gate: s.cfg.Gates[k.gate].ID, Slot: int(k.slot), Visitors: int(v)})
	}
	slices.SortFunc(inst.OperatorWaveLoad, func(a, b OperatorWaveLoad) int {
		return cmp.Or(cmp.Compare(a.Operator, b.Operator), cmp.Compare(a.Gate, b.Gate), cmp.Compare(a.Slot, b.Slot))
	})
	earliest := s.earliestMinute(dc, now)
	for i := range s.cfg.Routes {
		r := &s.cfg.Routes[i]
		pr := PlanRoute{ID: r.ID, Gates: slices.Clone(r.Gates), Stops: slices.Clone(r.Stops)}
		for _, m := range s.routeSlots(dc.base, r) {
			if m >= earliest && !s.closedFor(dc, r, m) {
				pr.Entries = append(pr.Entries, m)
			}
		}
		inst.Routes = append(inst.Routes, pr)
	}
	return inst, nil
}

// cloneForPlan is a deep copy of the day's capacity picture.
func (d *day) cloneForPlan() *day {
	c := &day{date: d.date, base: d.base, entries: d.entries,
		zone: map[string][]int32{}, zoneOp: map[string][]int32{},
		wave: map[string][]int32{}, waveOp: map[string][]int32{},
		opDay: maps.Clone(d.opDay), opWave: maps.Clone(d.opWave)}
	for k, v := range d.zone {
		c.zone[k] = slices.Clone(v)
	}
	for k, v := range d.zoneOp {
		c.zoneOp[k] = slices.Clone(v)
	}
	for k, v := range d.wave {
		c.wave[k] = slices.Clone(v)
	}
	for k, v := range d.waveOp {
		c.waveOp[k] = slices.Clone(v)
	}
	return c
}

func ints(xs []int32) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}
