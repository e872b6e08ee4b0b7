package scheduler

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// firstComeReplan is the closure re-plan as it was before the day planner,
// kept verbatim as the reference: the hit bookings are lifted off, then in
// slot order each goes to the earliest wave in its window with room, else
// the earliest later that day, else it is cancelled. It applies c to s the
// way close did and returns the ids of the hit bookings and the visitors
// it kept.
func firstComeReplan(s *State, now time.Time, c Close) (hitIDs []string, kept int) {
	cl := &Closure{ID: c.ID, Zones: slices.Clone(c.Zones), Reason: c.Reason, Source: c.Source, From: now, Until: c.Until}
	s.closures[cl.ID] = cl
	from, until := s.blockSpan(cl)
	var hit []*Booking
	for b := range s.bookings.all(nil) {
		if !b.Active() || b.Admitted > 0 {
			continue
		}
		d, err := s.day(b.Date)
		if err != nil {
			continue
		}
		r, _ := s.cfg.Route(b.Route)
		m := s.minuteOf(d, b.Slot)
		for _, st := range r.Stops {
			a, e := s.at(d, m+st.Arrive), s.at(d, m+st.Arrive+st.Stay)
			if cl.Covers(st.Zone) && a.Before(until) && e.After(from) {
				hit = append(hit, b)
				break
			}
		}
	}
	slices.SortFunc(hit, func(a, b *Booking) int {
		if c := a.Slot.Compare(b.Slot); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, b := range hit {
		d, _ := s.day(b.Date)
		s.unplace(d, b)
	}
	for _, b := range hit {
		hitIDs = append(hitIDs, b.ID)
		d, _ := s.day(b.Date)
		r, _ := s.cfg.Route(b.Route)
		p, ok, _ := s.find(d, b.Operator, r, b.PartySize, s.candidates(d, r, b.Window, now))
		if !ok {
			p, ok, _ = s.find(d, b.Operator, r, b.PartySize, s.candidates(d, r, Window{From: 0, To: dayMinutes}, now))
		}
		if !ok {
			b.Status = StatusCancelled
			continue
		}
		b.Gate, b.Slot, b.Status = p.gate, s.at(d, p.minute), StatusRescheduled
		s.place(d, b)
		kept += b.PartySize
	}
	slices.Sort(hitIDs)
	return hitIDs, kept
}

// meetsClosure reports whether a group of route r entering at slot meets closure
// zones (all when empty) between from and until, from the times alone.
func meetsClosure(r *Route, slot time.Time, zones []string, from, until time.Time) bool {
	for _, st := range r.Stops {
		if len(zones) > 0 && !slices.Contains(zones, st.Zone) {
			continue
		}
		a := slot.Add(time.Duration(st.Arrive) * time.Minute)
		e := a.Add(time.Duration(st.Stay) * time.Minute)
		if a.Before(until) && e.After(from) {
			return true
		}
	}
	return false
}

// replanTB is what checkReplan needs of *testing.T and *rapid.T.
type replanTB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// checkReplan checks a closure c applied at now to the state whose
// snapshot before it was before, independently of replan.go: the bookings
// hit are exactly the active, not admitted ones whose route meets the
// closure's span; each was rescheduled to a wave of its own date that is
// not over, at a gate of its route, clear of the closure, or cancelled,
// with the closure's reason, one version later, and reported once by a
// PutBooking and an event; every other booking is unchanged. It returns
// the visitors kept.
func checkReplan(t replanTB, s *State, before Snapshot, now time.Time, c Close, effects []Effect) (hitIDs []string, kept int) {
	t.Helper()
	cfg := s.Config()
	loc := cfg.Location()
	from, until := now, c.Until
	if until.IsZero() {
		n := now.In(loc)
		until = time.Date(n.Year(), n.Month(), n.Day()+1, 0, 0, 0, 0, loc)
	}
	put := map[string]Booking{}
	events := map[string]string{}
	for _, e := range effects {
		switch e := e.(type) {
		case PutBooking:
			if _, dup := put[e.Booking.ID]; dup {
				t.Fatalf("booking %s put twice", e.Booking.ID)
			}
			put[e.Booking.ID] = e.Booking
		case Event:
			if b, ok := e.Data.(Booking); ok {
				events[b.ID] = e.Kind
			}
		}
	}
	reason := closureReasonPrefix + c.Reason
	for _, old := range before.Bookings {
		b, _ := s.Booking("", old.ID)
		r, _ := cfg.Route(old.Route)
		hit := old.Active() && old.Admitted == 0 && meetsClosure(r, old.Slot, c.Zones, from, until)
		if !hit {
			if !reflect.DeepEqual(b, old) {
				t.Fatalf("booking %s not hit by the closure was changed:\n%+v\n%+v", old.ID, old, b)
			}
			if _, ok := put[old.ID]; ok {
				t.Fatalf("booking %s not hit by the closure was put", old.ID)
			}
			continue
		}
		hitIDs = append(hitIDs, old.ID)
		if p, ok := put[old.ID]; !ok || !reflect.DeepEqual(p, b) {
			t.Fatalf("hit booking %s: put %v %+v, state %+v", old.ID, ok, p, b)
		}
		if b.Reason != reason || b.Version != old.Version+1 || !b.UpdatedAt.Equal(now) {
			t.Fatalf("hit booking %s: reason %q version %d→%d updated %s", b.ID, b.Reason, old.Version, b.Version, b.UpdatedAt)
		}
		switch b.Status {
		case StatusCancelled:
			if events[b.ID] != EventBookingCancelled {
				t.Fatalf("cancelled booking %s: event %q", b.ID, events[b.ID])
			}
		case StatusRescheduled:
			if events[b.ID] != EventBookingRescheduled {
				t.Fatalf("rescheduled booking %s: event %q", b.ID, events[b.ID])
			}
			base, _ := time.ParseInLocation(time.DateOnly, b.Date, loc)
			m := int(b.Slot.Sub(base) / time.Minute)
			wave := now.Truncate(time.Duration(cfg.SlotMinutes) * time.Minute) // Amman is UTC+3: whole slots
			if b.Date != old.Date || b.PartySize != old.PartySize || b.Operator != old.Operator || b.Route != old.Route {
				t.Fatalf("rescheduled booking %s changed more than its wave: %+v → %+v", b.ID, old, b)
			}
			if b.Slot.Before(wave) || m < 0 || m >= 24*60 || m%cfg.SlotMinutes != 0 || !slices.Contains(r.Gates, b.Gate) {
				t.Fatalf("rescheduled booking %s to %s at %s (now %s)", b.ID, b.Slot, b.Gate, now)
			}
			if meetsClosure(r, b.Slot, c.Zones, from, until) {
				t.Fatalf("rescheduled booking %s to %s, which meets the closure %s-%s", b.ID, b.Slot, from, until)
			}
			if b.Slot.Equal(old.Slot) && b.Gate == old.Gate {
				t.Fatalf("booking %s reported moved but kept its wave", b.ID)
			}
			kept += b.PartySize
		default:
			t.Fatalf("hit booking %s is %s", b.ID, b.Status)
		}
	}
	if len(put) != len(hitIDs) {
		t.Fatalf("%d bookings put, %d hit", len(put), len(hitIDs))
	}
	slices.Sort(hitIDs)
	return hitIDs, kept
}

func effectsJSON(t interface{ Fatal(...any) }, effects []Effect) string {
	var out []string
	for _, e := range effects {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%T%s", e, b))
	}
	return strings.Join(out, "\n")
}

// TestPropertyClosureReplan: on random days (random bookings over three
// dates, some groups admitted), a random closure (random zones or the
// whole site, from a random time, open-ended or lasting up to two and a
// half days) leaves no zone bucket, gate wave or operator share over
// capacity, moves every hit booking clear of the closure or cancels it,
// leaves every other booking unchanged, keeps at least as many visitors
// as the first-come rule, and gives the same effects and state when
// applied again to the same state.
func TestPropertyClosureReplan(t *testing.T) {
	cfg := tight(petra(t))
	loc := cfg.Location()
	ops := []string{"op-a", "op-b", "op-c", "op-d", WalkInOperator}
	routes := []string{"main", "monastery", "high-place", "back-trail", "petra-by-night"}
	dates := []string{"2026-11-30", "2026-12-01", "2026-12-02"} // Monday to Wednesday: two evenings
	zones := []string{"bab-al-siq", "siq", "treasury", "monastery", "high-place", "little-petra", "colonnaded-street"}
	rapid.Check(t, func(t *rapid.T) {
		// The commands before the closure, replayed on three states: the
		// one closed, the first-come reference and a twin closed again.
		// (Restore would not do: it drops the load of completed groups.)
		type step struct {
			at  time.Time
			cmd Command
		}
		var script []step
		booked := testNow(cfg)
		for i := range rapid.IntRange(0, 160).Draw(t, "bookings") {
			from := rapid.IntRange(hm(5, 0), hm(20, 0)).Draw(t, "from") / 15 * 15
			date := dates[max(rapid.IntRange(0, 6).Draw(t, "date")-4, 0)] // most on the closure's first day
			script = append(script, step{booked, Book{ID: fmt.Sprintf("bk%03d", i), Operator: rapid.SampledFrom(ops).Draw(t, "op"), Request: BookingRequest{
				Date: date, Route: rapid.SampledFrom(routes).Draw(t, "route"),
				PartySize: rapid.IntRange(1, cfg.Policy.MaxPartySize).Draw(t, "size"),
				Window:    Window{from, from + 15*rapid.IntRange(1, 16).Draw(t, "len")}}}})
		}
		s := New(cfg)
		for _, st := range script {
			s.Apply(st.at, st.cmd)
		}
		first := time.Date(2026, 11, 30, 0, 0, 0, 0, loc)
		now := first.Add(time.Duration(rapid.IntRange(hm(5, 0), hm(22, 0)).Draw(t, "at")) * time.Minute)
		if rapid.IntRange(0, 3).Draw(t, "morning") > 0 {
			now = first.Add(time.Duration(rapid.IntRange(hm(6, 0), hm(13, 0)).Draw(t, "at")) * time.Minute)
		}
		// Some of the groups whose wave came before now came in, in full
		// or in part.
		for _, b := range s.Bookings("", "2026-11-30") {
			if b.Slot.Before(now) && rapid.IntRange(0, 2).Draw(t, "admit") > 0 {
				n := rapid.IntRange(1, b.PartySize).Draw(t, "count")
				scan := Scan{Gate: b.Gate, Ticket: Ticket{Booking: b.ID}, Count: n}
				s.Apply(b.Slot, scan)
				script = append(script, step{b.Slot, scan})
			}
		}
		c := Close{ID: "cl-test", Reason: "test",
			Zones: rapid.SliceOfNDistinct(rapid.SampledFrom(zones), 0, 3, rapid.ID[string]).Draw(t, "zones")}
		switch rapid.IntRange(0, 9).Draw(t, "until") {
		case 0, 1, 2: // open-ended: until the end of the day
		case 8, 9: // days
			c.Until = now.Add(time.Duration(rapid.IntRange(6*60, 60*60).Draw(t, "minutes")) * time.Minute)
		default: // hours
			c.Until = now.Add(time.Duration(rapid.IntRange(15, 6*60).Draw(t, "minutes")) * time.Minute)
		}
		ref, twin := New(cfg), New(cfg)
		for _, st := range script {
			ref.Apply(st.at, st.cmd)
			twin.Apply(st.at, st.cmd)
		}
		refHit, refKept := firstComeReplan(ref, now, c)

		before := s.Snapshot()
		res, effects := s.Apply(now, c)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		checkLoads(t, cfg, s)
		hit, kept := checkReplan(t, s, before, now, c, effects)
		if !slices.Equal(hit, refHit) {
			t.Fatalf("hit %v, the first-come reference hit %v", hit, refHit)
		}
		if kept < refKept {
			t.Fatalf("kept %d visitors of %d groups hit, first come keeps %d", kept, len(hit), refKept)
		}
		res2, effects2 := twin.Apply(now, c)
		if res2.Err != nil || effectsJSON(t, effects) != effectsJSON(t, effects2) || snapJSON(t, s) != snapJSON(t, twin) {
			t.Fatal("the same closure on the same state gave other effects or another state")
		}
	})
}

// fullDay books date first come, from two days ahead, with up to attempts
// requests of a realistic Petra day (seeded): operators of unequal size,
// coaches of 30 to 60 and smaller groups, most of them wanting 09:00 to
// 10:00, windows of one to three hours; refused requests are dropped, so
// with enough attempts the day is full.
func fullDay(t testing.TB, cfg *Config, seed uint64, date string, attempts int) *State {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0xc105e))
	loc := cfg.Location()
	base, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		t.Fatal(err)
	}
	ops := []string{"op-petra-tours", "op-nabatean", "op-wadi-musa", "op-aqaba-coach", "op-amman-express", "op-desert-rose", "op-little-guides"}
	weights := []int{26, 20, 16, 13, 11, 8, 6}
	s := New(cfg)
	now := base.Add(-48 * time.Hour)
	for i := range attempts {
		op := ops[0]
		for x, j := rng.IntN(100), 0; j < len(ops); j++ {
			if x < weights[j] {
				op = ops[j]
				break
			}
			x -= weights[j]
		}
		size := 10 + rng.IntN(20)
		if rng.IntN(100) < 65 {
			size = 30 + rng.IntN(31) // a coach
		}
		route := "main"
		switch x := rng.IntN(100); {
		case x < 55:
		case x < 77:
			route = "monastery"
		case x < 88:
			route = "high-place"
		default:
			route = "back-trail"
			size = min(size, 10+rng.IntN(21))
		}
		if rng.IntN(100) < 5 {
			op, size = WalkInOperator, 10+rng.IntN(11)
		}
		pref := hm(6, 0) + 15*rng.IntN(33) // 06:00-14:00
		if rng.IntN(100) < 60 {
			pref = hm(9, 0) + 15*rng.IntN(5) // coaches arrive 09:00-10:00
		}
		span := 60 * (1 + rng.IntN(3))
		from := max(pref-15*rng.IntN(span/15), hm(6, 0))
		s.Apply(now, Book{ID: fmt.Sprintf("bk-%d-%03d", seed, i), Operator: op, Request: BookingRequest{
			Date: date, Route: route, PartySize: size, Window: Window{from, min(from+span, hm(16, 0))}}})
	}
	return s
}

// admitBefore scans in full every booking of date whose wave started
// before at, at its wave: the groups already in when something happens.
// A full day is more than the hold thresholds allow at once: a group the
// forecast holds back at its gate (forecast.go) is not in.
func admitBefore(t testing.TB, s *State, date string, at time.Time) {
	t.Helper()
	for _, b := range s.Bookings("", date) {
		if b.Active() && b.Slot.Before(at) {
			res, _ := s.Apply(b.Slot, Scan{Gate: b.Gate, Ticket: Ticket{Booking: b.ID}, Count: b.PartySize})
			if res.Scan.Reason == ReasonHeld {
				continue
			}
			if res.Scan.Admitted != b.PartySize {
				t.Fatalf("admitting %s: %+v", b.ID, res.Scan)
			}
		}
	}
}

// replanScenario is a full day and a closure on it.
type replanScenario struct {
	name  string
	seed  uint64
	date  string
	at    string // HH:MM of the closure
	until string // HH:MM, "" for open-ended
	zones []string
	admit bool // the groups whose wave came before the closure are in
}

var floodZones = []string{"bab-al-siq", "siq", "treasury"} // as the flood_warning alert closes

func (c replanScenario) build(t testing.TB, cfg *Config) (*State, time.Time, Close) {
	t.Helper()
	s := fullDay(t, cfg, c.seed, c.date, 1500)
	base, _ := time.ParseInLocation(time.DateOnly, c.date, cfg.Location())
	clock := func(v string) time.Time {
		m, err := ParseClock(v)
		if err != nil {
			t.Fatal(err)
		}
		return base.Add(time.Duration(m) * time.Minute)
	}
	now := clock(c.at)
	if c.admit {
		admitBefore(t, s, c.date, now)
	}
	cl := Close{ID: "cl-" + c.name, Zones: c.zones, Reason: "flood", Source: "alert:flood_warning"}
	if c.until != "" {
		cl.Until = clock(c.until)
	}
	return s, now, cl
}

// run applies the closure and checks it; it returns the groups hit, the
// visitors they had, the visitors kept and what first come would keep.
func (c replanScenario) run(t testing.TB, cfg *Config) (groups, visitors, kept, firstCome int) {
	t.Helper()
	s, now, cl := c.build(t, cfg)
	ref, _, _ := c.build(t, cfg) // the same day again (Restore would drop the completed groups' load)
	refHit, refKept := firstComeReplan(ref, now, cl)
	before := s.Snapshot()
	res, effects := s.Apply(now, cl)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	checkLoads(t, cfg, s)
	hit, kept := checkReplan(t, s, before, now, cl, effects)
	if !slices.Equal(hit, refHit) {
		t.Fatalf("hit %d groups, first come %d", len(hit), len(refHit))
	}
	for _, id := range hit {
		b, _ := s.Booking("", id)
		visitors += b.PartySize
	}
	return len(hit), visitors, kept, refKept
}

var replanScenarios = []replanScenario{
	{name: "siq-flood-11-13", seed: 1, date: "2026-12-01", at: "11:00", until: "13:00", zones: floodZones, admit: true},
	{name: "siq-flood-11-13-b", seed: 2, date: "2026-12-01", at: "11:00", until: "13:00", zones: floodZones, admit: true},
	{name: "siq-flood-09-11", seed: 3, date: "2026-12-01", at: "09:00", until: "11:00", zones: floodZones, admit: true},
	{name: "monastery-rockfall-08-12", seed: 4, date: "2026-12-01", at: "08:00", until: "12:00", zones: []string{"monastery"}, admit: true},
	{name: "siq-flood-11-13-nobody-in", seed: 1, date: "2026-12-01", at: "11:00", until: "13:00", zones: floodZones},
}

// TestClosureReplanScenarios closes zones of full Petra days and checks
// that the re-plan keeps at least the visitors first come keeps; the
// figures are logged (go test -run ClosureReplanScenarios -v).
func TestClosureReplanScenarios(t *testing.T) {
	cfg := petra(t)
	gained := 0
	for _, c := range replanScenarios {
		t.Run(c.name, func(t *testing.T) {
			groups, visitors, kept, first := c.run(t, cfg)
			t.Logf("%d groups hit (%d visitors): kept %d, first come %d (%+d)", groups, visitors, kept, first, kept-first)
			if groups == 0 {
				t.Fatal("the closure hit nobody: the scenario tests nothing")
			}
			if kept < first {
				t.Fatalf("kept %d visitors, first come %d", kept, first)
			}
			gained += kept - first
		})
	}
	if gained == 0 {
		t.Error("the planner kept no more visitors than first come on any full day: is it used at all?")
	}
}

// TestClosureReplanSmall: a closure of the Siq at 09:00 until 11:00 moves
// two groups of 09:00 and 09:15 on the main trail with room after it: the
// planner keeps them in their windows, at the earliest waves clear of the
// closure, as first come would.
func TestClosureReplanSmall(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	now := testNow(cfg)
	for i, from := range []int{hm(9, 0), hm(9, 15)} {
		if res := r.do(t, now, Book{ID: fmt.Sprintf("bk%d", i), Operator: "op-a", Request: BookingRequest{
			Date: "2026-12-01", Route: "main", PartySize: 40, Window: Window{from, from + 4*60}}}); res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, cfg.Location())
	r.effects = nil
	if res := r.do(t, at, Close{ID: "cl", Zones: []string{"siq"}, Reason: "flood", Until: at.Add(2 * time.Hour)}); res.Err != nil {
		t.Fatal(res.Err)
	}
	// The Siq is entered 15 minutes after the gate: 10:45 is the first wave
	// clear of it, and both fit there (40 + 40 of 300).
	want := time.Date(2026, 12, 1, 10, 45, 0, 0, cfg.Location())
	for _, id := range []string{"bk0", "bk1"} {
		b, _ := r.s.Booking("", id)
		if b.Status != StatusRescheduled || !b.Slot.Equal(want) || b.Reason != "closure: flood" {
			t.Errorf("%s: %s at %s (%q), want rescheduled at %s", id, b.Status, b.Slot, b.Reason, want)
		}
	}
	var kinds []string
	for _, e := range r.effects {
		switch e := e.(type) {
		case Event:
			kinds = append(kinds, e.Kind)
		default:
			kinds = append(kinds, fmt.Sprintf("%T", e))
		}
	}
	if got := strings.Join(kinds, " "); got != "scheduler.PutClosure zone.closed scheduler.PutBooking booking.rescheduled scheduler.PutBooking booking.rescheduled" {
		t.Errorf("effects: %s", got)
	}
}

// TestClosureReplanDates: a closure of three days re-plans each date on
// its own: the groups of the days it covers whole are cancelled, those of
// its last day are moved after it.
func TestClosureReplanDates(t *testing.T) {
	cfg := petra(t)
	s := New(cfg)
	now := testNow(cfg)
	dates := []string{"2026-12-01", "2026-12-02", "2026-12-03"}
	for _, date := range dates {
		for i := range 3 {
			if res, _ := s.Apply(now, Book{ID: fmt.Sprintf("%s-%d", date, i), Operator: "op-a", Request: BookingRequest{
				Date: date, Route: "main", PartySize: 30, Window: Window{hm(9, 0), hm(11, 0)}}}); res.Err != nil {
				t.Fatal(res.Err)
			}
		}
	}
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, cfg.Location())
	until := time.Date(2026, 12, 3, 10, 0, 0, 0, cfg.Location())
	res, effects := s.Apply(at, Close{ID: "cl", Zones: []string{"siq"}, Reason: "works", Until: until})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var order []string
	for _, e := range effects {
		if p, ok := e.(PutBooking); ok {
			order = append(order, p.Booking.ID)
			want := StatusCancelled
			if p.Booking.Date == "2026-12-03" {
				want = StatusRescheduled
			}
			if p.Booking.Status != want {
				t.Errorf("%s: %s, want %s", p.Booking.ID, p.Booking.Status, want)
			}
			if want == StatusRescheduled && p.Booking.Slot.Before(until.Add(-15*time.Minute)) {
				t.Errorf("%s moved to %s, in the closure", p.Booking.ID, p.Booking.Slot)
			}
		}
	}
	if !slices.IsSorted(order) || len(order) != 9 {
		t.Errorf("bookings put in the order %v, want the 9 by date and slot", order)
	}
}

// BenchmarkReplanSiqFlood closes the Siq, its entrance and the Treasury
// at 11:00 until 13:00 on a full Petra day (1,500 requests booked first
// come: about 7,000 visitors), as the flood_warning alert does: the
// latency of the Close command in the owner loop, planner included.
// "nobody-in" has no group admitted, so every group whose route meets the
// closure is hit (the worst case for the budget); "morning-in" has the
// groups whose wave came before 11:00 admitted. Reported: the groups hit,
// the visitors kept and what first come would keep.
func BenchmarkReplanSiqFlood(b *testing.B) {
	cfg := petra(b)
	for _, c := range []replanScenario{
		{name: "nobody-in", seed: 1, date: "2026-12-01", at: "11:00", until: "13:00", zones: floodZones},
		{name: "morning-in", seed: 1, date: "2026-12-01", at: "11:00", until: "13:00", zones: floodZones, admit: true},
	} {
		b.Run(c.name, func(b *testing.B) {
			ref, now, cl := c.build(b, cfg)
			hit, first := firstComeReplan(ref, now, cl)
			kept := 0
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s, _, _ := c.build(b, cfg) // not Restore: it drops the completed groups' load
				b.StartTimer()
				_, effects := s.Apply(now, cl)
				kept = 0
				for _, e := range effects {
					if p, ok := e.(PutBooking); ok && p.Booking.Status == StatusRescheduled {
						kept += p.Booking.PartySize
					}
				}
			}
			b.ReportMetric(float64(len(hit)), "groups_hit")
			b.ReportMetric(float64(kept), "kept")
			b.ReportMetric(float64(first), "kept_first_come")
			b.ReportMetric(float64(replanIterations(len(hit))), "iterations")
		})
	}
}

// checkLoads recomputes, minute by minute from the bookings alone, what
// the live state holds: every booking not cancelled (a completed group
// still counts, as in the state, though Restore and so checkCapacity
// leave it out). No zone, wave or operator share may be over, and the
// state's own books must agree.
func checkLoads(t replanTB, cfg *Config, s *State) {
	t.Helper()
	share := 1 - cfg.Policy.WalkInShare
	type zoneKey struct {
		date, zone string
		minute     int
	}
	type waveKey struct {
		date, gate, operator string
		slot                 int
	}
	zone, zoneOp := map[zoneKey]int{}, map[zoneKey]int{}
	wave, waveOp, opWaveLoad := map[waveKey]int{}, map[waveKey]int{}, map[waveKey]int{}
	opDayLoad := map[[2]string]int{}
	for _, b := range s.Bookings("", "") {
		if b.Status == StatusCancelled {
			continue
		}
		base, _ := time.ParseInLocation(time.DateOnly, b.Date, cfg.Location())
		m := int(b.Slot.Sub(base) / time.Minute)
		r, _ := cfg.Route(b.Route)
		walkIn := b.Operator == WalkInOperator
		slot := m / cfg.SlotMinutes
		wave[waveKey{b.Date, b.Gate, "", slot}] += b.PartySize
		if !walkIn {
			waveOp[waveKey{b.Date, b.Gate, "", slot}] += b.PartySize
			opWaveLoad[waveKey{b.Date, b.Gate, b.Operator, slot}] += b.PartySize
			opDayLoad[[2]string{b.Date, b.Operator}] += b.PartySize
		}
		for _, st := range r.Stops {
			for x := m + st.Arrive; x < min(m+st.Arrive+st.Stay, dayMinutes); x++ {
				zone[zoneKey{b.Date, st.Zone, x}] += b.PartySize
				if !walkIn {
					zoneOp[zoneKey{b.Date, st.Zone, x}] += b.PartySize
				}
			}
		}
	}
	for k, v := range zone {
		z, _ := cfg.Zone(k.zone)
		if v > z.Capacity || zoneOp[k] > floorShare(z.Capacity, share) {
			t.Fatalf("%s zone %s at minute %d: %d visitors (%d of operators), capacity %d", k.date, k.zone, k.minute, v, zoneOp[k], z.Capacity)
		}
	}
	for k, v := range wave {
		g, _ := cfg.Gate(k.gate)
		if v > g.WaveCapacity || waveOp[k] > floorShare(g.WaveCapacity, share) {
			t.Fatalf("%s gate %s slot %d: wave of %d (%d of operators), capacity %d", k.date, k.gate, k.slot, v, waveOp[k], g.WaveCapacity)
		}
	}
	for k, v := range opWaveLoad {
		g, _ := cfg.Gate(k.gate)
		if v > floorShare(g.WaveCapacity, cfg.Policy.OperatorWaveShare) {
			t.Fatalf("%s operator %s holds %d of wave %s/%d", k.date, k.operator, v, k.gate, k.slot)
		}
	}
	for date, d := range s.days {
		for k, n := range opDayLoad {
			if k[0] == date && n > floorShare(d.entries, cfg.Policy.OperatorDayShare) {
				t.Fatalf("%s operator %s holds %d of the day", date, k[1], n)
			}
		}
		for _, z := range cfg.Zones {
			for i, v := range d.zone[z.ID] {
				if want := zone[zoneKey{date, z.ID, i * s.res}]; int(v) != want {
					t.Fatalf("%s zone %s bucket %d: state books %d, recomputed %d", date, z.ID, i, v, want)
				}
			}
		}
		for _, g := range cfg.Gates {
			for i, v := range d.wave[g.ID] {
				if want := wave[waveKey{date, g.ID, "", i}]; int(v) != want {
					t.Fatalf("%s gate %s slot %d: state books %d, recomputed %d", date, g.ID, i, v, want)
				}
			}
		}
	}
}
