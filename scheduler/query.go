package scheduler

import (
	"maps"
	"slices"
	"sort"
	"time"
)

// ZoneOccupancy is one zone's live and planned picture.
type ZoneOccupancy struct {
	Zone      string    `json:"zone"`
	Name      Text      `json:"name"`
	Capacity  int       `json:"capacity"`
	HoldAt    int       `json:"hold_at"`
	ReleaseAt int       `json:"release_at"`
	Live      int       `json:"live"`
	Planned   int       `json:"planned"`
	Held      bool      `json:"held"`
	HeldSince time.Time `json:"held_since,omitzero"`
	Closed    bool      `json:"closed"`
	// Inside is the number of admitted visitors the plan puts in the zone
	// now (from admissions, not counters).
	Inside int `json:"inside"`
	// Counted is the counters' own figure, Model the zone model's
	// (admissions along their routes by the time since admission, with
	// the learned dwell); Live is the best estimate from both (fusion.go).
	Counted int `json:"counted"`
	Model   int `json:"model"`
	// CountersDisagree is set while the counters and the model disagree
	// by more than the fusion explains.
	CountersDisagree bool `json:"counters_disagree,omitempty"`
	// Overbooked lists the dates, from today on, on which the plan puts
	// the zone over the capacity in force (after a configuration lowered
	// it), each at its worst; see OverCapacity. Set by the adapters that
	// report it (WithOverages).
	Overbooked []Overage `json:"overbooked,omitempty"`
}

// Occupancy returns every zone's picture at now, in configuration order.
func (s *State) Occupancy(now time.Time) []ZoneOccupancy {
	date := s.today(now).Format(time.DateOnly)
	d := s.days[date]
	inside := s.insideByZone(now)
	model := s.modelAt(now)
	var out []ZoneOccupancy
	for _, zc := range s.cfg.Zones {
		z := s.zones[zc.ID]
		o := ZoneOccupancy{Zone: zc.ID, Name: zc.Name, Capacity: s.zoneCapacity(zc, now), HoldAt: zc.HoldAt, ReleaseAt: zc.ReleaseAt,
			Live: s.Live(zc.ID), Held: z.Held, HeldSince: z.HeldSince, Closed: s.zoneClosed(now, zc.ID), Inside: inside[zc.ID],
			Counted: s.Counted(zc.ID), Model: model[zc.ID]}
		if f := s.fusion[zc.ID]; f != nil {
			o.CountersDisagree = f.disagree
		}
		if d != nil {
			if i := s.minuteOf(d, now) / s.res; i >= 0 && i < len(d.zone[zc.ID]) {
				o.Planned = int(d.zone[zc.ID][i]) - d.phantomZone(zc.ID, i) // not a cut's phantom load
			}
		}
		out = append(out, o)
	}
	return out
}

// zoneClosed reports whether a closure in force covers the zone.
func (s *State) zoneClosed(now time.Time, zone string) bool {
	for _, c := range s.closures {
		if c.Active(now) && c.Covers(zone) {
			return true
		}
	}
	return false
}

// insideByZone places today's admitted visitors along their routes by the
// time since their wave, for the evacuation view. A group past its last stop
// is counted out; one admitted late counts from its wave's time.
func (s *State) insideByZone(now time.Time) map[string]int {
	out := map[string]int{}
	date := s.today(now).Format(time.DateOnly)
	for b := range s.bookings.view(date, func(r *bookRec) bool { return r.admitted > 0 }) {
		if b.Admitted == 0 || b.Date != date {
			continue
		}
		r, _ := s.cfg.Route(b.Route)
		el := int(now.Sub(b.Slot) / time.Minute)
		for _, st := range r.Stops {
			if el < st.Arrive+st.Stay {
				out[st.Zone] += b.Admitted
				break
			}
		}
	}
	return out
}

// Closures returns the closures, those in force first, then by start.
func (s *State) Closures(now time.Time) []Closure {
	var out []Closure
	for _, id := range slices.Sorted(maps.Keys(s.closures)) {
		c := *s.closures[id]
		c.Zones = slices.Clone(c.Zones)
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		ai, aj := out[i].Active(now), out[j].Active(now)
		if ai != aj {
			return ai
		}
		return out[i].From.After(out[j].From)
	})
	return out
}

// Wave is one slot at one gate.
type Wave struct {
	Gate     string    `json:"gate"`
	Slot     time.Time `json:"slot"`
	Capacity int       `json:"capacity"`
	Booked   int       `json:"booked"`
	Admitted int       `json:"admitted"`
	Groups   int       `json:"groups"`
	// NoShow counts visitors of waves past their late grace not admitted.
	NoShow int  `json:"no_show"`
	Held   bool `json:"held"`
}

// Waves lists today's waves with bookings whose slot lies in [from, to).
func (s *State) Waves(now, from, to time.Time) []Wave {
	type key struct {
		gate string
		slot int64
	}
	acc := map[key]*Wave{}
	late := time.Duration(s.cfg.Policy.LateGraceMinutes) * time.Minute
	for b := range s.bookings.between(from, to) {
		if b.Slot.Before(from) || !b.Slot.Before(to) || !(b.Active() || b.Status == StatusCompleted) {
			continue
		}
		k := key{b.Gate, b.Slot.Unix()}
		w := acc[k]
		if w == nil {
			g, _ := s.cfg.Gate(b.Gate)
			w = &Wave{Gate: b.Gate, Slot: b.Slot, Capacity: g.WaveCapacity}
			if d := s.days[b.Date]; d != nil {
				w.Capacity -= d.phantomWave(b.Gate, s.minuteOf(d, b.Slot)/s.cfg.SlotMinutes)
			}
			acc[k] = w
		}
		w.Booked += b.PartySize
		w.Admitted += b.Admitted
		w.Groups++
		if now.After(b.Slot.Add(late)) {
			w.NoShow += b.PartySize - b.Admitted
		}
		r, _ := s.cfg.Route(b.Route)
		if s.heldZone(r) != "" && b.Admitted < b.PartySize {
			w.Held = true
		}
	}
	var out []Wave
	for _, w := range acc {
		out = append(out, *w)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Slot.Equal(out[j].Slot) {
			return out[i].Slot.Before(out[j].Slot)
		}
		return out[i].Gate < out[j].Gate
	})
	return out
}

// Sensors returns the counter checkpoints, by sensor id.
func (s *State) Sensors() []SensorState {
	var out []SensorState
	for _, id := range slices.Sorted(maps.Keys(s.sensors)) {
		st := *s.sensors[id]
		st.PastBoots = slices.Clone(st.PastBoots)
		out = append(out, st)
	}
	return out
}

// SiteClosed reports whether a whole-site closure is in force.
func (s *State) SiteClosed(now time.Time) bool {
	for _, c := range s.closures {
		if c.Active(now) && len(c.Zones) == 0 {
			return true
		}
	}
	return false
}

func sortBookings(bs []Booking) {
	sort.Slice(bs, func(i, j int) bool {
		if !bs[i].Slot.Equal(bs[j].Slot) {
			return bs[i].Slot.Before(bs[j].Slot)
		}
		return bs[i].ID < bs[j].ID
	})
}
