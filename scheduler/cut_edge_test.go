package scheduler

// Capacity cuts (cut.go) at their edges: a day with no picture yet,
// across midnight, several cuts on one zone, an admitted group under a
// cut, a cut on a planned day.

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// TestCutShownWithoutBookings: a cut in force today on a zone of a
// day that holds no booking yet (no picture in memory) must still show in
// the occupancy (and so in tafweej_zone_capacity_visitors and GET
// /v1/occupancy, /v1/status): the control room sees the capacity in force.
func TestCutShownWithoutBookings(t *testing.T) {
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

// TestCutAcrossMidnight: a cut of the Siq from 22:00 until 08:00 the
// next morning, made before either day holds a booking. Petra by Night
// groups (22:45 and 23:30, walking past midnight on their day's picture)
// and the next morning's groups keep under it; the next morning after
// 08:00 has the whole capacity; availability and waves report the
// bookings without the phantom load; a restore and a lift keep the books
// exact.
func TestCutAcrossMidnight(t *testing.T) {
	cfg := midnightPetra(t) // Siq 150, visitor centre waves of 100, parties up to 60
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
			checkLoadsAgainstCuts(t, s, cuts)
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
	checkSameBooks(t, s, again)
	checkLoadsAgainstCuts(t, again, cuts)
	// Lifted before it starts: it never applies; the gate's cut stays.
	res, _ = s.Apply(at(1, 21, 0), LiftCut{ID: "night"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	cuts["night"] = *res.Cut
	checkLoadsAgainstCuts(t, s, cuts)
	if d := s.days["2026-12-01"]; d.phantomZone("siq", (hm(23, 0))/s.res) != 0 || d.phantomWave("visitor-centre", hm(23, 30)/cfg.SlotMinutes) != 60 {
		t.Errorf("after the lift of the Siq's cut: Siq phantom %d, gate phantom %d (want 0 and 60)",
			d.phantomZone("siq", hm(23, 0)/s.res), d.phantomWave("visitor-centre", hm(23, 30)/cfg.SlotMinutes))
	}
	checkLoadsAgainstCuts(t, s, cuts)
}

// TestSeveralCutsOneZone: two cuts of the Siq overlap (the lower
// binds), one is lifted while the other is in force, then the other: the
// phantom load follows exactly, the bookings stay within what was in
// force, and after both lifts nothing of the cuts is left.
func TestSeveralCutsOneZone(t *testing.T) {
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
		checkLoadsAgainstCuts(t, s, cuts)
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
		checkLoadsAgainstCuts(t, s, cuts)
		// Fill the day again first come: the cuts still in force bind.
		for i := range 20 {
			r.do(t, now, Book{ID: fmt.Sprintf("%s-more%02d", id, i), Operator: fmt.Sprintf("op-%d", i%7), Request: BookingRequest{
				Date: "2026-12-01", Route: "main", PartySize: 40, Window: Window{hm(6, 0), hm(15, 0)}}})
		}
		checkLoadsAgainstCuts(t, s, cuts)
	}
	if d.cuts != nil {
		t.Fatal("phantom load left once every cut is lifted")
	}
	if len(s.Cuts(now)) != 0 {
		t.Fatalf("lifted cuts still listed: %+v", s.Cuts(now))
	}
}

// TestShrinkAdmittedGroupUnderCut: rain starts while the Siq is
// full of groups already through the gate; operations cut it to 300. The
// groups cannot be moved (they are in), but an operator whose group came
// short (40 of 50 through the gate) must still be able to lower its party
// to what was admitted (the way cancel's refusal tells it to: "reduce
// party_size instead"): that only frees room. modify() checks the room
// of the group's own wave without the group, and under the cut that room
// is below zero, so the shrink is refused as no_capacity.
func TestShrinkAdmittedGroupUnderCut(t *testing.T) {
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
	checkLoadsAgainstCuts(t, s, cuts) // over, but only with groups already in
	size := 40
	res = r.do(t, at(8, 45), Modify{Operator: "op-3", ID: "bk3", PartySize: &size})
	if res.Err != nil {
		t.Fatalf("lowering an admitted group's party from 50 to the 40 admitted, under a cut: %v", res.Err)
	}
	checkLoadsAgainstCuts(t, s, cuts)
}

// TestCutOnPlannedDay: a cut made before a planned day's cut-off is
// in the planner's instance (as phantom load) and in AllotRequests'
// checks: the allotted bookings keep under it.
func TestCutOnPlannedDay(t *testing.T) {
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
	checkLoadsAgainstCuts(t, s, cuts)
}
