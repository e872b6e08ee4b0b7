package scheduler

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// simSensor is a people counter as it really counts, in the property below.
type simSensor struct {
	id      string
	lim     int64
	boot    string
	boots   int
	seq     uint64
	in, out int64
}

// TestImplausibleReadingsNeverMoveLiveOccupancy: three counters of the Siq
// send plausible readings (crowds coming and going, reboots) mixed with
// implausible ones (each rule), while groups are admitted at the gate. The
// state under test gets everything; a twin gets only the plausible
// readings. After every step:
//   - an implausible reading is recognised (CounterImplausible), its sensor
//     is suspect, and live occupancy has not moved at all;
//   - the sensors' checkpoints and live occupancy equal the twin's: plausible
//     readings are applied exactly as if the others had never come;
//   - a held Siq is released only when a second reporting, trusted sensor
//     has seen it at or under its release threshold since it was last above
//     (or when it has one such sensor).
func TestImplausibleReadingsNeverMoveLiveOccupancy(t *testing.T) {
	cfg := petra(t)
	zc, _ := cfg.Zone("siq")
	rapid.Check(t, func(rt *rapid.T) {
		now := time.Date(2026, 12, 1, 8, 0, 0, 0, cfg.Location())
		s, twin := New(cfg), New(cfg)
		var sensors []*simSensor
		for _, sc := range cfg.Sensors {
			if sc.Zone == "siq" {
				sensors = append(sensors, &simSensor{id: sc.ID, lim: sc.maxPerMinute(), boot: sc.ID + "-b0"})
			}
		}
		if len(sensors) != 3 {
			rt.Fatalf("the property expects 3 Siq sensors, the config has %d", len(sensors))
		}
		// A group to admit at the gate now and then.
		book := Book{ID: "bk_1", Operator: "op-a", Request: BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 40, Window: Window{From: hm(8, 0), To: hm(8, 15)}}}
		res, _ := s.Apply(now, book)
		twin.Apply(now, book)
		if res.Err != nil {
			rt.Fatalf("book: %v", res.Err)
		}
		b := *res.Booking
		witnesses := map[string]bool{} // sensors that saw the Siq at or under its release threshold since it was above
		implausibleSeq := 0
		steps := rapid.IntRange(1, 150).Draw(rt, "steps")
		for i := range steps {
			now = now.Add(time.Duration(rapid.IntRange(5, 120).Draw(rt, "dt")) * time.Second)
			if rapid.IntRange(0, 9).Draw(rt, "admit") == 0 {
				sc := Scan{Gate: b.Gate, Ticket: Ticket{Booking: b.ID, Date: b.Date, Slot: b.Slot, Gate: b.Gate, PartySize: b.PartySize}, ScanID: fmt.Sprintf("sc%d", i), Count: 1}
				s.Apply(now, sc)
				twin.Apply(now, sc)
				continue
			}
			d := sensors[rapid.IntRange(0, len(sensors)-1).Draw(rt, "sensor")]
			cp, seen := twin.sensors[d.id]
			reading := CounterReading{Sensor: d.id, Zone: "siq", Boot: d.boot, At: now}
			liveBefore := s.Live("siq")
			wasHeld := s.zones["siq"].Held
			trustedBefore := s.trustedSensors("siq")
			kind := rapid.IntRange(0, 99).Draw(rt, "kind")
			if !seen && kind >= 70 {
				kind = 0 // the first reading of a sensor sets its baseline
			}
			switch {
			case kind < 70: // plausible: a crowd moving, or now and then a reboot
				allow := d.lim
				if seen {
					allow = d.lim * max(int64((now.Sub(cp.At)+time.Minute-1)/time.Minute), 1)
				}
				if seen && rapid.IntRange(0, 19).Draw(rt, "reboot") == 0 {
					d.boots++
					d.boot, d.seq, d.in, d.out = fmt.Sprintf("%s-b%d", d.id, d.boots), 0, 0, 0
					allow = d.lim
				}
				in := rapid.Int64Range(0, allow).Draw(rt, "in")
				// Never more out than the zone holds.
				room := twin.net("siq") + in
				out := rapid.Int64Range(0, max(min(allow, room), 0)).Draw(rt, "out")
				d.seq++
				d.in += in
				d.out += out
				reading.Boot, reading.Seq, reading.In, reading.Out = d.boot, d.seq, d.in, d.out
				r, _ := s.Apply(now, reading)
				rt2, _ := twin.Apply(now, reading)
				if r.Counter != CounterApplied || rt2.Counter != CounterApplied {
					rt.Fatalf("step %d: plausible reading %+v: %s (%s) / twin %s (%s)", i, reading, r.Counter, r.RuleDetail, rt2.Counter, rt2.RuleDetail)
				}
			default: // implausible
				d.seq++ // the device numbers every message it sends
				implausibleSeq++
				reading.Seq, reading.In, reading.Out = d.seq, d.in, d.out
				rule := rapid.SampledFrom([]string{RuleRate, RuleMonotonic, RuleClock, RuleNewBoot, RuleOutExceedsIn}).Draw(rt, "rule")
				switch rule {
				case RuleRate:
					allow := d.lim * max(int64((now.Sub(cp.At)+time.Minute-1)/time.Minute), 1)
					if rapid.Bool().Draw(rt, "forged out") {
						reading.Out = cp.Out + allow + rapid.Int64Range(1, 999999999).Draw(rt, "extra")
					} else {
						reading.In = cp.In + allow + rapid.Int64Range(1, 999999999).Draw(rt, "extra")
					}
				case RuleMonotonic:
					if cp.In == 0 && cp.Out == 0 {
						reading.Boot = fmt.Sprintf("x%d", implausibleSeq)
						reading.In, reading.Seq = d.lim+1, 1 // no way down from zero: a bad new boot instead
						rule = RuleNewBoot
					} else if cp.In > 0 {
						reading.In = cp.In - rapid.Int64Range(1, cp.In).Draw(rt, "down")
					} else {
						reading.Out = cp.Out - rapid.Int64Range(1, cp.Out).Draw(rt, "down")
					}
				case RuleClock:
					skew := MaxReadingSkew + time.Duration(rapid.IntRange(1, 7200).Draw(rt, "skew"))*time.Second
					if rapid.Bool().Draw(rt, "past") {
						skew = -skew
					}
					reading.At = now.Add(skew)
				case RuleNewBoot:
					reading.Boot = fmt.Sprintf("x%d", implausibleSeq)
					if rapid.Bool().Draw(rt, "high seq") {
						reading.Seq, reading.In, reading.Out = uint64(rapid.IntRange(NewBootMaxSeq+1, 1e6).Draw(rt, "seq")), 0, 0
					} else {
						reading.Seq, reading.In, reading.Out = 1, d.lim+rapid.Int64Range(1, 1e6).Draw(rt, "big"), 0
					}
				case RuleOutExceedsIn:
					// More out than the zone holds beyond one minute's count,
					// within the rate: possible only when the zone is small.
					allow := d.lim * max(int64((now.Sub(cp.At)+time.Minute-1)/time.Minute), 1)
					need := max(twin.net("siq"), 0) + d.lim + 1
					if need > allow {
						reading.Out = cp.Out + allow + 1
						rule = RuleRate
					} else {
						reading.Out = cp.Out + need
					}
				}
				r, _ := s.Apply(now, reading)
				if r.Counter != CounterImplausible || r.Rule != rule {
					rt.Fatalf("step %d: %s reading %+v (checkpoint %+v): %s rule %q (%s)", i, rule, reading, *cp, r.Counter, r.Rule, r.RuleDetail)
				}
				if got := s.Live("siq"); got != liveBefore {
					rt.Fatalf("step %d: an implausible reading (%s) moved the Siq's live occupancy %d → %d", i, rule, liveBefore, got)
				}
				if !s.sensors[d.id].Suspect {
					rt.Fatalf("step %d: sensor %s not suspect after an implausible reading", i, d.id)
				}
			}
			// Plausible readings applied exactly as before.
			for _, sd := range sensors {
				a, b := s.sensors[sd.id], twin.sensors[sd.id]
				if (a == nil) != (b == nil) || a != nil && (a.Boot != b.Boot || a.Seq != b.Seq || a.In != b.In || a.Out != b.Out || a.BaseIn != b.BaseIn || a.BaseOut != b.BaseOut) {
					rt.Fatalf("step %d: sensor %s checkpoint %+v, twin's %+v", i, sd.id, a, b)
				}
			}
			if s.Live("siq") != twin.Live("siq") {
				rt.Fatalf("step %d: live %d, twin's %d", i, s.Live("siq"), twin.Live("siq"))
			}
			// Releases need a second witness.
			live := s.Live("siq")
			if live > zc.ReleaseAt || !s.zones["siq"].Held && !wasHeld {
				clear(witnesses)
			}
			if wasHeld && !s.zones["siq"].Held {
				witnesses[d.id] = true
				if trustedBefore >= 2 && len(witnesses) < 2 {
					rt.Fatalf("step %d: the Siq was released on %s's reading alone (live %d; %d trusted sensors)", i, d.id, live, trustedBefore)
				}
				clear(witnesses)
			} else if live <= zc.ReleaseAt && s.zones["siq"].Held {
				if r := s.sensors[d.id]; r != nil && r.Seq == reading.Seq && r.Boot == reading.Boot {
					witnesses[d.id] = true
				}
			}
		}
	})
}

// TestTrustSensorTakesTheNewBaseline: a counter replaced without a new boot
// id restarts its totals near zero (implausible: totals going down); the
// zone keeps its count; once operations trust it, its readings count again
// from the new totals.
func TestTrustSensorTakesTheNewBaseline(t *testing.T) {
	cfg := petra(t)
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, cfg.Location())
	r := &recorder{s: New(cfg)}
	read := func(seq uint64, in, out int64) Result {
		return r.do(t, now, CounterReading{Sensor: "siq-n1", Zone: "siq", Boot: "b1", Seq: seq, In: in, Out: out, At: now})
	}
	read(1, 500, 100)
	now = now.Add(time.Minute)
	res := read(2, 10, 0)
	if res.Counter != CounterImplausible || res.Rule != RuleMonotonic {
		t.Fatalf("totals going down: %+v", res)
	}
	if got := r.s.Live("siq"); got != 400 {
		t.Fatalf("live %d after the implausible reading, want 400", got)
	}
	evs := 0
	for _, e := range r.effects {
		if ev, ok := e.(Event); ok && ev.Kind == EventSensorSuspect {
			evs++
		}
	}
	now = now.Add(time.Minute)
	if res := read(3, 20, 0); res.Counter != CounterImplausible || evs != 1 {
		t.Fatalf("second reading of the replaced counter: %+v; sensor.suspect events %d, want 1", res, evs)
	}
	if res := r.do(t, now, TrustSensor{Sensor: "siq-m1"}); res.Err == nil {
		t.Error("trusted a sensor that is not suspect")
	}
	if res := r.do(t, now, TrustSensor{Sensor: "siq-n1"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	st := r.s.sensors["siq-n1"]
	if st.Suspect || st.Pending != nil || r.s.Live("siq") != 400 {
		t.Fatalf("after trust: %+v, live %d", *st, r.s.Live("siq"))
	}
	now = now.Add(time.Minute)
	if res := read(4, 50, 5); res.Counter != CounterApplied || r.s.Live("siq") != 400+30-5 {
		t.Fatalf("after trust, +30/-5: %+v, live %d", res, r.s.Live("siq"))
	}
}

// TestHeldZoneNotReleasedByOneContradictedSensor: the Siq is held; one
// sensor's reading (plausible by rate: it was silent for an hour) counts
// enough people out to release it, but the other sensor's next reading
// takes the Siq back above the release threshold: it stays held. Once both
// agree it is under the threshold, it is released.
func TestHeldZoneNotReleasedByOneContradictedSensor(t *testing.T) {
	cfg := petra(t)
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, cfg.Location())
	r := &recorder{s: New(cfg)}
	read := func(sensor string, seq uint64, in, out int64) {
		t.Helper()
		if res := r.do(t, now, CounterReading{Sensor: sensor, Zone: "siq", Boot: "b1", Seq: seq, In: in, Out: out, At: now}); res.Counter != CounterApplied {
			t.Fatalf("%s %d: %+v", sensor, seq, res)
		}
	}
	held := func(want bool, what string) {
		t.Helper()
		if got := r.s.zones["siq"].Held; got != want {
			t.Fatalf("%s: held %v at live %d, want %v", what, got, r.s.Live("siq"), want)
		}
	}
	read("siq-n1", 1, 0, 0)
	read("siq-s1", 1, 0, 0)
	for i := range 8 {
		now = now.Add(time.Minute)
		read("siq-n1", uint64(2+i), int64(150*(i+1)), 0)
	}
	held(true, "1200 in the Siq")
	now = now.Add(time.Hour)
	read("siq-s1", 2, 0, 1100) // 100 left, says the exit
	held(true, "the exit's word alone")
	now = now.Add(5 * time.Minute)
	read("siq-n1", 10, 1200+750, 0) // the entrance saw 750 come in: 850, over the release threshold (840)
	held(true, "contradicted by the entrance")
	now = now.Add(time.Minute)
	read("siq-s1", 3, 0, 1100+60) // 790
	held(true, "the exit's word alone, again")
	now = now.Add(time.Minute)
	read("siq-n1", 11, 1200+750, 0) // the entrance agrees
	held(false, "both sensors under the release threshold")
}
