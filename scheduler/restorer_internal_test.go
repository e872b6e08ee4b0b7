package scheduler

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestRestorerGivesBackRoomReservedOnTooHighAnEstimate: a Restorer told to
// expect far more bookings than come keeps the table sized for those that
// came (the store's estimate may be high).
func TestRestorerGivesBackRoomReservedOnTooHighAnEstimate(t *testing.T) {
	cfg := petra(t)
	r, err := NewRestorer(cfg, nil, 200_000)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
	var bs []Booking
	for i := range 1000 {
		bs = append(bs, Booking{ID: fmt.Sprintf("bk%04d", i), Operator: "op", Date: "2026-12-01", Route: "main", PartySize: 2,
			Window: Window{From: 6 * 60, To: 15 * 60}, Slot: day.Add(9 * time.Hour), Gate: cfg.Gates[0].ID, Status: StatusCancelled, Version: 1})
	}
	if err := r.AddBookings(bs); err != nil {
		t.Fatal(err)
	}
	s, err := r.Finish(Snapshot{})
	if err != nil {
		t.Fatal(err)
	}
	if c := cap(s.bookings.recs); c > 1000+1000/8 {
		t.Errorf("the table keeps room for %d bookings, has 1000", c)
	}
	if n := len(s.bookings.byID.slots); n > 4096 {
		t.Errorf("the id index has %d slots for 1000 ids", n)
	}
	for _, b := range bs {
		if got, ok := s.bookings.get(b.ID); !ok || got.ID != b.ID {
			t.Fatalf("booking %q is not found after the trim", b.ID)
		}
	}
}

// TestRestorerBuildsWhatPlacingOneByOneBuilds: the Restorer (an id looked
// up only when it does not come after every id added, zone loads summed by
// day, route and entry minute and added every few thousand entries, a
// day's operator-wave map sized to the last day's) builds the very state that placing each
// booking with the live path (place, then load) builds: the same booking
// table (records, lists by date, interned names, every id found at its
// record), the same days (waves, zone loads, operator loads by day and by
// wave, cuts), the same admission log and snapshot; and it refuses a
// duplicate id when the one-by-one path does, whatever the order of the
// bookings and the chunks they come in.
func TestRestorerBuildsWhatPlacingOneByOneBuilds(t *testing.T) {
	cfg := petra(t)
	loc := cfg.Location()
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, loc)
	statuses := []Status{StatusConfirmed, StatusConfirmed, StatusRescheduled, StatusCompleted, StatusCancelled}
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(0, 300).Draw(rt, "n")
		ids := rapid.IntRange(n, 3*n+1).Draw(rt, "ids") // fewer: more duplicates
		var snap Snapshot
		for i := range n {
			r := cfg.Routes[rapid.IntRange(0, len(cfg.Routes)-1).Draw(rt, "route")]
			day := base.AddDate(0, 0, rapid.IntRange(0, 3).Draw(rt, "day"))
			slot := day.Add(time.Duration(6*60+rapid.IntRange(0, 40).Draw(rt, "wave")*cfg.SlotMinutes) * time.Minute)
			if rapid.Bool().Draw(rt, "utc") {
				slot = slot.UTC() // as a decoder may give it: the Restorer puts it in the site's zone
			}
			party := rapid.IntRange(1, 12).Draw(rt, "party")
			if rapid.IntRange(0, 30).Draw(rt, "no visitors") == 0 { // no store writes one, a decoder may give it
				party = 0
			}
			st := statuses[rapid.IntRange(0, len(statuses)-1).Draw(rt, "status")]
			op := rapid.SampledFrom([]string{"op-1", "op-2", "op-3", WalkInOperator}).Draw(rt, "operator")
			b := Booking{ID: fmt.Sprintf("bk_%05d", rapid.IntRange(0, ids).Draw(rt, "id")), Operator: op, Date: day.Format(time.DateOnly),
				Route: r.ID, PartySize: party, Window: Window{From: 6 * 60, To: 15 * 60}, Slot: slot,
				Gate: r.Gates[rapid.IntRange(0, len(r.Gates)-1).Draw(rt, "gate")], Status: st,
				Language: rapid.SampledFrom([]string{"", "ar", "en"}).Draw(rt, "lang"), CreatedAt: day.Add(-time.Duration(i) * time.Minute), Version: 1}
			b.UpdatedAt = b.CreatedAt
			if st == StatusCompleted || rapid.IntRange(0, 3).Draw(rt, "admitted") == 0 {
				b.Admitted = rapid.IntRange(0, party).Draw(rt, "admitted n")
			}
			snap.Bookings = append(snap.Bookings, b)
		}
		if rapid.Bool().Draw(rt, "in key order") { // as a store gives them
			slices.SortStableFunc(snap.Bookings, func(a, b Booking) int { return strings.Compare(a.ID, b.ID) })
		}
		from := base.Add(8 * time.Hour)
		snap.Cuts = []CapacityCut{{ID: "cut-z", Zone: cfg.Zones[0].ID, Capacity: cfg.Zones[0].Capacity / 3, Reason: "rockfall", From: from, Until: from.Add(50 * time.Hour)}}

		want, werr := restoreOneByOne(cfg, snap)
		r, err := NewRestorer(cfg, snap.Cuts, rapid.IntRange(0, 2*n).Draw(rt, "estimate"))
		if err != nil {
			rt.Fatal(err)
		}
		if rapid.Bool().Draw(rt, "add zone loads early") { // as with more bookings than zonesFlush
			r.flushAt = rapid.IntRange(1, 8).Draw(rt, "flush at")
		}
		gerr := error(nil)
		for rest := snap.Bookings; len(rest) > 0 && gerr == nil; {
			k := rapid.IntRange(1, len(rest)).Draw(rt, "chunk")
			gerr = r.AddBookings(slices.Clone(rest[:k]))
			rest = rest[k:]
		}
		var got *State
		if gerr == nil {
			got, gerr = r.Finish(snap)
		}
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			rt.Fatalf("Restorer: %v; one by one: %v", gerr, werr)
		}
		if werr != nil {
			return
		}
		if !reflect.DeepEqual(got.days, want.days) {
			rt.Fatalf("the days differ (waves, zone or operator loads, cuts)")
		}
		g, w := got.bookings, want.bookings
		if !reflect.DeepEqual(g.recs, w.recs) || !reflect.DeepEqual(g.byDate, w.byDate) || !reflect.DeepEqual(g.names, w.names) ||
			!reflect.DeepEqual(g.nameIx, w.nameIx) || len(g.free) != 0 || len(g.hot) != 0 || g.byID.n != w.byID.n {
			rt.Fatalf("the booking tables differ")
		}
		for i := range g.recs {
			id := g.idAt(int32(i))
			if k, ok := g.byID.find(g, id); !ok || k != int32(i) {
				rt.Fatalf("booking %q is found at %d (%v), its record is %d", id, k, ok, i)
			}
		}
		if !reflect.DeepEqual(got.admits, want.admits) {
			rt.Fatalf("the admission logs differ")
		}
		if !reflect.DeepEqual(got.Snapshot(), want.Snapshot()) {
			rt.Fatalf("the snapshots differ")
		}
	})
}

// restoreOneByOne is Restore as placing each booking with the live path:
// the reference of TestRestorerBuildsWhatPlacingOneByOneBuilds.
func restoreOneByOne(cfg *Config, snap Snapshot) (*State, error) {
	r, err := NewRestorer(cfg, snap.Cuts, 0)
	if err != nil {
		return nil, err
	}
	s, loc := r.s, cfg.Location()
	for _, b := range snap.Bookings {
		if s.bookings.has(b.ID) {
			return nil, fmt.Errorf("scheduler: restore: duplicate booking %q", b.ID)
		}
		if _, ok := cfg.Route(b.Route); !ok {
			return nil, fmt.Errorf("scheduler: restore: booking %q has route %q, which the configuration no longer has", b.ID, b.Route)
		}
		b.Slot, b.CreatedAt, b.UpdatedAt = b.Slot.In(loc), b.CreatedAt.In(loc), b.UpdatedAt.In(loc)
		if b.Placed() {
			d, err := s.day(b.Date)
			if err != nil {
				return nil, fmt.Errorf("scheduler: restore: booking %q: %w", b.ID, err)
			}
			s.place(d, &b)
		}
		s.bookings.load(&b)
	}
	return r.Finish(snap)
}

// TestRestorerMinuteIsMinuteOf: the Restorer's entry minute (wallMinute
// less the day's midnight) is minuteOf's for any time, in any zone the
// decoder may give (the site's, which had summer time in some years, UTC,
// a fixed offset), on any day, before 1970 too, with seconds and
// nanoseconds that must round down.
func TestRestorerMinuteIsMinuteOf(t *testing.T) {
	cfg := petra(t)
	s := New(cfg)
	loc := cfg.Location()
	zones := []*time.Location{loc, time.UTC, time.FixedZone("", -5*3600-1800), time.FixedZone("", 3*3600)}
	rapid.Check(t, func(rt *rapid.T) {
		tm := time.Unix(rapid.Int64Range(-4e9, 5e9).Draw(rt, "sec"), rapid.Int64Range(0, 999_999_999).Draw(rt, "ns")).
			In(rapid.SampledFrom(zones).Draw(rt, "zone"))
		date := tm.In(loc).AddDate(0, 0, rapid.IntRange(-3, 3).Draw(rt, "days off")).Format(time.DateOnly)
		d, err := s.day(date)
		if err != nil {
			rt.Fatal(err)
		}
		got := int(wallMinute(tm.In(loc)) - int64(civilDays(d.base.Date()))*24*60)
		if want := s.minuteOf(d, tm); got != want {
			rt.Fatalf("%v on %s: minute %d, minuteOf %d", tm, date, got, want)
		}
	})
}
