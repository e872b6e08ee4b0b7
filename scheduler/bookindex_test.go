package scheduler

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestIDIndexFindsWhatAMapFinds: adds and removes in any order, the index
// finds exactly the ids a map holds, at the same records.
func TestIDIndexFindsWhatAMapFinds(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var x idIndex
		var recs testIDs
		want := map[string]int32{}
		var free []int32
		for range rapid.IntRange(0, 400).Draw(rt, "ops") {
			id := fmt.Sprintf("bk%d", rapid.IntRange(0, 60).Draw(rt, "id"))
			if i, ok := want[id]; ok && rapid.Bool().Draw(rt, "remove") {
				x.remove(recs, id)
				recs[i] = ""
				free = append(free, i)
				delete(want, id)
			} else if !ok {
				var i int32
				if len(free) > 0 {
					i, free = free[len(free)-1], free[:len(free)-1]
				} else {
					i = int32(len(recs))
					recs = append(recs, "")
				}
				recs[i] = id
				x.add(recs, i)
				want[id] = i
			}
			if x.n != len(want) {
				rt.Fatalf("index holds %d ids, want %d", x.n, len(want))
			}
			for k := range 61 {
				id := fmt.Sprintf("bk%d", k)
				got, ok := x.find(recs, id)
				w, wok := want[id]
				if ok != wok || ok && got != w {
					rt.Fatalf("find %s = %d %v, want %d %v", id, got, ok, w, wok)
				}
			}
		}
	})
}

// TestIDIndexRunFindsWhatAMapFinds: ids added a run at a time (addRun, a
// restart's bulk insert, batches of any length and across its rehashes),
// between single adds and removes, are found exactly as a map finds them,
// each at its record: none dropped, none twice, none at another record.
func TestIDIndexRunFindsWhatAMapFinds(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var x idIndex
		var recs testIDs
		want := map[string]int32{}
		next := 0 // ids are new: bk0, bk1, ...
		for range rapid.IntRange(0, 30).Draw(rt, "ops") {
			switch op := rapid.IntRange(0, 2).Draw(rt, "op"); {
			case op == 0 && len(want) > 0: // remove one (a later run may reuse its slot)
				k := rapid.IntRange(0, len(recs)-1).Draw(rt, "victim")
				if recs[k] == "" {
					continue
				}
				x.remove(recs, recs[k])
				delete(want, recs[k])
				recs[k] = ""
			case op == 1: // one add
				recs = append(recs, fmt.Sprintf("bk%d", next))
				next++
				x.add(recs, int32(len(recs)-1))
				want[recs[len(recs)-1]] = int32(len(recs) - 1)
			default: // a run of new records
				from := int32(len(recs))
				for range rapid.IntRange(0, 300).Draw(rt, "run") {
					recs = append(recs, fmt.Sprintf("bk%d", next))
					want[recs[len(recs)-1]] = int32(len(recs) - 1)
					next++
				}
				x.addRun(recs, from, int32(len(recs)))
			}
			if x.n != len(want) {
				rt.Fatalf("index holds %d ids, want %d", x.n, len(want))
			}
			for k := range next + 1 {
				id := fmt.Sprintf("bk%d", k)
				got, ok := x.find(recs, id)
				w, wok := want[id]
				if ok != wok || ok && got != w {
					rt.Fatalf("find %s = %d %v, want %d %v", id, got, ok, w, wok)
				}
			}
			if x.used*4 > len(x.slots)*3 {
				rt.Fatalf("index %d of %d slots used, over 3/4", x.used, len(x.slots))
			}
		}
	})
}

// testIDs are records that are only an id ("": removed).
type testIDs []string

func (ids testIDs) idAt(i int32) string { return ids[i] }

// TestBookTextGivesBackEveryStringAsWritten: strings of any length added
// across chunk boundaries read back as written, also after many more
// were added (a chunk is never moved or changed).
func TestBookTextGivesBackEveryStringAsWritten(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var x bookText
		type put struct {
			at         uint32
			s, more    string
			viewBefore string
		}
		var puts []put
		for range rapid.IntRange(1, 300).Draw(rt, "adds") {
			s := strings.Repeat(rapid.StringMatching(`[a-z0-9_]{0,8}`).Draw(rt, "s"), rapid.IntRange(0, 2000).Draw(rt, "rep"))
			more := rapid.String().Draw(rt, "more")
			if !x.fits(len(s) + len(more)) {
				rt.Fatalf("%d bytes do not fit in %d chunks", len(s)+len(more), len(x.chunks))
			}
			at := x.add(s, more)
			puts = append(puts, put{at, s, more, x.get(at, len(s))})
		}
		for _, p := range puts {
			if got := x.get(p.at, len(p.s)+len(p.more)); got != p.s+p.more || p.viewBefore != p.s {
				rt.Fatalf("at %#x: got %q (first read %q), want %q", p.at, got, p.viewBefore, p.s+p.more)
			}
		}
	})
}

// TestChangedBookingKeepsItsText: writing a changed booking back with the
// same id and reference does not grow the table's text.
func TestChangedBookingKeepsItsText(t *testing.T) {
	cfg := petra(t)
	tb := newBookTable(cfg)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, cfg.Location())
	b := &Booking{ID: "bk_1", Reference: "PO-7", Operator: "op", Date: "2026-12-01", Route: "main", PartySize: 2, Slot: at, Status: StatusConfirmed}
	tb.add(b)
	tb.flush()
	used := tb.text.chunks[0].Len()
	for k := range 5 {
		c, _ := tb.get("bk_1")
		c.Admitted = k + 1
		tb.flush()
	}
	if got := tb.text.chunks[0].Len(); got != used {
		t.Errorf("the text grew from %d to %d bytes over five changes", used, got)
	}
	c, _ := tb.get("bk_1")
	c.Reference = "PO-8"
	tb.flush()
	if got, _ := tb.peek("bk_1"); got.Reference != "PO-8" || got.ID != "bk_1" || got.Admitted != 5 {
		t.Errorf("after a new reference: %+v", got)
	}
}
