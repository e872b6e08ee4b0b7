package scheduler

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"
)

// Over capacity after a configuration change.
//
// Allotment never puts a zone or a wave over its capacity, but Restore
// places the stored bookings as they are, whatever the configuration says
// now: restart with a lower zone capacity or wave capacity and the days
// already booked can hold more than the new figures allow. OverCapacity
// finds every such zone-day and wave from today on, so that the service can
// say so (log, status, occupancy, metrics, console); Replan re-plans one
// date the way a capacity cut re-plans the bookings over it (replanDate):
// the bookings meeting a zone or wave over capacity are lifted off and
// moved to waves with room, or cancelled if the day has none, with
// ReasonOverCapacity.
//
// Over capacity means more visitors than the capacity in force (the
// configured one, or a cut's): the walk-in share is a reserve for the
// ticket office, not a safety limit, so operators holding more than their
// part of a zone (after walk_in_share was raised, say) is not reported and
// not re-planned.

// ReasonOverCapacity is the reason given to the bookings Replan moves or
// cancels.
const ReasonOverCapacity = "over capacity: the site's capacity was lowered in its configuration"

// Overage is one zone on one date, or one wave, over the capacity in force.
type Overage struct {
	Date string `json:"date"`
	// Zone is set for a zone over capacity on Date, Gate for a wave.
	Zone string `json:"zone,omitempty"`
	Gate string `json:"gate,omitempty"`
	// Slot is the wave's start (Gate set).
	Slot time.Time `json:"slot,omitzero"`
	// From and Until span the zone's time over capacity, from the first
	// bucket over to the end of the last one (Zone set).
	From  time.Time `json:"from,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// Planned is the visitors the plan puts in the zone at its worst, or
	// booked into the wave; Capacity is the capacity in force there.
	Planned  int `json:"planned"`
	Capacity int `json:"capacity"`
}

// OverCapacity lists every zone-day and wave, from now on, that holds more
// visitors than the capacity in force: by date, then zones in
// configuration order, then waves by slot and gate. Today counts from the
// current timeline bucket and the current slot; past days are history and
// are not reported.
func (s *State) OverCapacity(now time.Time) []Overage {
	today := s.today(now).Format(time.DateOnly)
	var out []Overage
	for _, date := range slices.Sorted(maps.Keys(s.days)) {
		if date < today {
			continue
		}
		d := s.days[date]
		zones, waves := s.overOn(d, now)
		for _, z := range s.cfg.Zones {
			over := zones[z.ID]
			if len(over) == 0 {
				continue
			}
			o := Overage{Date: date, Zone: z.ID, From: s.at(d, over[0]*s.res), Until: s.at(d, (over[len(over)-1]+1)*s.res)}
			worst := -1
			for _, i := range over {
				if excess := int(d.zone[z.ID][i]) - z.Capacity; excess > worst {
					worst = excess
					ph := d.phantomZone(z.ID, i)
					o.Planned, o.Capacity = int(d.zone[z.ID][i])-ph, z.Capacity-ph
				}
			}
			out = append(out, o)
		}
		var ws []Overage
		for _, g := range s.cfg.Gates {
			for _, i := range waves[g.ID] {
				ph := d.phantomWave(g.ID, i)
				ws = append(ws, Overage{Date: date, Gate: g.ID, Slot: s.at(d, i*s.cfg.SlotMinutes),
					Planned: int(d.wave[g.ID][i]) - ph, Capacity: g.WaveCapacity - ph})
			}
		}
		slices.SortStableFunc(ws, func(a, b Overage) int { return a.Slot.Compare(b.Slot) })
		out = append(out, ws...)
	}
	return out
}

// overOn lists, on day d from now on, the timeline buckets of each zone and
// the slots of each gate over the capacity in force. The cuts' phantom load
// is in the day's load, so "over" is the load above the configured figure.
func (s *State) overOn(d *day, now time.Time) (zones, waves map[string][]int) {
	zones, waves = map[string][]int{}, map[string][]int{}
	fromSlot := s.earliestMinute(d, now) / s.cfg.SlotMinutes
	fromBucket := s.earliestMinute(d, now) / s.res
	if m := s.minuteOf(d, now); m >= 0 && m < dayMinutes {
		fromBucket = m / s.res
	}
	over := s.dayOver(d) // the whole day's, kept until the day changes
	for z, is := range over.zones {
		if k, _ := slices.BinarySearch(is, fromBucket); k < len(is) {
			zones[z] = slices.Clone(is[k:])
		}
	}
	for g, is := range over.waves {
		if k, _ := slices.BinarySearch(is, fromSlot); k < len(is) {
			waves[g] = slices.Clone(is[k:])
		}
	}
	return zones, waves
}

// DateOverage sums up one date's overages.
type DateOverage struct {
	Date string `json:"date"`
	// Waves is the number of waves over capacity; ZoneDays the number of
	// zones over capacity at some time of the day.
	Waves    int `json:"waves"`
	ZoneDays int `json:"zone_days"`
	// Zones are the zones over capacity, each at its worst.
	Zones []Overage `json:"zones"`
	// Gates sum up the waves over capacity by gate.
	Gates []GateOverage `json:"gates"`
	// Fix is the command that re-plans the date.
	Fix string `json:"fix"`
}

// GateOverage is one gate's waves over capacity on one date: how many, and
// the fullest of them.
type GateOverage struct {
	Gate     string    `json:"gate"`
	Waves    int       `json:"waves"`
	Slot     time.Time `json:"slot"` // the fullest wave's
	Booked   int       `json:"booked"`
	Capacity int       `json:"capacity"`
}

// OverageByDate sums up overages (as OverCapacity lists them) date by date,
// in date order.
func OverageByDate(ov []Overage) []DateOverage {
	var out []DateOverage
	for _, o := range ov {
		if len(out) == 0 || out[len(out)-1].Date != o.Date {
			out = append(out, DateOverage{Date: o.Date, Zones: []Overage{}, Gates: []GateOverage{}, Fix: ReplanFix(o.Date)})
		}
		d := &out[len(out)-1]
		if o.Zone != "" {
			d.ZoneDays++
			d.Zones = append(d.Zones, o)
			continue
		}
		d.Waves++
		k := slices.IndexFunc(d.Gates, func(g GateOverage) bool { return g.Gate == o.Gate })
		if k < 0 {
			d.Gates = append(d.Gates, GateOverage{Gate: o.Gate})
			k = len(d.Gates) - 1
		}
		g := &d.Gates[k]
		g.Waves++
		if g.Waves == 1 || o.Planned-o.Capacity > g.Booked-g.Capacity {
			g.Slot, g.Booked, g.Capacity = o.Slot, o.Planned, o.Capacity
		}
	}
	for i := range out {
		slices.SortStableFunc(out[i].Gates, func(a, b GateOverage) int { return cmp.Compare(a.Gate, b.Gate) })
	}
	return out
}

// WithOverages sets each zone's Overbooked from overages (as OverCapacity
// lists them).
func WithOverages(zs []ZoneOccupancy, ov []Overage) {
	for i := range zs {
		zs[i].Overbooked = nil
		for _, o := range ov {
			if o.Zone == zs[i].Zone {
				zs[i].Overbooked = append(zs[i].Overbooked, o)
			}
		}
	}
}

// ReplanFix is the command that re-plans a date over capacity.
func ReplanFix(date string) string { return "tafweej replan --date " + date }

// Replan re-plans one date whose bookings are over the capacity in force
// (after a configuration lowered it), as a capacity cut re-plans the
// bookings over it.
type Replan struct{ Date string }

func (Replan) isCommand() {}

// Replanned is what a Replan did.
type Replanned struct {
	Date string `json:"date"`
	// WavesOver and ZoneDaysOver are what was over capacity before.
	WavesOver    int `json:"waves_over"`
	ZoneDaysOver int `json:"zone_days_over"`
	// Bookings is the bookings re-planned: those meeting a zone or wave
	// over capacity, with nobody admitted yet.
	Bookings int `json:"bookings"`
	// Moved went to another wave, LeftWindow of them outside the window
	// their operator asked for; Cancelled found no room that day;
	// Unchanged fit back where they were.
	Moved      int `json:"moved"`
	LeftWindow int `json:"left_window"`
	Cancelled  int `json:"cancelled"`
	Unchanged  int `json:"unchanged"`
	// CancelledVisitors are the visitors of the cancelled bookings.
	CancelledVisitors int `json:"cancelled_visitors"`
	// Reason is the reason given to the moved and cancelled bookings.
	Reason string `json:"reason"`
	// WavesLeft and ZoneDaysLeft are what is still over capacity after:
	// zero unless groups already admitted fill a zone or wave on their
	// own.
	WavesLeft    int `json:"waves_left"`
	ZoneDaysLeft int `json:"zone_days_left"`
}

func (s *State) replanOver(now time.Time, c Replan) (Result, []Effect) {
	t, err := time.ParseInLocation(time.DateOnly, c.Date, s.cfg.Location())
	if err != nil {
		return Result{Err: errorf(CodeInvalid, "date", "date %q is not a date of the form YYYY-MM-DD", c.Date)}, nil
	}
	if today := s.today(now); t.Before(today) {
		return Result{Err: errorf(CodeInvalid, "date", "date %q is past (accepted: today, %s, or later)", c.Date, today.Format(time.DateOnly))}, nil
	}
	out := &Replanned{Date: c.Date, Reason: ReasonOverCapacity}
	d := s.days[c.Date]
	if d == nil {
		return Result{Replanned: out}, nil // nothing booked that day
	}
	zones, waves := s.overOn(d, now)
	out.ZoneDaysOver = len(zones)
	for _, w := range waves {
		out.WavesOver += len(w)
	}
	hit := s.meeting(d, zones, waves)
	out.Bookings = len(hit)
	if len(hit) == 0 {
		out.WavesLeft, out.ZoneDaysLeft = out.WavesOver, out.ZoneDaysOver
		return Result{Replanned: out}, nil
	}
	effects, counts := s.replanDate(now, c.Date, hit, ReasonOverCapacity)
	out.Moved, out.LeftWindow, out.Cancelled = counts.Moved, counts.OutOfWindow, counts.Cancelled
	for _, ef := range effects {
		if p, ok := ef.(PutBooking); ok && p.Booking.Status == StatusCancelled {
			out.CancelledVisitors += p.Booking.PartySize
		}
	}
	out.Unchanged = out.Bookings - out.Moved - out.Cancelled
	zones, waves = s.overOn(d, now)
	out.ZoneDaysLeft = len(zones)
	for _, w := range waves {
		out.WavesLeft += len(w)
	}
	return Result{Replanned: out}, effects
}

// meeting lists the active bookings of day d with nobody admitted yet that
// meet a zone bucket (zones: zone → buckets) or a wave (waves: gate →
// slots) of the given ones, in slot order, then by id. Admitted groups are
// on their way and stay where they are.
func (s *State) meeting(d *day, zones, waves map[string][]int) []*Booking {
	zoneOver := make(map[string]map[int]bool, len(zones))
	for z, is := range zones {
		zoneOver[z] = setOf(is)
	}
	waveOver := make(map[string]map[int]bool, len(waves))
	for g, is := range waves {
		waveOver[g] = setOf(is)
	}
	return s.meetingSets(d, zoneOver, waveOver)
}

// meetingSets is meeting with the buckets and waves as sets.
func (s *State) meetingSets(d *day, zoneOver, waveOver map[string]map[int]bool) []*Booking {
	var hit []*Booking
	for b := range s.bookings.view(d.date, s.bookings.recUnadmitted) {
		if s.meets(d, b, zoneOver, waveOver) {
			hit = append(hit, s.bookings.hold(b))
		}
	}
	slices.SortFunc(hit, func(a, b *Booking) int { return cmp.Or(a.Slot.Compare(b.Slot), cmp.Compare(a.ID, b.ID)) })
	return hit
}

// meets reports whether booking b, active and nobody of it admitted yet, of
// day d, is in a wave of waveOver (by gate) or passes a zone bucket of
// zoneOver (by zone) on its route: the one rule of who a lowered capacity
// touches, for cuts, closures in steps and re-plans after a config change.
func (s *State) meets(d *day, b *Booking, zoneOver, waveOver map[string]map[int]bool) bool {
	if !b.Active() || b.Admitted > 0 || b.Date != d.date {
		return false
	}
	m := s.minuteOf(d, b.Slot)
	if waveOver[b.Gate][m/s.cfg.SlotMinutes] {
		return true
	}
	r, _ := s.cfg.Route(b.Route)
	for _, st := range r.Stops {
		if over := zoneOver[st.Zone]; over != nil {
			if from, to := s.span(m, st); overAny(over, from, to) {
				return true
			}
		}
	}
	return false
}

func setOf(is []int) map[int]bool {
	m := make(map[int]bool, len(is))
	for _, i := range is {
		m[i] = true
	}
	return m
}

// OverageLine is a one-line account of a date's overages, for logs.
func (d DateOverage) OverageLine() string {
	var zs []string
	for _, z := range d.Zones {
		zs = append(zs, z.Zone)
	}
	var gs []string
	for _, g := range d.Gates {
		gs = append(gs, g.Gate)
	}
	return "zones " + orNone(strings.Join(zs, ",")) + "; waves at " + orNone(strings.Join(gs, ","))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
