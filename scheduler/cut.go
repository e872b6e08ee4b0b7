package scheduler

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"
)

// Capacity cuts. Operations lower a zone's capacity (rain makes the Siq
// slippery, works narrow the path) or a gate's wave capacity (fewer staff)
// for a span of time, without closing it: admissions go on, but allotment
// keeps under the lower figure, and the bookings already over it are
// re-planned like those of a closure (moved, or cancelled if nothing is
// left), with the cut's reason.
//
// A cut is kept in each day's picture as phantom load: the difference
// between the configured capacity and the cut one is added to the zone's
// (or wave's) load while the cut is in force, and its operators' part to
// the operators' load. room(), the day planner and every capacity check
// then see the lower capacity without knowing about cuts; the readers that
// report booked visitors (planned occupancy, availability, wave events)
// take the phantom back out.

// CapacityCut lowers the capacity of one zone or one gate's waves from
// From until Until, or until it is lifted.
type CapacityCut struct {
	ID       string    `json:"id"`
	Zone     string    `json:"zone,omitempty"`
	Gate     string    `json:"gate,omitempty"`
	Capacity int       `json:"capacity"` // visitors at once (zone) or a wave (gate) while in force
	Reason   string    `json:"reason"`
	Source   string    `json:"source,omitempty"`
	From     time.Time `json:"from"`
	Until    time.Time `json:"until"`
	Lifted   time.Time `json:"lifted,omitzero"`
	// Applying: in force, its re-plan still being applied in steps (see
	// stepped.go); false once whole.
	Applying bool `json:"applying,omitempty"`
	// Replanned counts what its re-plan did with the bookings over it so
	// far (whole once Applying is false).
	Replanned ReplanCounts `json:"replanned"`
}

// Active reports whether the cut is in force at t.
func (c *CapacityCut) Active(t time.Time) bool {
	return !t.Before(c.From) && t.Before(c.Until) && (c.Lifted.IsZero() || t.Before(c.Lifted))
}

// end is when the cut stops lowering capacity.
func (c *CapacityCut) end() time.Time {
	if !c.Lifted.IsZero() && c.Lifted.Before(c.Until) {
		return c.Lifted
	}
	return c.Until
}

// CutCapacity lowers a zone's capacity or a gate's wave capacity (exactly
// one of Zone and Gate) to Capacity from From (zero: now) until Until.
type CutCapacity struct {
	ID       string
	Zone     string
	Gate     string
	Capacity int
	From     time.Time
	Until    time.Time
	Reason   string
	Source   string
}

// LiftCut ends a capacity cut now; the bookings it moved stay where they
// are.
type LiftCut struct{ ID string }

// PutCut persists a capacity cut.
type PutCut struct{ Cut CapacityCut }

func (CutCapacity) isCommand() {}
func (LiftCut) isCommand()     {}
func (PutCut) isEffect()       {}

// cutReasonPrefix marks the bookings a cut moved or cancelled.
const cutReasonPrefix = "capacity cut: "

// EventCapacityCut and EventCapacityRestored are published when a cut
// starts to apply and when it is lifted.
const (
	EventCapacityCut      = "capacity.cut"
	EventCapacityRestored = "capacity.restored"
)

// dayCuts is the phantom load of the cuts on one day's picture.
type dayCuts struct {
	zone, zoneOp map[string][]int32 // zone → per bucket
	wave, waveOp map[string][]int32 // gate → per slot
}

func (s *State) cut(now time.Time, c CutCapacity) (Result, []Effect) {
	if c.ID == "" {
		return Result{Err: errorf(CodeInvalid, "id", "a capacity cut needs an id")}, nil
	}
	if _, dup := s.cuts[c.ID]; dup {
		return Result{Err: errorf(CodeConflict, "id", "capacity cut %q exists", c.ID)}, nil
	}
	var configured int
	switch {
	case (c.Zone == "") == (c.Gate == ""):
		return Result{Err: errorf(CodeInvalid, "zone", "a capacity cut lowers one zone or one gate: give exactly one of zone (known: %s) and gate (known: %s)",
			s.cfg.zoneList(), s.cfg.gateList())}, nil
	case c.Zone != "":
		z, ok := s.cfg.Zone(c.Zone)
		if !ok {
			return Result{Err: errorf(CodeInvalid, "zone", "unknown zone %q (known: %s)", c.Zone, s.cfg.zoneList())}, nil
		}
		configured = z.Capacity
	default:
		g, ok := s.cfg.Gate(c.Gate)
		if !ok {
			return Result{Err: errorf(CodeInvalid, "gate", "unknown gate %q (known: %s)", c.Gate, s.cfg.gateList())}, nil
		}
		configured = g.WaveCapacity
	}
	if c.Capacity < 1 || c.Capacity >= configured {
		return Result{Err: errorf(CodeInvalid, "capacity", "capacity %d is not a cut of %d (accepted: 1 to %d; to stop admissions, close the zone instead)",
			c.Capacity, configured, configured-1)}, nil
	}
	if c.Reason == "" {
		return Result{Err: errorf(CodeInvalid, "reason", "a capacity cut needs a reason (e.g. \"rain: slippery path\")")}, nil
	}
	from := c.From
	if from.IsZero() || from.Before(now) {
		from = now
	}
	if c.Until.IsZero() || !c.Until.After(from) {
		return Result{Err: errorf(CodeInvalid, "until", "a capacity cut needs an end after its start %s (until, RFC 3339); lift it earlier if need be",
			from.Format(time.RFC3339))}, nil
	}
	if last := s.today(now).AddDate(0, 0, s.cfg.Policy.BookingDaysAhead+2); c.Until.After(last) {
		return Result{Err: errorf(CodeInvalid, "until", "until %s is beyond the booking period (at most %s)", c.Until.Format(time.RFC3339), last.Format(time.DateOnly))}, nil
	}
	cu := &CapacityCut{ID: c.ID, Zone: c.Zone, Gate: c.Gate, Capacity: c.Capacity, Reason: c.Reason, Source: c.Source,
		From: from, Until: c.Until}
	s.cuts[cu.ID] = cu
	touched := s.refreshCuts(cu)
	hits := make([][]*Booking, len(touched))
	var all []*Booking
	for i, d := range touched {
		hits[i] = s.overCut(d, cu)
		all = append(all, hits[i]...)
	}
	if s.stepped(all) {
		// Too many to re-plan in one turn: the lower capacity is in force at
		// once and the cut recorded as applying; ApplyStep re-plans the rest.
		cu.Applying = true
		s.queueCut(cu, all)
	}
	var replanned []Effect
	reason := cutReasonPrefix + cu.Reason
	for i, d := range touched {
		if len(hits[i]) > 0 && !cu.Applying {
			e, n := s.replanDate(now, d.date, hits[i], reason)
			replanned = append(replanned, e...)
			cu.Replanned.add(n)
		}
	}
	effects := append([]Effect{PutCut{*cu}, Event{Kind: EventCapacityCut, At: now, Data: *cu}}, replanned...)
	out := *cu
	return Result{Cut: &out}, effects
}

func (s *State) liftCut(now time.Time, c LiftCut) (Result, []Effect) {
	cu, ok := s.cuts[c.ID]
	if !ok {
		return Result{Err: errorf(CodeNotFound, "id", "no capacity cut %q", c.ID)}, nil
	}
	if !cu.Lifted.IsZero() || !now.Before(cu.Until) {
		return Result{Err: errorf(CodeConflict, "id", "capacity cut %q has ended", c.ID)}, nil
	}
	cu.Lifted = now
	s.refreshCuts(cu)
	out := *cu
	return Result{Cut: &out}, []Effect{PutCut{*cu}, Event{Kind: EventCapacityRestored, At: now, Data: *cu}}
}

// refreshCuts recomputes the phantom load of every day in memory the
// cut's span meets and returns those days, by date.
func (s *State) refreshCuts(cu *CapacityCut) []*day {
	var out []*day
	for _, date := range slices.Sorted(maps.Keys(s.days)) {
		d := s.days[date]
		if s.at(d, 0).Before(cu.Until) && s.at(d, dayMinutes).After(cu.From) {
			s.applyCuts(d)
			out = append(out, d)
		}
	}
	// Days not in memory hold no booking; they get their phantom load
	// when they are made (State.day).
	return out
}

// applyCuts replaces the day's phantom load by that of the cuts in force
// on it.
func (s *State) applyCuts(d *day) {
	d.over = nil
	if d.cuts != nil {
		addPhantom(d.zone, d.cuts.zone, -1)
		addPhantom(d.zoneOp, d.cuts.zoneOp, -1)
		addPhantom(d.wave, d.cuts.wave, -1)
		addPhantom(d.waveOp, d.cuts.waveOp, -1)
		d.cuts = nil
	}
	if len(s.cuts) == 0 {
		return
	}
	share := 1 - s.cfg.Policy.WalkInShare
	var dc *dayCuts
	ensure := func() {
		if dc == nil {
			dc = &dayCuts{zone: map[string][]int32{}, zoneOp: map[string][]int32{}, wave: map[string][]int32{}, waveOp: map[string][]int32{}}
		}
	}
	// Several cuts of one zone: the lowest capacity applies.
	zoneCap := map[string][]int32{}
	waveCap := map[string][]int32{}
	for _, id := range slices.Sorted(maps.Keys(s.cuts)) {
		cu := s.cuts[id]
		from, until := cu.From, cu.end()
		if !until.After(from) || !s.at(d, 0).Before(until) || !s.at(d, dayMinutes).After(from) {
			continue
		}
		if cu.Zone != "" {
			z, _ := s.cfg.Zone(cu.Zone)
			caps := zoneCap[cu.Zone]
			if caps == nil {
				caps = make([]int32, dayMinutes/s.res)
				for i := range caps {
					caps[i] = int32(z.Capacity)
				}
				zoneCap[cu.Zone] = caps
			}
			for i := range caps {
				a := s.at(d, i*s.res)
				if a.Before(until) && a.Add(time.Duration(s.res)*time.Minute).After(from) {
					caps[i] = min(caps[i], int32(cu.Capacity))
				}
			}
			continue
		}
		g, _ := s.cfg.Gate(cu.Gate)
		caps := waveCap[cu.Gate]
		if caps == nil {
			caps = make([]int32, dayMinutes/s.cfg.SlotMinutes)
			for i := range caps {
				caps[i] = int32(g.WaveCapacity)
			}
			waveCap[cu.Gate] = caps
		}
		for i := range caps {
			if a := s.at(d, i*s.cfg.SlotMinutes); !a.Before(from) && a.Before(until) {
				caps[i] = min(caps[i], int32(cu.Capacity))
			}
		}
	}
	for zone, caps := range zoneCap {
		z, _ := s.cfg.Zone(zone)
		ensure()
		dc.zone[zone], dc.zoneOp[zone] = phantom(caps, z.Capacity, share)
	}
	for gate, caps := range waveCap {
		g, _ := s.cfg.Gate(gate)
		ensure()
		dc.wave[gate], dc.waveOp[gate] = phantom(caps, g.WaveCapacity, share)
	}
	if dc == nil {
		return
	}
	d.cuts = dc
	addPhantom(d.zone, dc.zone, 1)
	addPhantom(d.zoneOp, dc.zoneOp, 1)
	addPhantom(d.wave, dc.wave, 1)
	addPhantom(d.waveOp, dc.waveOp, 1)
}

// phantom is the load that makes capacity configured behave as caps, for
// everyone and for operators (whose part is the configured share).
func phantom(caps []int32, configured int, share float64) (all, ops []int32) {
	all, ops = make([]int32, len(caps)), make([]int32, len(caps))
	for i, c := range caps {
		all[i] = int32(configured) - c
		ops[i] = int32(floorShare(configured, share) - floorShare(int(c), share))
	}
	return all, ops
}

func addPhantom(load, ph map[string][]int32, sign int32) {
	for k, p := range ph {
		l := load[k]
		for i, v := range p {
			l[i] += sign * v
		}
	}
}

// phantomZone is the cuts' phantom load of a zone in bucket i.
func (d *day) phantomZone(zone string, i int) int {
	if d.cuts == nil || d.cuts.zone[zone] == nil {
		return 0
	}
	return int(d.cuts.zone[zone][i])
}

// phantomWave is the cuts' phantom load of a gate's wave in slot i.
func (d *day) phantomWave(gate string, i int) int {
	if d.cuts == nil || d.cuts.wave[gate] == nil {
		return 0
	}
	return int(d.cuts.wave[gate][i])
}

// overCut lists the active, not yet admitted bookings of the day that meet
// a zone bucket or a wave the cut put over capacity (or over the operators'
// part of it), in slot order.
func (s *State) overCut(d *day, cu *CapacityCut) []*Booking {
	over := s.overBuckets(d, cu)
	if len(over) == 0 {
		return nil
	}
	zones, waves := cutSets(cu, over)
	return s.meetingSets(d, zones, waves)
}

// overBuckets are the zone buckets (zone cut) or slots (gate cut) of day d
// over the capacity in force, or over the operators' part of it.
func (s *State) overBuckets(d *day, cu *CapacityCut) map[int]bool {
	share := 1 - s.cfg.Policy.WalkInShare
	over := map[int]bool{} // buckets (zone) or slots (gate) over
	if cu.Zone != "" {
		z, _ := s.cfg.Zone(cu.Zone)
		for i, v := range d.zone[cu.Zone] {
			if int(v) > z.Capacity || int(d.zoneOp[cu.Zone][i]) > floorShare(z.Capacity, share) {
				over[i] = true
			}
		}
	} else {
		g, _ := s.cfg.Gate(cu.Gate)
		for i, v := range d.wave[cu.Gate] {
			if int(v) > g.WaveCapacity || int(d.waveOp[cu.Gate][i]) > floorShare(g.WaveCapacity, share) {
				over[i] = true
			}
		}
	}
	return over
}

// cutSets puts the buckets over (overBuckets) of cut cu in the form meets
// takes: by zone for a zone cut, by gate for a gate cut.
func cutSets(cu *CapacityCut, over map[int]bool) (zones, waves map[string]map[int]bool) {
	if cu.Gate != "" {
		return nil, map[string]map[int]bool{cu.Gate: over}
	}
	return map[string]map[int]bool{cu.Zone: over}, nil
}

// overBy reports whether booking b (active, nobody admitted, of day d)
// meets a bucket or wave of over (overBuckets) that cut cu lowers.
func (s *State) overBy(d *day, cu *CapacityCut, over map[int]bool, b *Booking) bool {
	if len(over) == 0 {
		return false
	}
	zones, waves := cutSets(cu, over)
	return s.meets(d, b, zones, waves)
}

func overAny(over map[int]bool, from, to int) bool {
	for i := from; i < to; i++ {
		if over[i] {
			return true
		}
	}
	return false
}

// zoneCapacity is the zone's capacity in force at now: the configured one,
// or the lowest of the capacity cuts in force on it.
func (s *State) zoneCapacity(z Zone, now time.Time) int {
	c := z.Capacity
	for _, cu := range s.cuts {
		if cu.Zone == z.ID && cu.Active(now) {
			c = min(c, cu.Capacity)
		}
	}
	return c
}

// Cuts lists the capacity cuts in force at now or later, by start then id.
func (s *State) Cuts(now time.Time) []CapacityCut {
	var out []CapacityCut
	for _, cu := range s.cuts {
		if now.Before(cu.end()) {
			out = append(out, *cu)
		}
	}
	slices.SortFunc(out, func(a, b CapacityCut) int { return cmp.Or(a.From.Compare(b.From), cmp.Compare(a.ID, b.ID)) })
	return out
}

func (c *Config) gateList() string {
	ids := make([]string, len(c.Gates))
	for i, g := range c.Gates {
		ids[i] = g.ID
	}
	return strings.Join(ids, ", ")
}
