package scheduler

// A property of capacity cuts (cut.go) over planned days (requests.go):
// random interleavings of bookings, changes, scans, holds, closures, cuts
// and lifts over several days and midnight, with time moving on; every
// load is recomputed from the bookings alone and checked against the
// capacity the cuts leave.

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// midnightPetra is Petra, tightened, without planned days, and with Petra
// by Night every evening at 22:45 and 23:30: its groups walk past
// midnight, so a day's picture runs into the next.
func midnightPetra(t testing.TB) *Config {
	t.Helper()
	cfg := petraWith(t, func(c *Config) {
		for i := range c.Evenings {
			if e := &c.Evenings[i]; e.Route == "petra-by-night" {
				e.Entries = []string{"22:45", "23:30"}
				e.Close = "23:45"
				e.Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
			}
		}
	})
	cfg.Policy.RequestWindow = nil
	return tight(cfg)
}

// cutZoneCap and cutGateCap are the capacity in force on a zone bucket or a gate slot
// of a day by the cuts alone (independently of applyCuts): the lowest of
// the configured capacity and every cut meeting it, a lifted cut until its
// lifting.
func cutZoneCap(cfg *Config, cuts map[string]CapacityCut, base time.Time, res int, zone string, i int) int {
	z, _ := cfg.Zone(zone)
	limit := z.Capacity
	t0 := time.Date(base.Year(), base.Month(), base.Day(), 0, i*res, 0, 0, cfg.Location())
	t1 := t0.Add(time.Duration(res) * time.Minute)
	for _, c := range cuts {
		if c.Zone == zone && c.end().After(c.From) && t0.Before(c.end()) && t1.After(c.From) {
			limit = min(limit, c.Capacity)
		}
	}
	return limit
}

func cutGateCap(cfg *Config, cuts map[string]CapacityCut, base time.Time, gate string, slot int) int {
	g, _ := cfg.Gate(gate)
	limit := g.WaveCapacity
	t0 := time.Date(base.Year(), base.Month(), base.Day(), 0, slot*cfg.SlotMinutes, 0, 0, cfg.Location())
	for _, c := range cuts {
		if c.Gate == gate && !t0.Before(c.From) && t0.Before(c.end()) {
			limit = min(limit, c.Capacity)
		}
	}
	return limit
}

// recomputedLoads are a date's loads recomputed from the placed bookings
// alone, split by whether anybody of the group was admitted.
type recomputedLoads struct {
	zone, zoneOp, zoneFree, zoneOpFree map[string][]int // free: nobody admitted, so movable
	wave, waveOp, waveFree, waveOpFree map[string][]int
	opDay                              map[string]int
	opWave                             map[opWave]int32
}

func recomputeLoads(s *State, date string) recomputedLoads {
	cfg := s.cfg
	base, _ := time.ParseInLocation(time.DateOnly, date, cfg.Location())
	nb, ns := dayMinutes/s.res, dayMinutes/cfg.SlotMinutes
	l := recomputedLoads{zone: map[string][]int{}, zoneOp: map[string][]int{}, zoneFree: map[string][]int{}, zoneOpFree: map[string][]int{},
		wave: map[string][]int{}, waveOp: map[string][]int{}, waveFree: map[string][]int{}, waveOpFree: map[string][]int{},
		opDay: map[string]int{}, opWave: map[opWave]int32{}}
	for _, z := range cfg.Zones {
		l.zone[z.ID], l.zoneOp[z.ID], l.zoneFree[z.ID], l.zoneOpFree[z.ID] = make([]int, nb), make([]int, nb), make([]int, nb), make([]int, nb)
	}
	for _, g := range cfg.Gates {
		l.wave[g.ID], l.waveOp[g.ID], l.waveFree[g.ID], l.waveOpFree[g.ID] = make([]int, ns), make([]int, ns), make([]int, ns), make([]int, ns)
	}
	for _, b := range s.Bookings("", date) {
		if !b.Placed() {
			continue
		}
		r, _ := cfg.Route(b.Route)
		slot := b.Slot.In(cfg.Location())
		days := int(time.Date(slot.Year(), slot.Month(), slot.Day(), 0, 0, 0, 0, time.UTC).Sub(time.Date(base.Year(), base.Month(), base.Day(), 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
		m := days*24*60 + slot.Hour()*60 + slot.Minute()
		walkIn := b.Operator == WalkInOperator
		free := b.Admitted == 0
		add := func(xs map[string][]int, k string, i int, cond bool) {
			if cond {
				xs[k][i] += b.PartySize
			}
		}
		sl := m / cfg.SlotMinutes
		add(l.wave, b.Gate, sl, true)
		add(l.waveOp, b.Gate, sl, !walkIn)
		add(l.waveFree, b.Gate, sl, free)
		add(l.waveOpFree, b.Gate, sl, free && !walkIn)
		if !walkIn {
			l.opDay[b.Operator] += b.PartySize
			l.opWave[opWave{s.bookings.intern(b.Operator), s.bookings.gates[b.Gate], uint16(sl)}] += int32(b.PartySize)
		}
		for _, st := range r.Stops {
			for i := (m + st.Arrive) / s.res; i < min((m+st.Arrive+st.Stay)/s.res, nb); i++ {
				add(l.zone, st.Zone, i, true)
				add(l.zoneOp, st.Zone, i, !walkIn)
				add(l.zoneFree, st.Zone, i, free)
				add(l.zoneOpFree, st.Zone, i, free && !walkIn)
			}
		}
	}
	return l
}

// checkLoadsAgainstCuts checks the state against the bookings and the cuts alone:
//   - the books without the cuts' phantom load are exactly the bookings'
//     load (zone, operators' zone, wave, operators' wave, operator day and
//     wave shares), and the phantom load is exactly what the cuts in force
//     make it;
//   - wherever a zone bucket or a wave holds more than the capacity in force
//     (or its operators more than their part of it), every group there has
//     visitors admitted (a cut cannot move those); nowhere else is anything
//     over, and the operators' wave and day shares hold.
func checkLoadsAgainstCuts(t interface {
	Fatalf(string, ...any)
}, s *State, cuts map[string]CapacityCut) {
	cfg := s.cfg
	share := 1 - cfg.Policy.WalkInShare
	for _, date := range slices.Sorted(maps.Keys(s.days)) {
		d := s.days[date]
		l := recomputeLoads(s, date)
		for _, z := range cfg.Zones {
			for i := range d.zone[z.ID] {
				limit := cutZoneCap(cfg, cuts, d.base, s.res, z.ID, i)
				ph, phOp := 0, 0
				if d.cuts != nil && d.cuts.zone[z.ID] != nil {
					ph, phOp = int(d.cuts.zone[z.ID][i]), int(d.cuts.zoneOp[z.ID][i])
				}
				if want := z.Capacity - limit; ph != want {
					t.Fatalf("%s zone %s bucket %d (%s): phantom load %d, the cuts in force make it %d", date, z.ID, i, s.at(d, i*s.res).Format("01-02 15:04"), ph, want)
				}
				if want := floorShare(z.Capacity, share) - floorShare(limit, share); phOp != want {
					t.Fatalf("%s zone %s bucket %d: operators' phantom load %d, want %d", date, z.ID, i, phOp, want)
				}
				if got := int(d.zone[z.ID][i]) - ph; got != l.zone[z.ID][i] {
					t.Fatalf("%s zone %s bucket %d (%s): books %d without the phantom, bookings %d", date, z.ID, i, s.at(d, i*s.res).Format("01-02 15:04"), got, l.zone[z.ID][i])
				}
				if got := int(d.zoneOp[z.ID][i]) - phOp; got != l.zoneOp[z.ID][i] {
					t.Fatalf("%s zone %s bucket %d: operators' books %d, bookings %d", date, z.ID, i, got, l.zoneOp[z.ID][i])
				}
				if l.zone[z.ID][i] > limit && l.zoneFree[z.ID][i] > 0 {
					t.Fatalf("%s zone %s at %s: %d visitors, %d of groups nobody of which is admitted, capacity in force %d",
						date, z.ID, s.at(d, i*s.res).Format("01-02 15:04"), l.zone[z.ID][i], l.zoneFree[z.ID][i], limit)
				}
				if l.zoneOp[z.ID][i] > floorShare(limit, share) && l.zoneOpFree[z.ID][i] > 0 {
					t.Fatalf("%s zone %s at %s: operators hold %d (%d movable), their part of the capacity in force %d",
						date, z.ID, s.at(d, i*s.res).Format("01-02 15:04"), l.zoneOp[z.ID][i], l.zoneOpFree[z.ID][i], floorShare(limit, share))
				}
			}
		}
		for _, g := range cfg.Gates {
			for i := range d.wave[g.ID] {
				limit := cutGateCap(cfg, cuts, d.base, g.ID, i)
				ph, phOp := 0, 0
				if d.cuts != nil && d.cuts.wave[g.ID] != nil {
					ph, phOp = int(d.cuts.wave[g.ID][i]), int(d.cuts.waveOp[g.ID][i])
				}
				if want := g.WaveCapacity - limit; ph != want {
					t.Fatalf("%s gate %s slot %d: phantom load %d, the cuts in force make it %d", date, g.ID, i, ph, want)
				}
				if want := floorShare(g.WaveCapacity, share) - floorShare(limit, share); phOp != want {
					t.Fatalf("%s gate %s slot %d: operators' phantom load %d, want %d", date, g.ID, i, phOp, want)
				}
				if got := int(d.wave[g.ID][i]) - ph; got != l.wave[g.ID][i] {
					t.Fatalf("%s gate %s slot %d: books %d without the phantom, bookings %d", date, g.ID, i, got, l.wave[g.ID][i])
				}
				if got := int(d.waveOp[g.ID][i]) - phOp; got != l.waveOp[g.ID][i] {
					t.Fatalf("%s gate %s slot %d: operators' books %d, bookings %d", date, g.ID, i, got, l.waveOp[g.ID][i])
				}
				if l.wave[g.ID][i] > limit && l.waveFree[g.ID][i] > 0 {
					t.Fatalf("%s gate %s wave %s: %d visitors (%d movable), capacity in force %d", date, g.ID, s.at(d, i*cfg.SlotMinutes).Format("01-02 15:04"), l.wave[g.ID][i], l.waveFree[g.ID][i], limit)
				}
				if l.waveOp[g.ID][i] > floorShare(limit, share) && l.waveOpFree[g.ID][i] > 0 {
					t.Fatalf("%s gate %s wave %s: operators hold %d (%d movable), their part %d", date, g.ID, s.at(d, i*cfg.SlotMinutes).Format("01-02 15:04"), l.waveOp[g.ID][i], l.waveOpFree[g.ID][i], floorShare(limit, share))
				}
			}
		}
		if !reflect.DeepEqual(d.opDay, l.opDay) && !(len(d.opDay) == 0 && len(l.opDay) == 0) {
			t.Fatalf("%s operators' day books %v, bookings %v", date, d.opDay, l.opDay)
		}
		if !reflect.DeepEqual(d.opWave, l.opWave) && !(len(d.opWave) == 0 && len(l.opWave) == 0) {
			t.Fatalf("%s operators' wave books %v, bookings %v", date, d.opWave, l.opWave)
		}
		for k, v := range l.opWave {
			g := cfg.Gates[k.gate]
			if int(v) > floorShare(g.WaveCapacity, cfg.Policy.OperatorWaveShare) {
				t.Fatalf("%s operator %s holds %d of wave %s/%d", date, s.bookings.names[k.op], v, g.ID, k.slot)
			}
		}
		for op, v := range l.opDay {
			if v > floorShare(d.entries, cfg.Policy.OperatorDayShare) {
				t.Fatalf("%s operator %s holds %d of the day", date, op, v)
			}
		}
	}
	// Every placed booking's day is in memory: a cut refreshes only the
	// days in memory.
	for b := range s.bookings.view("", nil) {
		if b.Placed() && s.days[b.Date] == nil {
			t.Fatalf("booking %s is placed on %s, which has no picture", b.ID, b.Date)
		}
	}
}

// checkSameBooks checks that a restored state has the same books as the
// live one on every day that holds a booking.
func checkSameBooks(t interface {
	Fatalf(string, ...any)
}, live, again *State) {
	for date, d := range again.days {
		ld := live.days[date]
		if ld == nil {
			t.Fatalf("restore made a picture of %s, which the live state has not", date)
		}
		for _, pair := range []struct {
			name string
			a, b map[string][]int32
		}{{"zone", ld.zone, d.zone}, {"zoneOp", ld.zoneOp, d.zoneOp}, {"wave", ld.wave, d.wave}, {"waveOp", ld.waveOp, d.waveOp}} {
			if !reflect.DeepEqual(pair.a, pair.b) {
				for k := range pair.a {
					if !reflect.DeepEqual(pair.a[k], pair.b[k]) {
						t.Fatalf("%s %s %s: live and restored books differ", date, pair.name, k)
					}
				}
			}
		}
	}
}

type interleaving struct {
	cfg   *Config
	s     *State
	now   time.Time
	n     int
	cuts  map[string]CapacityCut
	dates []string
}

func (g *interleaving) window(t *rapid.T, route string) Window {
	var from int
	switch {
	case rapid.IntRange(0, 9).Draw(t, "wkind") == 0:
		from = rapid.IntRange(0, 95).Draw(t, "wany") * 15
	case route == "petra-by-night":
		from = rapid.IntRange(hm(22, 0), hm(23, 30)).Draw(t, "wevening") / 15 * 15
	default:
		from = rapid.IntRange(hm(6, 0), hm(15, 0)).Draw(t, "wday") / 15 * 15 // opening hours
	}
	return Window{from, min(24*60, from+rapid.IntRange(1, 16).Draw(t, "wlen")*15)}
}

// date is one of the dates not yet over at the generator's clock.
func (g *interleaving) date(t *rapid.T) string {
	today := g.now.In(g.cfg.Location()).Format(time.DateOnly)
	var open []string
	for _, d := range g.dates {
		if d >= today {
			open = append(open, d)
		}
	}
	if len(open) == 0 {
		return g.dates[len(g.dates)-1]
	}
	if len(open) > 1 && rapid.IntRange(0, 2).Draw(t, "later") > 0 {
		open = open[1:] // mostly a day still to come
	}
	return rapid.SampledFrom(open).Draw(t, "date")
}

func (g *interleaving) pick(t *rapid.T, active bool) *Booking {
	var ids []string
	for _, b := range g.s.Bookings("", "") {
		if !active || b.Active() {
			ids = append(ids, b.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return g.s.bookings.at(rapid.SampledFrom(ids).Draw(t, "booking"))
}

// step draws one command (and maybe moves the clock on).
func (g *interleaving) step(t *rapid.T) Command {
	g.n++
	cfg := g.cfg
	ops := []string{"op-a", "op-b", "op-c", WalkInOperator}
	routes := []string{"main", "monastery", "high-place", "back-trail", "petra-by-night"}
	switch k := rapid.IntRange(0, 99).Draw(t, "kind"); {
	case k < 40:
		route := rapid.SampledFrom(routes).Draw(t, "route")
		return Book{ID: fmt.Sprintf("bk%04d", g.n), Operator: rapid.SampledFrom(ops).Draw(t, "op"), Request: BookingRequest{
			Date: g.date(t), Route: route, PartySize: rapid.IntRange(1, cfg.Policy.MaxPartySize).Draw(t, "size"), Window: g.window(t, route)}}
	case k < 43:
		b := g.pick(t, true)
		if b == nil {
			return Tick{}
		}
		var m Modify
		m.ID = b.ID
		if rapid.Bool().Draw(t, "asOps") {
			m.Operator = ""
		} else {
			m.Operator = b.Operator
		}
		if rapid.Bool().Draw(t, "resize") {
			size := rapid.IntRange(1, cfg.Policy.MaxPartySize).Draw(t, "newsize")
			m.PartySize = &size
		} else {
			w := g.window(t, b.Route)
			m.Window = &w
		}
		return m
	case k < 48:
		b := g.pick(t, true)
		if b == nil {
			return Tick{}
		}
		return Cancel{Operator: b.Operator, ID: b.ID}
	case k < 62:
		// A group comes to its gate: the clock moves to around its wave
		// (never back), and it is scanned.
		b := g.pick(t, true)
		if b == nil {
			return Tick{}
		}
		at := b.Slot.Add(time.Duration(rapid.IntRange(-10, 60).Draw(t, "arrive")) * time.Minute)
		if at.After(g.now) {
			g.now = at
		}
		return Scan{Gate: b.Gate, Ticket: Ticket{Booking: b.ID}, Count: rapid.IntRange(1, b.PartySize).Draw(t, "count"),
			ScanID: fmt.Sprintf("s%04d", g.n), Device: "d1"}
	case k < 66:
		zones := []string{"siq", "treasury", "monastery", "bab-al-siq"}
		return SetHold{Zone: rapid.SampledFrom(zones).Draw(t, "hzone"), On: rapid.Bool().Draw(t, "hon")}
	case k < 71:
		c := Close{ID: fmt.Sprintf("cl%04d", g.n), Reason: "test"}
		if !rapid.Bool().Draw(t, "site") {
			c.Zones = []string{rapid.SampledFrom([]string{"siq", "treasury", "monastery", "high-place"}).Draw(t, "czone")}
		}
		if rapid.Bool().Draw(t, "until") {
			c.Until = g.now.Add(time.Duration(rapid.IntRange(15, 600).Draw(t, "clen")) * time.Minute)
		}
		return c
	case k < 74:
		return Reopen{ID: fmt.Sprintf("cl%04d", rapid.IntRange(0, g.n).Draw(t, "reopen"))}
	case k < 86:
		c := CutCapacity{ID: fmt.Sprintf("cu%04d", g.n), Reason: "test", Source: "ops"}
		if rapid.IntRange(0, 2).Draw(t, "gate") == 0 {
			gt := cfg.Gates[rapid.IntRange(0, len(cfg.Gates)-1).Draw(t, "g")]
			c.Gate, c.Capacity = gt.ID, rapid.IntRange(1, gt.WaveCapacity-1).Draw(t, "gcap")
		} else {
			z := cfg.Zones[rapid.IntRange(0, len(cfg.Zones)-1).Draw(t, "z")]
			c.Zone, c.Capacity = z.ID, rapid.IntRange(1, z.Capacity-1).Draw(t, "zcap")
		}
		// Mostly around a booked wave, on any minute; else from an hour ago
		// to two days ahead. Spans up to a day, so that many cross
		// midnight.
		if b := g.pick(t, true); b != nil && rapid.IntRange(0, 3).Draw(t, "near") > 0 {
			c.From = b.Slot.Add(time.Duration(rapid.IntRange(-180, 180).Draw(t, "cnear")) * time.Minute)
		} else {
			c.From = g.now.Add(time.Duration(rapid.IntRange(-60, 48*60).Draw(t, "cfrom")) * time.Minute)
		}
		c.Until = c.From.Add(time.Duration(rapid.IntRange(1, 24*60).Draw(t, "clen")) * time.Minute)
		return c
	case k < 92:
		var ids []string
		for id := range g.cuts {
			ids = append(ids, id)
		}
		if len(ids) == 0 {
			return Tick{}
		}
		slices.Sort(ids)
		return LiftCut{ID: rapid.SampledFrom(ids).Draw(t, "lift")}
	default:
		g.now = g.now.Add(time.Duration(rapid.IntRange(1, 120).Draw(t, "dt")) * time.Minute)
		return Tick{}
	}
}

// TestCutsKeepLoadsProperty: random interleavings of bookings, resizes,
// re-windows, cancellations, scans (admissions, late rebooking, held
// groups moved), holds, closures, capacity cuts (zones and gates, several
// on one zone, spans crossing midnight or covering days not yet in memory)
// and lifts, over three days with the clock moving on. After every cut and
// every few other steps the books match the bookings and the cuts exactly,
// and nothing movable is over the capacity in force; a restore rebuilds the same books; a
// refused command changes nothing; a replay gives the same state.
func TestCutsKeepLoadsProperty(t *testing.T) {
	cfg := midnightPetra(t)
	rapid.Check(t, func(rt *rapid.T) {
		start := time.Date(2026, 11, 30, 5, 0, 0, 0, cfg.Location())
		g := &interleaving{cfg: cfg, s: New(cfg), now: start, cuts: map[string]CapacityCut{},
			dates: []string{"2026-11-30", "2026-12-01", "2026-12-02"}}
		var cmds []Command
		var times []time.Time
		steps := rapid.IntRange(1, 60).Draw(rt, "steps")
		for i := range steps {
			c := g.step(rt)
			before := ""
			if i%7 == 0 {
				before = snapJSON(rt, g.s)
			}
			res, eff := g.s.Apply(g.now, c)
			if res.Err != nil {
				if len(eff) > 0 {
					rt.Fatalf("%T refused (%v) with %d effects", c, res.Err, len(eff))
				}
				if before != "" && before != snapJSON(rt, g.s) {
					rt.Fatalf("refused %T changed the state: %v", c, res.Err)
				}
			}
			if res.Cut != nil {
				g.cuts[res.Cut.ID] = *res.Cut
			}
			cmds = append(cmds, c)
			times = append(times, g.now)
			if _, isCut := c.(CutCapacity); isCut || i%4 == 0 {
				checkLoadsAgainstCuts(rt, g.s, g.cuts)
			}
		}
		checkLoadsAgainstCuts(rt, g.s, g.cuts)
		again, err := Restore(cfg, g.s.Snapshot())
		if err != nil {
			rt.Fatal(err)
		}
		checkSameBooks(rt, g.s, again)
		checkLoadsAgainstCuts(rt, again, g.cuts)
		replay := New(cfg)
		for i, c := range cmds {
			replay.Apply(times[i], c)
		}
		if snapJSON(rt, replay) != snapJSON(rt, g.s) {
			rt.Fatal("replaying the same commands at the same times gave another state")
		}
	})
}
