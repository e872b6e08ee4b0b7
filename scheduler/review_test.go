package scheduler

// Adversarial review of planned days (requests.go) and capacity cuts
// (cut.go): the property below drives bookings, changes, scans, holds,
// closures, cuts and lifts over several days and midnight, with time
// moving on, and recomputes every load from the bookings alone.

import (
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// reviewConfig is Petra, tightened, without planned days, and with Petra
// by Night every evening at 22:45 and 23:30: its groups walk past
// midnight, so a day's picture runs into the next.
func reviewConfig(t testing.TB) *Config {
	t.Helper()
	data, err := os.ReadFile("../configs/petra.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, r := range [][2]string{
		{`entries: ["18:45", "20:00"]`, `entries: ["22:45", "23:30"]`},
		{`close: "22:30"`, `close: "23:45"`},
		{`weekdays: [mon, wed, thu]`, `weekdays: [mon, tue, wed, thu, fri, sat, sun]`},
	} {
		if !strings.Contains(text, r[0]) {
			t.Fatalf("configs/petra.yaml has no %s", r[0])
		}
		text = strings.Replace(text, r[0], r[1], 1)
	}
	cfg, err := ParseConfig([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Policy.RequestWindow = nil
	return tight(cfg)
}

// reviewCutCaps is the capacity in force on a zone bucket or a gate slot
// of a day by the cuts alone (independently of applyCuts): the lowest of
// the configured capacity and every cut meeting it, a lifted cut until its
// lifting.
func reviewZoneCap(cfg *Config, cuts map[string]CapacityCut, base time.Time, res int, zone string, i int) int {
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

func reviewGateCap(cfg *Config, cuts map[string]CapacityCut, base time.Time, gate string, slot int) int {
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

// reviewLoads are a date's loads recomputed from the placed bookings
// alone, split by whether anybody of the group was admitted.
type reviewLoads struct {
	zone, zoneOp, zoneFree, zoneOpFree map[string][]int // free: nobody admitted, so movable
	wave, waveOp, waveFree, waveOpFree map[string][]int
	opDay                              map[string]int
	opWave                             map[opWave]int
}

func reviewRecompute(s *State, date string) reviewLoads {
	cfg := s.cfg
	base, _ := time.ParseInLocation(time.DateOnly, date, cfg.Location())
	nb, ns := dayMinutes/s.res, dayMinutes/cfg.SlotMinutes
	l := reviewLoads{zone: map[string][]int{}, zoneOp: map[string][]int{}, zoneFree: map[string][]int{}, zoneOpFree: map[string][]int{},
		wave: map[string][]int{}, waveOp: map[string][]int{}, waveFree: map[string][]int{}, waveOpFree: map[string][]int{},
		opDay: map[string]int{}, opWave: map[opWave]int{}}
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
			l.opWave[opWave{b.Operator, b.Gate, sl}] += b.PartySize
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

// reviewCheck checks the state against the bookings and the cuts alone:
//   - the books without the cuts' phantom load are exactly the bookings'
//     load (zone, operators' zone, wave, operators' wave, operator day and
//     wave shares), and the phantom load is exactly what the cuts in force
//     make it;
//   - wherever a zone bucket or a wave holds more than the capacity in force
//     (or its operators more than their part of it), every group there has
//     visitors admitted (a cut cannot move those); nowhere else is anything
//     over, and the operators' wave and day shares hold.
func reviewCheck(t interface {
	Fatalf(string, ...any)
}, s *State, cuts map[string]CapacityCut) {
	cfg := s.cfg
	share := 1 - cfg.Policy.WalkInShare
	for _, date := range slices.Sorted(maps.Keys(s.days)) {
		d := s.days[date]
		l := reviewRecompute(s, date)
		for _, z := range cfg.Zones {
			for i := range d.zone[z.ID] {
				limit := reviewZoneCap(cfg, cuts, d.base, s.res, z.ID, i)
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
				limit := reviewGateCap(cfg, cuts, d.base, g.ID, i)
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
			g, _ := cfg.Gate(k.gate)
			if v > floorShare(g.WaveCapacity, cfg.Policy.OperatorWaveShare) {
				t.Fatalf("%s operator %s holds %d of wave %s/%d", date, k.operator, v, k.gate, k.slot)
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
	for _, b := range s.bookings {
		if b.Placed() && s.days[b.Date] == nil {
			t.Fatalf("booking %s is placed on %s, which has no picture", b.ID, b.Date)
		}
	}
}

// reviewSameBooks checks that a restored state has the same books as the
// live one on every day that holds a booking.
func reviewSameBooks(t interface {
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

type reviewGen struct {
	cfg   *Config
	s     *State
	now   time.Time
	n     int
	cuts  map[string]CapacityCut
	dates []string
}

func (g *reviewGen) window(t *rapid.T, route string) Window {
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
func (g *reviewGen) date(t *rapid.T) string {
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

func (g *reviewGen) pick(t *rapid.T, active bool) *Booking {
	var ids []string
	for _, b := range g.s.Bookings("", "") {
		if !active || b.Active() {
			ids = append(ids, b.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return g.s.bookings[rapid.SampledFrom(ids).Draw(t, "booking")]
}

// step draws one command (and maybe moves the clock on).
func (g *reviewGen) step(t *rapid.T) Command {
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

// TestReviewCutProperty: random interleavings of bookings, resizes,
// re-windows, cancellations, scans (admissions, late rebooking, held
// groups moved), holds, closures, capacity cuts (zones and gates, several
// on one zone, spans crossing midnight or covering days not yet in memory)
// and lifts, over three days with the clock moving on. After every cut and
// every few other steps the books match the bookings and the cuts exactly,
// and nothing movable is over the capacity in force; a restore rebuilds the same books; a
// refused command changes nothing; a replay gives the same state.
func TestReviewCutProperty(t *testing.T) {
	cfg := reviewConfig(t)
	rapid.Check(t, func(rt *rapid.T) {
		start := time.Date(2026, 11, 30, 5, 0, 0, 0, cfg.Location())
		g := &reviewGen{cfg: cfg, s: New(cfg), now: start, cuts: map[string]CapacityCut{},
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
				reviewCheck(rt, g.s, g.cuts)
			}
		}
		reviewCheck(rt, g.s, g.cuts)
		again, err := Restore(cfg, g.s.Snapshot())
		if err != nil {
			rt.Fatal(err)
		}
		reviewSameBooks(rt, g.s, again)
		reviewCheck(rt, again, g.cuts)
		replay := New(cfg)
		for i, c := range cmds {
			replay.Apply(times[i], c)
		}
		if snapJSON(rt, replay) != snapJSON(rt, g.s) {
			rt.Fatal("replaying the same commands at the same times gave another state")
		}
	})
}

// reviewPetra parses configs/petra.yaml with textual replacements (old,
// new, ...), planned days kept.
func reviewPetra(t testing.TB, oldNew ...string) *Config {
	t.Helper()
	data, err := os.ReadFile("../configs/petra.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for i := 0; i+1 < len(oldNew); i += 2 {
		if !strings.Contains(text, oldNew[i]) {
			t.Fatalf("configs/petra.yaml has no %q", oldNew[i])
		}
		text = strings.Replace(text, oldNew[i], oldNew[i+1], 1)
	}
	cfg, err := ParseConfig([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestReviewCutShownWithoutBookings: a cut in force today on a zone of a
// day that holds no booking yet (no picture in memory) must still show in
// the occupancy (and so in tafweej_zone_capacity_visitors and GET
// /v1/occupancy, /v1/status): the control room sees the capacity in force.
func TestReviewCutShownWithoutBookings(t *testing.T) {
	cfg := petra(t)
	s := New(cfg)
	now := testNow(cfg) // 29 November, 10:00
	until := now.Add(4 * time.Hour)
	if res, _ := s.Apply(now, CutCapacity{ID: "rain", Zone: "siq", Capacity: 300, Until: until, Reason: "rain: slippery path"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	check := func(who string, s *State) {
		t.Helper()
		for _, o := range s.Occupancy(now.Add(time.Hour)) {
			if o.Zone == "siq" && o.Capacity != 300 {
				t.Errorf("%s: Siq capacity %d at 11:00 under a cut to 300 (no booking today yet)", who, o.Capacity)
			}
		}
	}
	check("live", s)
	again, err := Restore(cfg, s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	check("restored", again)
	// Once a booking makes today's picture the cut shows: the gap is only
	// the missing picture.
	if res, _ := s.Apply(now, Book{ID: "bk1", Operator: "op-a", Request: BookingRequest{Date: "2026-11-29", Route: "back-trail",
		PartySize: 5, Window: Window{hm(12, 0), hm(13, 0)}}}); res.Err != nil {
		t.Fatal(res.Err)
	}
	for _, o := range s.Occupancy(now.Add(time.Hour)) {
		if o.Zone == "siq" && o.Capacity != 300 {
			t.Fatalf("with a booking today: Siq capacity %d", o.Capacity)
		}
	}
}

// TestReviewCutAcrossMidnight: a cut of the Siq from 22:00 until 08:00 the
// next morning, made before either day holds a booking. Petra by Night
// groups (22:45 and 23:30, walking past midnight on their day's picture)
// and the next morning's groups keep under it; the next morning after
// 08:00 has the whole capacity; availability and waves report the
// bookings without the phantom load; a restore and a lift keep the books
// exact.
func TestReviewCutAcrossMidnight(t *testing.T) {
	cfg := reviewConfig(t) // Siq 150, visitor centre waves of 100, parties up to 60
	s := New(cfg)
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, cfg.Location())
	at := func(day, h, m int) time.Time { return time.Date(2026, 12, day, h, m, 0, 0, cfg.Location()) }
	cut := CutCapacity{ID: "night", Zone: "siq", Capacity: 70, From: at(1, 22, 0), Until: at(2, 8, 0), Reason: "works", Source: "ops"}
	res, eff := s.Apply(now, cut)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(eff) != 2 {
		t.Fatalf("a cut over days with no booking: %d effects, want the cut and its event", len(eff))
	}
	cuts := map[string]CapacityCut{"night": *res.Cut}
	gate := CutCapacity{ID: "lanes", Gate: "visitor-centre", Capacity: 40, From: at(1, 23, 20), Until: at(2, 6, 20), Reason: "one lane", Source: "ops"}
	if res, _ = s.Apply(now, gate); res.Err != nil {
		t.Fatal(res.Err)
	}
	cuts["lanes"] = *res.Cut
	placed := map[string]int{}
	for i := range 12 {
		for _, b := range []Book{
			{ID: fmt.Sprintf("eve%02d", i), Operator: fmt.Sprintf("op-%d", i%4), Request: BookingRequest{Date: "2026-12-01", Route: "petra-by-night",
				PartySize: 30, Window: Window{hm(22, 0), 24 * 60}}},
			{ID: fmt.Sprintf("mor%02d", i), Operator: fmt.Sprintf("op-%d", i%4), Request: BookingRequest{Date: "2026-12-02", Route: "main",
				PartySize: 30, Window: Window{hm(6, 0), hm(9, 0)}}},
		} {
			if res, _ := s.Apply(now, b); res.Err == nil {
				placed[b.Request.Date+" "+res.Booking.Slot.In(cfg.Location()).Format("15:04")] += b.Request.PartySize
			}
			reviewCheck(t, s, cuts)
		}
	}
	// Petra by Night at 22:45 is in the Siq 22:55-23:20 and 00:20-00:45,
	// at 23:30 from 23:40 to 00:05 and 01:05-01:30: under the cut to 70,
	// operators may have 56 in it, one group of 30 per wave.
	if placed["2026-12-01 22:45"] != 30 || placed["2026-12-01 23:30"] != 30 {
		t.Errorf("Petra by Night under the cut: %v", placed)
	}
	// From 06:00 the main trail's groups reach the Siq at 06:15 for an
	// hour: until 08:00 at most two groups of 30 are in it at once.
	if placed["2026-12-02 08:00"] == 0 && placed["2026-12-02 08:15"] == 0 {
		t.Errorf("after the cut the Siq has its whole capacity again: %v", placed)
	}
	rooms, err := s.Availability(now, "2026-12-02", "main", "op-x")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		want := placed["2026-12-02 "+r.Slot.Format("15:04")]
		if r.Booked != want {
			t.Errorf("availability %s: booked %d, the bookings hold %d", r.Slot.Format("15:04"), r.Booked, want)
		}
		if r.Slot.Before(at(2, 6, 20)) && r.Capacity != 40 || !r.Slot.Before(at(2, 6, 20)) && r.Capacity != 100 {
			t.Errorf("availability %s: capacity %d under a gate cut to 40 until 06:20", r.Slot.Format("15:04"), r.Capacity)
		}
	}
	for _, w := range s.Waves(at(1, 23, 0), at(1, 22, 0), at(1, 23, 59)) {
		if want := placed["2026-12-01 "+w.Slot.Format("15:04")]; w.Booked != want {
			t.Errorf("wave %s: booked %d, bookings %d", w.Slot.Format("15:04"), w.Booked, want)
		}
		if w.Slot.Equal(at(1, 23, 30)) && w.Capacity != 40 {
			t.Errorf("wave 23:30 capacity %d under the gate cut", w.Capacity)
		}
	}
	again, err := Restore(cfg, s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	reviewSameBooks(t, s, again)
	reviewCheck(t, again, cuts)
	// Lifted before it starts: it never applies; the gate's cut stays.
	res, _ = s.Apply(at(1, 21, 0), LiftCut{ID: "night"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	cuts["night"] = *res.Cut
	reviewCheck(t, s, cuts)
	if d := s.days["2026-12-01"]; d.phantomZone("siq", (hm(23, 0))/s.res) != 0 || d.phantomWave("visitor-centre", hm(23, 30)/cfg.SlotMinutes) != 60 {
		t.Errorf("after the lift of the Siq's cut: Siq phantom %d, gate phantom %d (want 0 and 60)",
			d.phantomZone("siq", hm(23, 0)/s.res), d.phantomWave("visitor-centre", hm(23, 30)/cfg.SlotMinutes))
	}
	reviewCheck(t, s, cuts)
}

// TestReviewSeveralCutsOneZone: two cuts of the Siq overlap (the lower
// binds), one is lifted while the other is in force, then the other: the
// phantom load follows exactly, the bookings stay within what was in
// force, and after both lifts nothing of the cuts is left.
func TestReviewSeveralCutsOneZone(t *testing.T) {
	r, now := fullMorning(t)
	s, cfg := r.s, r.s.cfg
	at := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, cfg.Location()) }
	cuts := map[string]CapacityCut{}
	for _, c := range []CutCapacity{
		{ID: "a", Zone: "siq", Capacity: 800, From: at(8, 0), Until: at(12, 0), Reason: "rain"},
		{ID: "b", Zone: "siq", Capacity: 500, From: at(9, 0), Until: at(10, 0), Reason: "works"},
		{ID: "c", Zone: "siq", Capacity: 900, From: at(9, 30), Until: at(11, 0), Reason: "rain"},
	} {
		res := r.do(t, now, c)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		cuts[c.ID] = *res.Cut
		reviewCheck(t, s, cuts)
	}
	d := s.days["2026-12-01"]
	if ph := d.phantomZone("siq", hm(9, 30)/s.res); ph != 700 {
		t.Fatalf("Siq at 09:30 under cuts to 800, 500 and 900: phantom %d, want 700", ph)
	}
	for _, id := range []string{"b", "a", "c"} {
		res := r.do(t, now, LiftCut{ID: id})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		cuts[id] = *res.Cut
		reviewCheck(t, s, cuts)
		// Fill the day again first come: the cuts still in force bind.
		for i := range 20 {
			r.do(t, now, Book{ID: fmt.Sprintf("%s-more%02d", id, i), Operator: fmt.Sprintf("op-%d", i%7), Request: BookingRequest{
				Date: "2026-12-01", Route: "main", PartySize: 40, Window: Window{hm(6, 0), hm(15, 0)}}})
		}
		reviewCheck(t, s, cuts)
	}
	if d.cuts != nil {
		t.Fatal("phantom load left once every cut is lifted")
	}
	if len(s.Cuts(now)) != 0 {
		t.Fatalf("lifted cuts still listed: %+v", s.Cuts(now))
	}
}

// TestReviewCutOnPlannedDay: a cut made before a planned day's cut-off is
// in the planner's instance (as phantom load) and in AllotRequests'
// checks: the allotted bookings keep under it.
func TestReviewCutOnPlannedDay(t *testing.T) {
	cfg := plannedPetra(t)
	r := &recorder{s: New(cfg)}
	s := r.s
	now := time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location())
	at := func(h, m int) time.Time { return time.Date(2026, 10, 20, h, m, 0, 0, cfg.Location()) }
	res := r.do(t, now, CutCapacity{ID: "rain", Zone: "siq", Capacity: 250, From: at(7, 0), Until: at(11, 0), Reason: "rain"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	cuts := map[string]CapacityCut{"rain": *res.Cut}
	for i := range 40 {
		submitted(t, r, now, SubmitRequest{ID: fmt.Sprintf("rq%02d", i), BookingID: fmt.Sprintf("bk%02d", i), Operator: fmt.Sprintf("op-%d", i%8),
			Request: mainRoute(40, hm(6, 0), hm(12, 0)), Preferred: hm(8, 0)})
	}
	after := plannedCutoff(cfg).Add(time.Minute)
	if due := s.RequestsDue(after); !reflect.DeepEqual(due, []string{plannedDate}) {
		t.Fatalf("due: %v", due)
	}
	inst, err := s.RequestInstance(after, plannedDate)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanInstance(inst, PlanOptions{Iterations: testIterations})
	if err != nil {
		t.Fatal(err)
	}
	res = r.do(t, after, AllotRequests{Date: plannedDate, Plan: plan})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	a := res.Allotted
	if a.Allotted == 0 || a.Allotted+a.NotPlaced != 40 {
		t.Fatalf("allotment %+v", a)
	}
	if a.Replaced != 0 {
		t.Errorf("%d placements of the plan did not fit: the planner did not see the cut", a.Replaced)
	}
	reviewCheck(t, s, cuts)
}

// TestReviewAllotAfterDowntime: the service was down from before the
// cut-off until the planned day itself, 11:00: requests whose window is
// over are not placed (and say so), the others are placed from the
// current wave on; a day already over places nobody.
func TestReviewAllotAfterDowntime(t *testing.T) {
	cfg := plannedPetra(t)
	r := &recorder{s: New(cfg)}
	s := r.s
	now := time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location())
	submitted(t, r, now, SubmitRequest{ID: "early", BookingID: "bk-early", Operator: "op-a", Request: mainRoute(20, hm(8, 0), hm(10, 0))})
	submitted(t, r, now, SubmitRequest{ID: "span", BookingID: "bk-span", Operator: "op-b", Request: mainRoute(20, hm(9, 0), hm(13, 0)), Preferred: hm(9, 0)})
	submitted(t, r, now, SubmitRequest{ID: "late", BookingID: "bk-late", Operator: "op-c", Request: mainRoute(20, hm(12, 0), hm(14, 0))})
	other := mainRoute(20, hm(8, 0), hm(14, 0))
	other.Date = "2026-10-21"
	submitted(t, r, now, SubmitRequest{ID: "next", BookingID: "bk-next", Operator: "op-a", Request: other})

	back := time.Date(2026, 10, 20, 11, 5, 0, 0, cfg.Location())
	if due := s.RequestsDue(back); !reflect.DeepEqual(due, []string{"2026-10-20", "2026-10-21"}) {
		t.Fatalf("due after the downtime: %v", due)
	}
	inst, err := s.RequestInstance(back, plannedDate)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanInstance(inst, PlanOptions{Iterations: testIterations})
	if err != nil {
		t.Fatal(err)
	}
	if res := r.do(t, back, AllotRequests{Date: plannedDate, Plan: plan}); res.Err != nil {
		t.Fatal(res.Err)
	}
	q, _ := s.Request("", "early")
	if q.Status != RequestNotPlaced || !strings.Contains(q.Reason, "no entry left") {
		t.Errorf("a request whose window was over: %s %q", q.Status, q.Reason)
	}
	for _, id := range []string{"span", "late"} {
		q, _ := s.Request("", id)
		b, ok := s.Booking("", q.Booking)
		if q.Status != RequestAllotted || !ok || b.Slot.Before(time.Date(2026, 10, 20, 11, 0, 0, 0, cfg.Location())) {
			t.Errorf("request %s: %s, booking %+v", id, q.Status, b)
		}
	}
	// Down until the day after: nothing of 21 October can be placed.
	gone := time.Date(2026, 10, 22, 9, 0, 0, 0, cfg.Location())
	inst, err = s.RequestInstance(gone, "2026-10-21")
	if err != nil {
		t.Fatal(err)
	}
	plan, _ = PlanInstance(inst, PlanOptions{Iterations: -1})
	res := r.do(t, gone, AllotRequests{Date: "2026-10-21", Plan: plan})
	if res.Err != nil || res.Allotted.NotPlaced != 1 {
		t.Fatalf("allotment of a day already over: %+v %v", res.Allotted, res.Err)
	}
	if _, ok := s.Booking("", "bk-next"); ok {
		t.Fatal("a booking was made for a day already over")
	}
	if s.PendingRequests() != 0 || len(s.RequestsDue(gone)) != 0 {
		t.Fatalf("still pending: %d", s.PendingRequests())
	}
	checkDayLoads(t, cfg, s.days[plannedDate])
}

// TestReviewRequestWindowYearEnd: a request period that wraps the year end
// (20 December to 10 January): its dates are planned on both sides of New
// Year, the cut-off of 2 January is on 30 December, and the days around
// the period are not planned.
func TestReviewRequestWindowYearEnd(t *testing.T) {
	cfg := reviewPetra(t, `- { from: "03-15", to: "05-15" } # spring`, `- { from: "12-20", to: "01-10" } # the holidays`)
	r := &recorder{s: New(cfg)}
	loc := cfg.Location()
	for _, tc := range []struct {
		date    string
		planned bool
	}{{"2026-12-19", false}, {"2026-12-20", true}, {"2026-12-31", true}, {"2027-01-01", true}, {"2027-01-10", true}, {"2027-01-11", false}} {
		d, _ := time.ParseInLocation(time.DateOnly, tc.date, loc)
		if got := cfg.Planned(d); got != tc.planned {
			t.Errorf("%s planned: %v, want %v", tc.date, got, tc.planned)
		}
	}
	d, _ := time.ParseInLocation(time.DateOnly, "2027-01-02", loc)
	cutoff, ok := cfg.RequestCutoff(d)
	if want := time.Date(2026, 12, 30, 18, 0, 0, 0, loc); !ok || !cutoff.Equal(want) {
		t.Fatalf("cut-off of 2 January: %s %v, want %s", cutoff, ok, want)
	}
	req := BookingRequest{Date: "2027-01-02", Route: "main", PartySize: 20, Window: Window{hm(8, 0), hm(10, 0)}}
	if res := r.do(t, cutoff.Add(-time.Minute), Book{ID: "bk-first", Operator: "op-a", Request: req}); code(res.Err) != CodeRequestWindow {
		t.Fatalf("first come on 30 December at 17:59: %v", res.Err)
	}
	submitted(t, r, cutoff.Add(-time.Minute), SubmitRequest{ID: "rq1", BookingID: "bk1", Operator: "op-a", Request: req})
	if res := r.do(t, cutoff, SubmitRequest{ID: "rq2", BookingID: "bk2", Operator: "op-b", Request: req}); code(res.Err) != CodeCutoff {
		t.Fatalf("request at the cut-off: %v", res.Err)
	}
	if res := r.do(t, cutoff, Book{ID: "bk-first", Operator: "op-a", Request: req}); code(res.Err) != CodeRequestWindow {
		t.Fatalf("first come after the cut-off, before the allotment: %v", res.Err)
	}
	if res := r.do(t, cutoff, AllotRequests{Date: "2027-01-02"}); res.Err != nil || res.Allotted.Allotted != 1 {
		t.Fatalf("allotment with no plan (first come): %+v %v", res.Allotted, res.Err)
	}
	if res := r.do(t, cutoff, Book{ID: "bk-first", Operator: "op-a", Request: req}); res.Err != nil {
		t.Fatalf("first come after the allotment: %v", res.Err)
	}
}

// TestReviewRequestCutoffDST: in a zone with summer time (Europe/London),
// the cut-off is the configured wall-clock time on the civil day, on both
// sides of the switches, never 24-hour steps.
func TestReviewRequestCutoffDST(t *testing.T) {
	cfg := reviewPetra(t, "time_zone: Asia/Amman", "time_zone: Europe/London")
	loc := cfg.Location()
	for _, tc := range []struct {
		date string
		want time.Time
	}{
		{"2027-03-29", time.Date(2027, 3, 26, 18, 0, 0, 0, time.UTC)},  // GMT; summer time starts 28 March
		{"2027-03-31", time.Date(2027, 3, 28, 17, 0, 0, 0, time.UTC)},  // 18:00 BST on the switch day
		{"2027-10-31", time.Date(2027, 10, 28, 17, 0, 0, 0, time.UTC)}, // BST; back to GMT on 31 October
		{"2027-11-02", time.Date(2027, 10, 30, 17, 0, 0, 0, time.UTC)}, // BST still on 30 October
		{"2027-11-03", time.Date(2027, 10, 31, 18, 0, 0, 0, time.UTC)}, // GMT from the switch day
	} {
		d, _ := time.ParseInLocation(time.DateOnly, tc.date, loc)
		got, ok := cfg.RequestCutoff(d)
		if !ok || !got.Equal(tc.want) || got.In(loc).Hour() != 18 {
			t.Errorf("cut-off of %s: %s %v, want %s (18:00 local)", tc.date, got, ok, tc.want.In(loc))
		}
	}
	// On the switch day, requests close at 18:00 local, not 24 hours after
	// the day before's 18:00.
	r := &recorder{s: New(cfg)}
	req := BookingRequest{Date: "2027-03-31", Route: "main", PartySize: 20, Window: Window{hm(8, 0), hm(10, 0)}}
	before := time.Date(2027, 3, 28, 16, 59, 0, 0, time.UTC) // 17:59 BST
	submitted(t, r, before, SubmitRequest{ID: "rq1", BookingID: "bk1", Operator: "op-a", Request: req})
	if res := r.do(t, before.Add(time.Minute), SubmitRequest{ID: "rq2", BookingID: "bk2", Operator: "op-a", Request: req}); code(res.Err) != CodeCutoff {
		t.Fatalf("request at 18:00 BST on the switch day: %v", res.Err)
	}
	if due := r.s.RequestsDue(before); len(due) != 0 {
		t.Fatalf("due at 17:59 BST: %v", due)
	}
	if due := r.s.RequestsDue(before.Add(time.Minute)); len(due) != 1 {
		t.Fatalf("not due at 18:00 BST: %v", due)
	}
}

// TestReviewRequestRestore: a restart rebuilds the pending requests and
// the idempotency records of requests: a retried submission is replayed,
// the key cannot be reused for a booking, and the operator's pending
// visitors still count against its day share.
func TestReviewRequestRestore(t *testing.T) {
	cfg := plannedPetra(t)
	r := &recorder{s: New(cfg)}
	now := time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location())
	c := SubmitRequest{ID: "rq1", BookingID: "bk1", Operator: "op-a", Request: mainRoute(40, hm(8, 0), hm(10, 0)), IdempotencyKey: "k1", RequestHash: "h1"}
	submitted(t, r, now, c)
	submitted(t, r, now, SubmitRequest{ID: "rq2", BookingID: "bk2", Operator: "op-b", Request: mainRoute(30, hm(8, 0), hm(10, 0))})
	if res := r.do(t, now, WithdrawRequest{Operator: "op-b", ID: "rq2"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	again, err := Restore(cfg, r.s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if snapJSON(t, again) != snapJSON(t, r.s) || again.PendingRequests() != 1 {
		t.Fatalf("restored: %d pending", again.PendingRequests())
	}
	retry := c
	retry.ID, retry.BookingID = "rq9", "bk9"
	res, eff := again.Apply(now, retry)
	if res.Err != nil || !res.Replayed || res.Request.ID != "rq1" || len(eff) != 0 {
		t.Fatalf("retried submission after a restart: %+v %v, %d effects", res.Request, res.Err, len(eff))
	}
	res, _ = again.Apply(now, Book{ID: "bk8", Operator: "op-a", IdempotencyKey: "k1", RequestHash: "h1", Request: mainRoute(40, hm(8, 0), hm(10, 0))})
	if code(res.Err) != CodeIdempotencyMismatch {
		t.Fatalf("a request's key reused for a booking after a restart: %v", res.Err)
	}
	// The day share counts the restored pending request.
	d, _ := again.day(plannedDate)
	limit := floorShare(d.entries, cfg.Policy.OperatorDayShare)
	n := 1
	for left := limit - 40; left > 0; n++ {
		size := min(left, cfg.Policy.MaxPartySize)
		res, _ := again.Apply(now, SubmitRequest{ID: fmt.Sprintf("fill%d", n), BookingID: fmt.Sprintf("bkf%d", n), Operator: "op-a", Request: mainRoute(size, hm(6, 0), hm(15, 0))})
		if res.Err != nil {
			t.Fatalf("filling op-a's share (%d left): %v", left, res.Err)
		}
		left -= size
	}
	if res, _ := again.Apply(now, SubmitRequest{ID: "over", BookingID: "bk-over", Operator: "op-a", Request: mainRoute(1, hm(6, 0), hm(15, 0))}); code(res.Err) != CodeOverShare {
		t.Fatalf("one more visitor over op-a's day share: %v", res.Err)
	}
}

// TestReviewWithdrawOnceNotPlanned: the configuration stops making a date
// planned while a request of it is pending (the request window shrank).
// The request is due at once; a withdrawal is refused, but its message
// must not name a cut-off of "0001-01-01 00:00".
func TestReviewWithdrawOnceNotPlanned(t *testing.T) {
	cfg := plannedPetra(t)
	r := &recorder{s: New(cfg)}
	now := time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location())
	submitted(t, r, now, SubmitRequest{ID: "rq1", BookingID: "bk1", Operator: "op-a", Request: mainRoute(40, hm(8, 0), hm(10, 0))})
	shrunk := petra(t) // no request window
	s, err := Restore(shrunk, r.s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if due := s.RequestsDue(now); !reflect.DeepEqual(due, []string{plannedDate}) {
		t.Fatalf("due once the date is not planned: %v", due)
	}
	res, _ := s.Apply(now, WithdrawRequest{Operator: "op-a", ID: "rq1"})
	if res.Err == nil {
		t.Fatal("withdrawn while due for allotment")
	}
	if strings.Contains(res.Err.Error(), "0001-01-01") {
		t.Errorf("withdrawal refused with a cut-off of year 1: %v", res.Err)
	}
}

// TestReviewShrinkAdmittedGroupUnderCut: rain starts while the Siq is
// full of groups already through the gate; operations cut it to 300. The
// groups cannot be moved (they are in), but an operator whose group came
// short (40 of 50 through the gate) must still be able to lower its party
// to what was admitted (the way cancel's refusal tells it to: "reduce
// party_size instead"): that only frees room. modify() checks the room
// of the group's own wave without the group, and under the cut that room
// is below zero, so the shrink is refused as no_capacity.
func TestReviewShrinkAdmittedGroupUnderCut(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	s := r.s
	at := func(h, m int) time.Time { return time.Date(2026, 11, 29, h, m, 0, 0, cfg.Location()) }
	now := at(7, 0)
	for i := range 10 {
		res := r.do(t, now, Book{ID: fmt.Sprintf("bk%d", i), Operator: fmt.Sprintf("op-%d", i), Request: BookingRequest{
			Date: "2026-11-29", Route: "main", PartySize: 50, Window: Window{hm(8, 0), hm(9, 0)}}})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		b := res.Booking
		res = r.do(t, b.Slot, Scan{Gate: b.Gate, Ticket: Ticket{Booking: b.ID}, Count: 40, ScanID: fmt.Sprintf("s%d", i)})
		if res.Scan == nil || res.Scan.Admitted != 40 {
			t.Fatalf("scan %d: %+v", i, res.Scan)
		}
	}
	res := r.do(t, at(8, 40), CutCapacity{ID: "rain", Zone: "siq", Capacity: 300, Until: at(12, 0), Reason: "rain: slippery path"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	cuts := map[string]CapacityCut{"rain": *res.Cut}
	reviewCheck(t, s, cuts) // over, but only with groups already in
	size := 40
	res = r.do(t, at(8, 45), Modify{Operator: "op-3", ID: "bk3", PartySize: &size})
	if res.Err != nil {
		t.Fatalf("lowering an admitted group's party from 50 to the 40 admitted, under a cut: %v", res.Err)
	}
	reviewCheck(t, s, cuts)
}

// TestReviewRequestsForDateClosedLater: requests are pending when the
// site adds their date to closed_dates (after a flood, say) and restarts.
// The allotment places none of them (and says why), makes no booking, and
// the date stays closed to first come.
func TestReviewRequestsForDateClosedLater(t *testing.T) {
	cfg := plannedPetra(t)
	r := &recorder{s: New(cfg)}
	now := time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location())
	for i := range 3 {
		submitted(t, r, now, SubmitRequest{ID: fmt.Sprintf("rq%d", i), BookingID: fmt.Sprintf("bk%d", i), Operator: fmt.Sprintf("op-%d", i),
			Request: mainRoute(20, hm(8, 0), hm(12, 0))})
	}
	closed := reviewPetra(t, "closed_dates: []", `closed_dates: ["`+plannedDate+`"]`)
	s, err := Restore(closed, r.s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	after := plannedCutoff(cfg).Add(time.Hour)
	if res := r.do(t, after, SubmitRequest{ID: "late", BookingID: "bk-late", Operator: "op-9", Request: mainRoute(5, hm(8, 0), hm(9, 0))}); res.Err == nil {
		t.Fatal("a request for a closed date was accepted")
	}
	inst, err := s.RequestInstance(after, plannedDate)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanInstance(inst, PlanOptions{Iterations: -1})
	if err != nil {
		t.Fatal(err)
	}
	res := r.do(t, after, AllotRequests{Date: plannedDate, Plan: plan})
	if res.Err != nil || res.Allotted.Allotted != 0 || res.Allotted.NotPlaced != 3 {
		t.Fatalf("allotment of a closed date: %+v %v", res.Allotted, res.Err)
	}
	for _, q := range s.Requests("", plannedDate) {
		if q.Status != RequestNotPlaced || q.Reason == "" {
			t.Fatalf("request %s on a closed date: %s %q", q.ID, q.Status, q.Reason)
		}
	}
	if len(s.Bookings("", plannedDate)) != 0 {
		t.Fatal("bookings made on a closed date")
	}
	if res := r.do(t, after, Book{ID: "walk", Operator: "op-9", Request: mainRoute(5, hm(8, 0), hm(9, 0))}); code(res.Err) != CodeClosed {
		t.Fatalf("first come on the closed date: %v", res.Err)
	}
}
