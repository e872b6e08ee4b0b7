package scheduler

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestRevertLeavesWhatTheStoreRestores applies random turns of commands
// (those of FuzzApply) and has the commit of some of them fail: a failed
// turn is reverted from the records as stored (Revert), a written one adds
// its records to the store. After every turn the state in memory, its
// records and every day's loads (zones, waves, operators' shares, cuts'
// phantom load), is what a fresh Restore from the store builds.
func TestRevertLeavesWhatTheStoreRestores(t *testing.T) {
	cfg := plannedPetra(t)
	rapid.Check(t, func(rt *rapid.T) {
		src := &byteSource{b: rapid.SliceOfN(rapid.Byte(), 300, 900).Draw(rt, "commands")}
		s := New(cfg)
		s.SetReplanStep(3) // closures and cuts in steps too
		now := time.Date(2026, 10, 16, 8, 0, 0, 0, cfg.Location())
		recs := newRecords()
		var log []string
		for turn := 0; turn < 40 && src.i < len(src.b); turn++ {
			mark := s.TickMark()
			var effects []Effect
			ticked := false
			for range 1 + src.n(3) {
				now = now.Add(time.Duration(src.n(4)*src.next()) * time.Minute)
				c := decodeCommand(src, s, now, turn)
				if _, ok := c.(Tick); ok {
					ticked = true
				}
				_, eff := s.Apply(now, c)
				effects = append(effects, eff...)
				log = append(log, fmt.Sprintf("turn %d: %T%+v", turn, c, c))
			}
			if rapid.IntRange(0, 2).Draw(rt, "fail") == 0 {
				var tick *TickMark
				if ticked {
					tick = &mark
				}
				s.Revert(effects, recs.snapshot(), tick)
				log = append(log, fmt.Sprintf("turn %d: commit failed, reverted", turn))
			} else {
				recs.apply(effects)
			}
			fresh, err := Restore(cfg, recs.snapshot())
			if err != nil {
				rt.Fatalf("the store does not restore: %v", err)
			}
			fresh.SetReplanStep(3)
			if got, want := canonical(t, s.Snapshot()), canonical(t, fresh.Snapshot()); got != want {
				rt.Fatalf("memory is not what the store restores\nmemory:   %s\nrestored: %s\n%s", got, want, joinLines(log))
			}
			if diff := dayDiff(s, fresh); diff != "" {
				rt.Fatalf("%s\n%s", diff, joinLines(log))
			}
			if a, b := admitsOf(s, now), admitsOf(fresh, now); !reflect.DeepEqual(a, b) {
				rt.Fatalf("the zone model's admissions are not the restored ones\nmemory:   %v\nrestored: %v\n%s", a, b, joinLines(log))
			}
		}
	})
}

// admitsOf is the zone model's admission log within admitsKeep of now (the
// older entries are pruned at the next tick; a Restore keeps them until
// then) as a sorted list (entries at the same time may be in another order
// after a revert).
func admitsOf(s *State, now time.Time) []string {
	var out []string
	for _, a := range s.admits {
		if now.Sub(a.At) > admitsKeep {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s %d %s", a.At.UTC().Format(time.RFC3339Nano), a.Booking, a.N, a.Route))
	}
	slices.Sort(out)
	return out
}

// dayDiff compares every day's loads of two states (a day one of them has
// not made is taken empty, as it would be made).
func dayDiff(a, b *State) string {
	dates := map[string]bool{}
	for d := range a.days {
		dates[d] = true
	}
	for d := range b.days {
		dates[d] = true
	}
	pending := func(s *State) map[string][]string {
		out := map[string][]string{}
		for date, m := range s.pending {
			for id, q := range m {
				if q != s.requests[id] {
					out[date] = append(out[date], "stale:"+id)
				}
			}
			out[date] = append(out[date], slices.Sorted(maps.Keys(m))...)
		}
		return out
	}
	if pa, pb := pending(a), pending(b); !reflect.DeepEqual(pa, pb) {
		return fmt.Sprintf("memory's pending requests are not the restored ones\nmemory:   %v\nrestored: %v", pa, pb)
	}
	for _, date := range slices.Sorted(maps.Keys(dates)) {
		da, _ := a.existingOrTemp(date)
		db, _ := b.existingOrTemp(date)
		type picture struct {
			Zone, ZoneOp, Wave, WaveOp map[string][]int32
			OpDay                      map[string]int
			OpWave                     map[string]int32
			Entries                    int
			Cuts                       *dayCuts
		}
		pic := func(s *State, d *day) picture {
			ow := map[string]int32{}
			for k, v := range d.opWave {
				ow[fmt.Sprintf("%s/%s/%d", s.bookings.names[k.op], s.cfg.Gates[k.gate].ID, k.slot)] = v
			}
			return picture{d.zone, d.zoneOp, d.wave, d.waveOp, d.opDay, ow, d.entries, d.cuts}
		}
		if pa, pb := pic(a, da), pic(b, db); !reflect.DeepEqual(pa, pb) {
			return fmt.Sprintf("%s: memory's day is not the restored one\nmemory:   %+v\nrestored: %+v", date, pa.OpWave, pb.OpWave)
		}
	}
	return ""
}

// TestRevertedAdmissionLeavesTheZoneModel: an admission whose commit
// failed is taken out of the zone model with its booking, so the model
// (and the forecast, the fused live figure) counts only admissions the
// store has, as a Restore would.
func TestRevertedAdmissionLeavesTheZoneModel(t *testing.T) {
	cfg := petraWith(t, func(c *Config) { c.Policy.RequestWindow = nil })
	s := New(cfg)
	recs := newRecords()
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
	res, eff := s.Apply(day.Add(-time.Hour), Book{ID: "g1", Operator: WalkInOperator, Request: BookingRequest{
		Date: "2026-12-01", Route: "main", PartySize: 20, Window: Window{From: hm(8, 0), To: hm(8, 15)}}})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	recs.apply(eff)
	b := s.bookings.at("g1")
	at := b.Slot.Add(2 * time.Minute)
	res, eff = s.Apply(at, Scan{Gate: b.Gate, Ticket: Ticket{Booking: "g1"}, Count: 20, ScanID: "s1"})
	if res.Scan.Admitted != 20 {
		t.Fatalf("scan: %+v", res.Scan)
	}
	s.Revert(eff, recs.snapshot(), nil) // the scan's commit failed
	fresh, err := Restore(cfg, recs.snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := admitsOf(s, at), admitsOf(fresh, at); !reflect.DeepEqual(got, want) {
		t.Fatalf("zone model's admissions after the revert: %v, want the store's %v", got, want)
	}
	later := at.Add(30 * time.Minute)
	if got, want := s.modelAt(later), fresh.modelAt(later); !reflect.DeepEqual(got, want) {
		t.Fatalf("zone model at %s after the revert: %v, want %v", later.Format(time.TimeOnly), got, want)
	}
}
