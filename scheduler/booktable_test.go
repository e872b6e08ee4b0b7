package scheduler

import (
	"math"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestBookTableGivesBackWhatItKeeps: a booking stored in the table, packed
// or not (times in any zone or year, zero times, numbers over int32, any
// strings), comes back equal, by id and by date; a changed booking is
// written back by flush.
func TestBookTableGivesBackWhatItKeeps(t *testing.T) {
	cfg := plannedPetra(t)
	zones := []*time.Location{cfg.Location(), time.UTC, time.Local, time.FixedZone("x", 3600)}
	tm := rapid.Custom(func(t *rapid.T) time.Time {
		if rapid.IntRange(0, 5).Draw(t, "zero") == 0 {
			return time.Time{}
		}
		sec := rapid.OneOf(rapid.Int64Range(-1e10, 1e10), rapid.Int64Range(math.MinInt64/4, math.MaxInt64/4)).Draw(t, "sec")
		return time.Unix(sec, rapid.Int64Range(0, 999_999_999).Draw(t, "ns")).In(rapid.SampledFrom(zones).Draw(t, "zone"))
	})
	num := rapid.OneOf(rapid.IntRange(-5, 5000), rapid.Int())
	str := rapid.OneOf(rapid.SampledFrom([]string{"", "op-a", "main", "2026-12-01", "confirmed"}), rapid.String())
	rapid.Check(t, func(rt *rapid.T) {
		tab := newBookTable(cfg)
		want := map[string]Booking{}
		for i := range rapid.IntRange(1, 30).Draw(rt, "n") {
			b := Booking{ID: rapid.StringMatching(`bk[0-9]{1,3}`).Draw(rt, "id"), Operator: str.Draw(rt, "op"), Date: str.Draw(rt, "date"),
				Route: str.Draw(rt, "route"), PartySize: num.Draw(rt, "size"), Window: Window{num.Draw(rt, "from"), num.Draw(rt, "to")},
				Language: str.Draw(rt, "lang"), Guide: str.Draw(rt, "guide"), Reference: str.Draw(rt, "ref"), Slot: tm.Draw(rt, "slot"),
				Gate: str.Draw(rt, "gate"), Status: Status(str.Draw(rt, "status")), Admitted: num.Draw(rt, "admitted"),
				Reason: str.Draw(rt, "reason"), CreatedAt: tm.Draw(rt, "created"), UpdatedAt: tm.Draw(rt, "updated"), Version: num.Draw(rt, "version")}
			if _, ok := want[b.ID]; ok {
				// Change it in place, as a command does, and flush.
				h, _ := tab.get(b.ID)
				*h = b
				tab.flush()
			} else if i%2 == 0 {
				tab.load(&b)
			} else {
				tab.add(&b)
				tab.flush()
			}
			want[b.ID] = b
		}
		if tab.len() != len(want) {
			rt.Fatalf("%d bookings, want %d", tab.len(), len(want))
		}
		for id, w := range want {
			got, ok := tab.peek(id)
			if !ok || !reflect.DeepEqual(got, w) {
				rt.Fatalf("%s: got %+v (%v)\nwant %+v", id, got, ok, w)
			}
			n := 0
			for b := range tab.view(w.Date, nil) {
				if b.ID == id {
					n++
				}
			}
			if n != 1 {
				rt.Fatalf("%s is listed %d times on its date %q", id, n, w.Date)
			}
		}
	})
}
