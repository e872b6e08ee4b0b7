package scheduler

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// dayMinutes is the span of one day's timeline: a route entered late in the
// evening may run past midnight.
const dayMinutes = 2 * 24 * 60

// State is the scheduler's whole live state. It is not safe for concurrent
// use: one goroutine owns it and drives it with Apply.
type State struct {
	cfg *Config
	res int // timeline resolution in minutes

	bookings *bookTable // booktable.go
	days     map[string]*day
	idem     map[idemKey]*Idempotency
	scans    map[string]*ScanRecord
	sensors  map[string]*SensorState
	zones    map[string]*ZoneState
	closures map[string]*Closure
	requests map[string]*Request
	pending  map[string]map[string]*Request // date → id → request still pending
	cuts     map[string]*CapacityCut

	lastTick time.Time

	// Re-plans applied in steps (stepped.go): the most bookings one step
	// re-plans (0: never step), and the queue of each closure or cut being
	// applied. The queues are derived: rebuilt from the bookings when
	// missing (after Restore).
	stepSize int
	steps    map[string]*stepQueue
	// offLoop: every closure or cut that hits a booking is re-planned
	// through ReplanJobs and ApplyReplan (replan_offloop.go).
	offLoop bool

	// off is the live picture of gate devices and offline reconciliation
	// (offline_reconcile.go); not persisted.
	off *offlineState

	// The live picture, derived and not persisted (rebuilt from the scan
	// records, or learned again, after a restart): the admission log of
	// the zone model (zonemodel.go), each zone's fusion state (fusion.go),
	// its counted flows and learned dwell (dwell.go), and the groups held
	// back by the forecast (forecast.go).
	admits    []admitRec
	fusion    map[string]*zoneFusion
	flows     map[string]*zoneFlow
	dwell     map[string]*dwellState
	siteFit   siteDwell    // dwell_fit.go
	spread    *spreadCache // forecast_spread.go
	admitsGen int          // bumped when the admission log is rebuilt or pruned
	lastLearn time.Time
	lastFuse  time.Time
	meters    map[string]*MeteredGroup
	// projBuf is the forecast's buffer, reused from call to call
	// (forecast.go: projection).
	projBuf []float64
	// meterGen counts the changes to what the metering check reads, and
	// memo keeps its verdicts while it is unchanged (forecast_memo.go).
	meterGen uint64
	memo     meterMemo
}

type idemKey struct{ operator, key string }

// day is the capacity picture of one date.
type day struct {
	date    string
	base    time.Time          // local midnight
	zone    map[string][]int32 // zone → visitors per timeline bucket
	zoneOp  map[string][]int32 // the same, operators only (not walk-ins)
	wave    map[string][]int32 // gate → visitors per slot
	waveOp  map[string][]int32 // the same, operators only
	opDay   map[string]int     // operator → visitors booked that day
	opWave  map[opWave]int32   // operator, gate, slot → visitors
	entries int                // total entry capacity of the day over all gates
	cuts    *dayCuts           // phantom load of capacity cuts (cut.go), nil if none
	over    *dayOver           // what is over capacity, nil until asked and after a change (overcache.go)
}

// opWave is an operator's wave: the operator interned in the booking table,
// the gate's index in Config.Gates and the slot (a day has one per operator
// and wave booked: kept small).
type opWave struct {
	op         uint32
	gate, slot uint16
}

// New returns an empty state for the site.
func New(cfg *Config) *State {
	s := &State{
		cfg:      cfg,
		res:      resolution(cfg),
		bookings: newBookTable(cfg),
		days:     map[string]*day{},
		idem:     map[idemKey]*Idempotency{},
		scans:    map[string]*ScanRecord{},
		sensors:  map[string]*SensorState{},
		zones:    map[string]*ZoneState{},
		closures: map[string]*Closure{},
		requests: map[string]*Request{},
		pending:  map[string]map[string]*Request{},
		cuts:     map[string]*CapacityCut{},
		fusion:   map[string]*zoneFusion{},
		flows:    map[string]*zoneFlow{},
		dwell:    map[string]*dwellState{},
		meters:   map[string]*MeteredGroup{},
	}
	for _, z := range cfg.Zones {
		s.zones[z.ID] = &ZoneState{Zone: z.ID}
	}
	return s
}

// resolution is the coarsest bucket (in minutes) that represents every slot
// start, arrival and stay exactly.
func resolution(cfg *Config) int {
	g := cfg.SlotMinutes
	for _, r := range cfg.Routes {
		for _, st := range r.Stops {
			g = gcd(g, st.Arrive)
			g = gcd(g, st.Stay)
		}
	}
	if g <= 0 {
		g = 1
	}
	return g
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Restore rebuilds a state from a snapshot. Bookings are placed as stored,
// without checking capacity (the configuration may have changed since).
func Restore(cfg *Config, snap Snapshot) (*State, error) {
	r, err := NewRestorer(cfg, snap.Cuts, len(snap.Bookings))
	if err != nil {
		return nil, err
	}
	if err := r.AddBookings(snap.Bookings); err != nil {
		return nil, err
	}
	return r.Finish(snap)
}

// Snapshot returns a deep copy of everything durable, sorted for
// comparison.
func (s *State) Snapshot() Snapshot {
	var snap Snapshot
	snap.Bookings = make([]Booking, 0, s.bookings.len())
	for b := range s.bookings.view("", nil) {
		snap.Bookings = append(snap.Bookings, *b)
	}
	slices.SortFunc(snap.Bookings, func(a, b Booking) int { return strings.Compare(a.ID, b.ID) })
	if len(snap.Bookings) == 0 {
		snap.Bookings = nil
	}
	for _, r := range s.idem {
		snap.Idempotency = append(snap.Idempotency, *r)
	}
	sort.Slice(snap.Idempotency, func(i, j int) bool {
		a, b := snap.Idempotency[i], snap.Idempotency[j]
		return a.Operator < b.Operator || a.Operator == b.Operator && a.Key < b.Key
	})
	for _, id := range slices.Sorted(maps.Keys(s.scans)) {
		snap.Scans = append(snap.Scans, *s.scans[id])
	}
	for _, id := range slices.Sorted(maps.Keys(s.sensors)) {
		st := *s.sensors[id]
		st.PastBoots = slices.Clone(st.PastBoots)
		snap.Sensors = append(snap.Sensors, st)
	}
	for _, id := range slices.Sorted(maps.Keys(s.zones)) {
		snap.Zones = append(snap.Zones, *s.zones[id])
	}
	for _, id := range slices.Sorted(maps.Keys(s.closures)) {
		c := *s.closures[id]
		c.Zones = slices.Clone(c.Zones)
		snap.Closures = append(snap.Closures, c)
	}
	for _, id := range slices.Sorted(maps.Keys(s.requests)) {
		snap.Requests = append(snap.Requests, *s.requests[id])
	}
	for _, id := range slices.Sorted(maps.Keys(s.cuts)) {
		snap.Cuts = append(snap.Cuts, *s.cuts[id])
	}
	for _, id := range slices.Sorted(maps.Keys(s.meters)) {
		snap.Meters = append(snap.Meters, *s.meters[id])
	}
	return snap
}

// Config is the site configuration the state was built with.
func (s *State) Config() *Config { return s.cfg }

// BookingCount is the number of stored bookings, of any status.
func (s *State) BookingCount() int { return s.bookings.len() }

// day returns the capacity picture of a date, creating it empty.
func (s *State) day(date string) (*day, error) {
	if d, ok := s.days[date]; ok {
		return d, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, date, s.cfg.Location())
	if err != nil {
		return nil, fmt.Errorf("date %q is not a date of the form YYYY-MM-DD", date)
	}
	d := &day{
		date:   date,
		base:   t,
		zone:   map[string][]int32{},
		zoneOp: map[string][]int32{},
		wave:   map[string][]int32{},
		waveOp: map[string][]int32{},
		opDay:  map[string]int{},
		opWave: map[opWave]int32{},
	}
	buckets := dayMinutes / s.res
	slots := dayMinutes / s.cfg.SlotMinutes
	for _, z := range s.cfg.Zones {
		d.zone[z.ID] = make([]int32, buckets)
		d.zoneOp[z.ID] = make([]int32, buckets)
	}
	nslots := len(s.daySlots(t))
	for _, g := range s.cfg.Gates {
		d.wave[g.ID] = make([]int32, slots)
		d.waveOp[g.ID] = make([]int32, slots)
		d.entries += g.WaveCapacity * nslots
	}
	s.days[date] = d
	s.applyCuts(d)
	return d, nil
}

// daySlots are the minutes of the day's regular entry slots (empty when
// the site is closed that day).
func (s *State) daySlots(date time.Time) []int {
	open, last, _, ok := s.cfg.HoursOn(date)
	if !ok {
		return nil
	}
	out := make([]int, 0, max(0, (last-open)/s.cfg.SlotMinutes+1))
	for m := open; m <= last; m += s.cfg.SlotMinutes {
		out = append(out, m)
	}
	return out
}

// routeSlots are the minutes at which a route may enter on a date.
func (s *State) routeSlots(date time.Time, r *Route) []int {
	if !r.Evening {
		return s.daySlots(date)
	}
	ev, ok := s.cfg.EveningOn(date, r.ID)
	if !ok {
		return nil
	}
	var out []int
	for _, e := range ev.Entries {
		if m, err := ParseClock(e); err == nil {
			out = append(out, m)
		}
	}
	sort.Ints(out)
	return out
}

// place counts booking b's whole party at its slot, gate and route. A
// party counts in full even once partly admitted: the plan is what was
// allotted, the counters say who is really there.
func (s *State) place(d *day, b *Booking) {
	s.add(d, b.Operator, b.Route, b.Gate, s.minuteOf(d, b.Slot), b.PartySize)
}

func (s *State) unplace(d *day, b *Booking) {
	s.add(d, b.Operator, b.Route, b.Gate, s.minuteOf(d, b.Slot), -b.PartySize)
}

// add changes the load of a route's group of n visitors entering at minute
// m through gate g.
func (s *State) add(d *day, operator, route, gate string, m, n int) {
	r, walkIn := s.addEntry(d, operator, route, gate, m, n)
	s.addZones(d, r, m, n, walkIn)
}

// addEntry is add's change to the gate's wave and the operator's loads;
// it returns the route and whether the group is walk-in.
func (s *State) addEntry(d *day, operator, route, gate string, m, n int) (*Route, bool) {
	r, _ := s.cfg.Route(route)
	slot := m / s.cfg.SlotMinutes
	d.over = nil
	d.wave[gate][slot] += int32(n)
	walkIn := operator == WalkInOperator
	if !walkIn {
		d.waveOp[gate][slot] += int32(n)
		// One lookup to read and one to write or delete (a restart makes
		// a million of these).
		if v := d.opDay[operator] + n; v != 0 {
			d.opDay[operator] = v
		} else {
			delete(d.opDay, operator)
		}
		k := opWave{s.bookings.internField(0, operator), s.bookings.gates[gate], uint16(slot)} // pack's operator field: found again there
		if v := d.opWave[k] + int32(n); v != 0 {
			d.opWave[k] = v
		} else {
			delete(d.opWave, k)
		}
	}
	return r, walkIn
}

// addZones is add's change to the zones' loads along the route.
func (s *State) addZones(d *day, r *Route, m, n int, walkIn bool) {
	for _, st := range r.Stops {
		from, to := s.span(m, st)
		z := d.zone[st.Zone]
		zo := d.zoneOp[st.Zone]
		for i := from; i < to; i++ {
			z[i] += int32(n)
			if !walkIn {
				zo[i] += int32(n)
			}
		}
	}
}

// span is the bucket range [from, to) a stop occupies for a group entering
// at minute m, clipped to the timeline.
func (s *State) span(m int, st Stop) (int, int) {
	from := (m + st.Arrive) / s.res
	to := (m + st.Arrive + st.Stay) / s.res
	max := dayMinutes / s.res
	if to > max {
		to = max
	}
	if from > max {
		from = max
	}
	return from, to
}
