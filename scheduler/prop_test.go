package scheduler

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// genCommand draws a booking-side command: book, resize, re-window, cancel,
// and now and then a closure or a reopening.
func genCommand(t *rapid.T, cfg *Config, s *State, n int) Command {
	ops := []string{"op-a", "op-b", "op-c", "op-d", "op-e", WalkInOperator}
	routes := []string{"main", "monastery", "high-place", "back-trail", "petra-by-night"}
	dates := []string{"2026-12-01", "2026-12-02"}
	window := func() Window {
		from := rapid.IntRange(hm(5, 0), hm(20, 0)).Draw(t, "from") / 15 * 15
		return Window{from, from + rapid.IntRange(1, 12).Draw(t, "len")*15}
	}
	ids := s.Bookings("", "")
	pick := func() (string, string) {
		if len(ids) == 0 {
			return "none", "op-a"
		}
		b := ids[rapid.IntRange(0, len(ids)-1).Draw(t, "which")]
		op := b.Operator
		if rapid.IntRange(0, 9).Draw(t, "stranger") == 0 {
			op = "op-z" // another operator: must see nothing
		}
		return b.ID, op
	}
	switch k := rapid.IntRange(0, 99).Draw(t, "kind"); {
	case k < 60:
		return Book{ID: fmt.Sprintf("bk%04d", n), Operator: rapid.SampledFrom(ops).Draw(t, "op"), Request: BookingRequest{
			Date: rapid.SampledFrom(dates).Draw(t, "date"), Route: rapid.SampledFrom(routes).Draw(t, "route"),
			PartySize: rapid.IntRange(1, cfg.Policy.MaxPartySize).Draw(t, "size"), Window: window()}}
	case k < 75:
		id, op := pick()
		size := rapid.IntRange(1, cfg.Policy.MaxPartySize).Draw(t, "newsize")
		return Modify{Operator: op, ID: id, PartySize: &size}
	case k < 83:
		id, op := pick()
		w := window()
		return Modify{Operator: op, ID: id, Window: &w}
	case k < 95:
		id, op := pick()
		return Cancel{Operator: op, ID: id}
	case k < 98:
		zones := []string{"siq", "monastery", "high-place", "treasury"}
		return Close{ID: fmt.Sprintf("cl%04d", n), Zones: []string{rapid.SampledFrom(zones).Draw(t, "zone")}, Reason: "test"}
	default:
		return Reopen{ID: fmt.Sprintf("cl%04d", rapid.IntRange(0, n).Draw(t, "cl"))}
	}
}

// checkCapacity recomputes every load from the active bookings alone and
// checks it against the capacities and the shares, and against the state's
// own incremental books.
func checkCapacity(t *rapid.T, cfg *Config, s *State) {
	fresh, err := Restore(cfg, s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	share := 1 - cfg.Policy.WalkInShare
	for date, d := range fresh.days {
		inc := s.days[date]
		for _, z := range cfg.Zones {
			for i, v := range d.zone[z.ID] {
				if int(v) > z.Capacity {
					t.Fatalf("%s zone %s bucket %d: %d visitors over capacity %d", date, z.ID, i, v, z.Capacity)
				}
				if int(d.zoneOp[z.ID][i]) > floorShare(z.Capacity, share) {
					t.Fatalf("%s zone %s: operators hold %d, over the %d left after the walk-in share", date, z.ID, d.zoneOp[z.ID][i], floorShare(z.Capacity, share))
				}
				if inc == nil || inc.zone[z.ID][i] != v {
					t.Fatalf("%s zone %s bucket %d: state books %v, recomputed %d", date, z.ID, i, inc.zone[z.ID][i], v)
				}
			}
		}
		for _, g := range cfg.Gates {
			for i, v := range d.wave[g.ID] {
				if int(v) > g.WaveCapacity {
					t.Fatalf("%s gate %s slot %d: wave of %d over capacity %d", date, g.ID, i, v, g.WaveCapacity)
				}
				if int(d.waveOp[g.ID][i]) > floorShare(g.WaveCapacity, share) {
					t.Fatalf("%s gate %s slot %d: operators hold %d of the walk-in share", date, g.ID, i, d.waveOp[g.ID][i])
				}
				if inc.wave[g.ID][i] != v {
					t.Fatalf("%s gate %s slot %d: state books %d, recomputed %d", date, g.ID, i, inc.wave[g.ID][i], v)
				}
			}
		}
		for k, v := range d.opWave {
			g := cfg.Gates[k.gate]
			if int(v) > floorShare(g.WaveCapacity, cfg.Policy.OperatorWaveShare) {
				t.Fatalf("%s operator %s holds %d of wave %s/%d", date, s.bookings.names[k.op], v, g.ID, k.slot)
			}
		}
		for op, v := range d.opDay {
			if v > floorShare(d.entries, cfg.Policy.OperatorDayShare) {
				t.Fatalf("%s operator %s holds %d of the day", date, op, v)
			}
		}
	}
}

// TestPropertyCapacity: whatever the order of bookings, resizes, moves,
// cancellations and closures, no zone and no wave is ever over capacity,
// operators stay within their shares, refusals change nothing, nobody
// touches another operator's booking, and replaying the same commands gives
// the same state (invariants 1, 4, 5, 6).
func TestPropertyCapacity(t *testing.T) {
	cfg := tight(petra(t))
	rapid.Check(t, func(t *rapid.T) {
		s := New(cfg)
		now := testNow(cfg)
		var cmds []Command
		var times []time.Time
		steps := rapid.IntRange(1, 120).Draw(t, "steps")
		for i := 0; i < steps; i++ {
			c := genCommand(t, cfg, s, i)
			before := ""
			if i%10 == 0 {
				before = snapJSON(t, s)
			}
			res, eff := s.Apply(now, c)
			if res.Err != nil {
				if len(eff) != 0 {
					t.Fatalf("%T refused with effects", c)
				}
				if before != "" && before != snapJSON(t, s) {
					t.Fatalf("refused %T changed the state: %v", c, res.Err)
				}
			}
			if m, ok := c.(Modify); ok && m.Operator == "op-z" && res.Err == nil {
				t.Fatal("a stranger modified a booking")
			}
			if m, ok := c.(Cancel); ok && m.Operator == "op-z" && res.Err == nil {
				t.Fatal("a stranger cancelled a booking")
			}
			cmds = append(cmds, c)
			times = append(times, now)
			now = now.Add(time.Duration(rapid.IntRange(0, 90).Draw(t, "dt")) * time.Second)
		}
		checkCapacity(t, cfg, s)
		// Determinism: the same commands at the same times give the same state.
		s2 := New(cfg)
		for i, c := range cmds {
			s2.Apply(times[i], c)
		}
		if snapJSON(t, s) != snapJSON(t, s2) {
			t.Fatal("replaying the same commands gave another state")
		}
	})
}

// tight shrinks the site so that random sequences hit every limit.
func tight(cfg *Config) *Config {
	for i := range cfg.Zones {
		z := &cfg.Zones[i]
		z.Capacity = max(cfg.Policy.MaxPartySize, z.Capacity/8)
		z.HoldAt, z.ReleaseAt = z.Capacity, z.Capacity/2
	}
	for i := range cfg.Gates {
		g := &cfg.Gates[i]
		g.WaveCapacity = max(cfg.Policy.MaxPartySize, g.WaveCapacity/3)
	}
	return cfg
}
