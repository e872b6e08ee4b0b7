package scheduler

import (
	"fmt"
	"time"
)

// Restorer is Restore in steps, for a store that reads its bookings in
// chunks: the bookings go straight into the state as they are decoded,
// never all in one slice. NewRestorer, then AddBookings any number of
// times (in the store's key order, for the same state as Restore), then
// Finish once. Restore is these three steps.
type Restorer struct {
	cfg *Config
	s   *State
	// zones sums the groups entering a day by the same route at the same
	// minute: their zone loads are added once each, in Finish, not once
	// a booking.
	zones map[zoneEntry]int
	// flushAt is how many entries zones holds before their loads are
	// added (zonesFlush; tests lower it).
	flushAt int
	// last is the greatest booking id added: a booking whose id is greater
	// cannot repeat one, so only ids out of order are looked up (a store
	// gives them in key order, by id).
	last string
	// The last placed booking's day, with its midnight's wall-clock minute
	// (wallMinute), and the last booking's route: a store's bookings in key
	// order often share them, found then without a lookup.
	lastDay      *day
	lastMidnight int64
	lastRoute    *Route
	// wave and waveOp are the gate's wave loads of day waveDay (a
	// booking's gate is often the last one's).
	waveDay      *day
	waveGate     string
	wave, waveOp []int32
	// general: a booking of no visitors (or fewer) was placed; from
	// then on bookings are placed by State.addEntry (see addEntry).
	general bool
	// waves is how many operator waves the last day left had: a day the
	// Restorer makes gets its operator-wave map sized to it, so the map
	// seldom grows (a store's days in key order are much alike; growing
	// from empty rehashed each day's map about seven times).
	waves int
}

// zoneEntry is a day's groups entering by a route at a minute.
type zoneEntry struct {
	d      *day
	r      *Route
	m      int
	walkIn bool
}

// NewRestorer starts a state from the snapshot's capacity cuts (each day
// gets their phantom load when it is made, so they come before bookings);
// expect is how many bookings are expected (0 if unknown; an estimate
// will do), to size the table once.
func NewRestorer(cfg *Config, cuts []CapacityCut, expect int) (*Restorer, error) {
	s := New(cfg)
	for i := range cuts {
		cu := cuts[i]
		if _, dup := s.cuts[cu.ID]; dup {
			return nil, fmt.Errorf("scheduler: restore: duplicate capacity cut %q", cu.ID)
		}
		_, zok := cfg.Zone(cu.Zone)
		_, gok := cfg.Gate(cu.Gate)
		if !zok && !gok {
			continue // the zone or gate is gone from the configuration: nothing to lower
		}
		s.cuts[cu.ID] = &cu
	}
	if expect > 0 {
		s.bookings.reserve(expect)
	}
	return &Restorer{cfg: cfg, s: s, zones: map[zoneEntry]int{}, flushAt: zonesFlush}, nil
}

// AddBookings places stored bookings as they are, without checking
// capacity (the configuration may have changed since). The state keeps no
// reference to bs: the caller may reuse it.
func (r *Restorer) AddBookings(bs []Booking) error {
	s, cfg := r.s, r.cfg
	loc := cfg.Location()
	s.bookings.grow(len(bs))
	// The records are indexed by id and listed by date together
	// (settle), once the chunk is placed or before an id out of order is
	// looked up.
	unindexed := int32(len(s.bookings.recs))
	defer func() { s.bookings.settle(unindexed) }()
	for i := range bs {
		b := bs[i]
		if b.ID > r.last {
			r.last = b.ID
		} else {
			s.bookings.settle(unindexed)
			unindexed = int32(len(s.bookings.recs))
			if s.bookings.has(b.ID) {
				return fmt.Errorf("scheduler: restore: duplicate booking %q", b.ID)
			}
		}
		if r.lastRoute == nil || r.lastRoute.ID != b.Route {
			route, ok := cfg.Route(b.Route)
			if !ok {
				return fmt.Errorf("scheduler: restore: booking %q has route %q, which the configuration no longer has", b.ID, b.Route)
			}
			r.lastRoute = route
		}
		b = restoredBooking(b, loc)
		if b.Placed() {
			d := r.lastDay
			if d == nil || d.date != b.Date {
				if r.lastDay != nil {
					r.waves = len(r.lastDay.opWave)
				}
				var err error
				made := len(s.days)
				if d, err = s.day(b.Date); err != nil {
					return fmt.Errorf("scheduler: restore: booking %q: %w", b.ID, err)
				}
				if len(s.days) > made && len(d.opWave) == 0 && r.waves > 0 {
					d.opWave = make(map[opWave]int32, r.waves) // empty when made
				}
				r.lastDay, r.lastMidnight = d, int64(civilDays(d.base.Date()))*24*60
			}
			m := int(wallMinute(b.Slot) - r.lastMidnight) // s.minuteOf(d, b.Slot)
			route, walkIn := r.lastRoute, r.addEntry(d, &b, m)
			r.zones[zoneEntry{d, route, m, walkIn}] += b.PartySize
			if len(r.zones) >= r.flushAt {
				r.flushZones()
			}
		}
		s.bookings.loadUnindexed(&b)
	}
	return nil
}

// addEntry is State.addEntry for a restored booking b on day d entering
// at minute m (its route is lastRoute), and tells whether it is walk-in.
// While every party placed is of one visitor or more, every operator load
// is above zero, so that adding to it never leaves zero (which
// State.addEntry deletes): the operator loads are added with one map
// operation each, not a read then a write, and the gate's wave loads are
// those of the last booking's gate when it is the same.
func (r *Restorer) addEntry(d *day, b *Booking, m int) bool {
	s, n := r.s, b.PartySize
	if n <= 0 || r.general {
		r.general = true
		_, walkIn := s.addEntry(d, b.Operator, b.Route, b.Gate, m, n)
		return walkIn
	}
	slot := m / s.cfg.SlotMinutes
	d.over = nil
	if r.waveDay != d || r.waveGate != b.Gate {
		r.waveDay, r.waveGate, r.wave, r.waveOp = d, b.Gate, d.wave[b.Gate], d.waveOp[b.Gate]
	}
	r.wave[slot] += int32(n)
	if b.Operator == WalkInOperator {
		return true
	}
	r.waveOp[slot] += int32(n)
	d.opDay[b.Operator] += n
	d.opWave[opWave{s.bookings.internField(0, b.Operator), s.bookings.gates[b.Gate], uint16(slot)}] += int32(n) // pack's operator field: found again there
	return false
}

// zonesFlush is how many summed entries the Restorer holds before it
// adds their zone loads: a few days' worth of a store's bookings in key
// order, so that a restart adds them while the store is still reading,
// not all at the end (Finish), and the map stays small.
const zonesFlush = 1 << 12

// flushZones adds the zone loads of the entries summed so far.
func (r *Restorer) flushZones() {
	for e, n := range r.zones {
		r.s.addZones(e.d, e.r, e.m, n, e.walkIn)
	}
	clear(r.zones)
}

// Finish adds the snapshot's other records (its bookings and cuts are
// ignored: they went to AddBookings and NewRestorer) and returns the
// state. The Restorer must not be used after.
func (r *Restorer) Finish(snap Snapshot) (*State, error) {
	s, cfg := r.s, r.cfg
	r.flushZones()
	r.s, r.zones = nil, nil
	s.bookings.trim()
	for i := range snap.Idempotency {
		r := snap.Idempotency[i]
		s.idem[idemKey{r.Operator, r.Key}] = &r
	}
	for i := range snap.Scans {
		r := snap.Scans[i]
		s.scans[r.ScanID] = &r
	}
	for i := range snap.Sensors {
		r := snap.Sensors[i]
		s.sensors[r.Sensor] = &r
	}
	for i := range snap.Zones {
		r := snap.Zones[i]
		if _, ok := cfg.Zone(r.Zone); ok {
			s.zones[r.Zone] = &r
		}
	}
	for i := range snap.Closures {
		r := snap.Closures[i]
		s.closures[r.ID] = &r
	}
	for i := range snap.Meters {
		m := snap.Meters[i]
		s.meters[m.Booking] = restoredMeter(m, cfg.Location())
	}
	for i := range snap.Requests {
		q := snap.Requests[i]
		if _, dup := s.requests[q.ID]; dup {
			return nil, fmt.Errorf("scheduler: restore: duplicate request %q", q.ID)
		}
		if _, err := time.ParseInLocation(time.DateOnly, q.Date, cfg.Location()); err != nil {
			return nil, fmt.Errorf("scheduler: restore: request %q: date %q is not a date of the form YYYY-MM-DD", q.ID, q.Date)
		}
		if _, ok := cfg.Route(q.Route); !ok && q.Status == RequestPending {
			return nil, fmt.Errorf("scheduler: restore: pending request %q has route %q, which the configuration no longer has", q.ID, q.Route)
		}
		s.requests[q.ID] = &q
		if q.Status == RequestPending {
			s.addPending(&q)
		}
	}
	s.rebuildAdmits()
	return s, nil
}

// wallMinute is the minutes from 1970-01-01 00:00 to t's wall clock in
// its zone, rounded down: a day's minuteOf is wallMinute(t.In(site's
// zone)) less its midnight's (civilDays of its date, in minutes), without
// the calendar date and two time.Date minuteOf computes for each booking.
func wallMinute(t time.Time) int64 {
	_, off := t.Zone()
	sec := t.Unix() + int64(off)
	m := sec / 60
	if sec%60 < 0 {
		m--
	}
	return m
}
