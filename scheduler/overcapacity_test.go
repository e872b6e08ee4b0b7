package scheduler

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"pgregory.net/rapid"
)

// lowered is cfg with every zone's capacity scaled by zone(id) and every
// gate's wave capacity by gate(id), the thresholds following, built from
// the parsed configuration and validated again by ParseConfig (as a
// restart reads an edited file).
func lowered(t interface {
	Helper()
	Fatalf(string, ...any)
}, cfg *Config, zone, gate func(id string) float64) *Config {
	t.Helper()
	c := *cfg
	c.Zones, c.Gates = slices.Clone(cfg.Zones), slices.Clone(cfg.Gates)
	for i := range c.Zones {
		z := &c.Zones[i]
		f := zone(z.ID)
		z.Capacity = max(2, int(math.Round(float64(z.Capacity)*f)))
		z.HoldAt = min(z.Capacity, max(2, int(math.Round(float64(z.HoldAt)*f))))
		z.ReleaseAt = min(z.HoldAt-1, max(1, int(math.Round(float64(z.ReleaseAt)*f))))
	}
	largest := 0
	for i := range c.Gates {
		g := &c.Gates[i]
		g.WaveCapacity = max(1, int(math.Round(float64(g.WaveCapacity)*gate(g.ID))))
		largest = max(largest, g.WaveCapacity)
	}
	c.Policy.MaxPartySize = min(c.Policy.MaxPartySize, largest)
	data, err := yaml.Marshal(&c)
	if err != nil {
		t.Fatalf("marshal the lowered configuration: %v", err)
	}
	out, err := ParseConfig(data)
	if err != nil {
		t.Fatalf("the lowered configuration does not parse: %v", err)
	}
	return out
}

func scale(f float64) func(string) float64 { return func(string) float64 { return f } }

// overLoads recomputes, from the placed bookings alone, every zone bucket
// and wave of date over capacity in cfg from minute from on.
func overLoads(s *State, cfg *Config, date string, from int) (zones map[string]int, waves int) {
	zones = map[string]int{}
	d := s.days[date]
	if d == nil {
		return zones, 0
	}
	for _, z := range cfg.Zones {
		all, _ := zoneLoad(s, date, z.ID)
		for i, v := range all {
			if (i+1)*s.res > from && v > z.Capacity {
				zones[z.ID]++
			}
		}
	}
	wave := map[[2]int]int{}
	gates := map[string]int{}
	for i, g := range cfg.Gates {
		gates[g.ID] = i
	}
	for b := range s.bookings.view("", nil) {
		if b.Placed() && b.Date == date {
			wave[[2]int{gates[b.Gate], s.minuteOf(d, b.Slot)}] += b.PartySize
		}
	}
	for k, v := range wave {
		if k[1] >= from && v > cfg.Gates[k[0]].WaveCapacity {
			waves++
		}
	}
	return zones, waves
}

// TestOverCapacityFindsLoweredCapacities: a full morning restored under a
// configuration with halved capacities is reported zone by zone and wave
// by wave, as the bookings alone say; under the old one nothing is.
func TestOverCapacityFindsLoweredCapacities(t *testing.T) {
	r, now := fullMorning(t)
	if got := r.s.OverCapacity(now); len(got) != 0 {
		t.Fatalf("nothing lowered, yet reported: %+v", got)
	}
	low := lowered(t, r.s.cfg, scale(0.5), scale(0.5))
	s, err := Restore(low, r.s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	ov := s.OverCapacity(now)
	wantZones, wantWaves := overLoads(s, low, "2026-12-01", 0)
	if len(wantZones) == 0 || wantWaves == 0 {
		t.Fatalf("the scenario puts nothing over capacity (zones %v, waves %d)", wantZones, wantWaves)
	}
	gotZones, gotWaves := map[string]bool{}, 0
	for _, o := range ov {
		if o.Date != "2026-12-01" || o.Planned <= o.Capacity {
			t.Errorf("overage %+v: not over, or on another date", o)
		}
		if o.Zone != "" {
			gotZones[o.Zone] = true
			z, _ := low.Zone(o.Zone)
			if o.Capacity != z.Capacity || !o.From.Before(o.Until) {
				t.Errorf("zone overage %+v: capacity in force %d", o, z.Capacity)
			}
			continue
		}
		gotWaves++
	}
	for z := range wantZones {
		if !gotZones[z] {
			t.Errorf("zone %s is over capacity but not reported", z)
		}
	}
	if len(gotZones) != len(wantZones) || gotWaves != wantWaves {
		t.Errorf("reported %d zones and %d waves, the bookings put %d zones and %d waves over", len(gotZones), gotWaves, len(wantZones), wantWaves)
	}
	byDate := OverageByDate(ov)
	if len(byDate) != 1 || byDate[0].Waves != wantWaves || byDate[0].ZoneDays != len(wantZones) || byDate[0].Fix != "tafweej replan --date 2026-12-01" {
		t.Errorf("by date: %+v", byDate)
	}

	// A day in the past is history; later the same day only what is to come.
	if got := s.OverCapacity(now.AddDate(0, 0, 3)); len(got) != 0 {
		t.Errorf("past day reported: %+v", got)
	}
	later := time.Date(2026, 12, 1, 12, 0, 0, 0, low.Location())
	for _, o := range s.OverCapacity(later) {
		if o.Gate != "" && o.Slot.Before(later.Add(-time.Duration(low.SlotMinutes)*time.Minute)) ||
			o.Zone != "" && !o.Until.After(later) {
			t.Errorf("at 12:00, reported %+v, which is over", o)
		}
	}
}

// TestReplanRefusals: a malformed or past date is refused and changes
// nothing; a date with nothing booked answers zero.
func TestReplanRefusals(t *testing.T) {
	r, now := fullMorning(t)
	before := snapJSON(t, r.s)
	for _, date := range []string{"", "2026-13-01", "1.12.2026", "2026-11-28"} {
		res, eff := r.s.Apply(now, Replan{Date: date})
		if code(res.Err) != CodeInvalid || fieldOf(res.Err) != "date" || len(eff) > 0 {
			t.Errorf("replan %q: %v (%d effects), want invalid_request on date", date, res.Err, len(eff))
		}
	}
	res, eff := r.s.Apply(now, Replan{Date: "2026-12-05"})
	if res.Err != nil || res.Replanned == nil || res.Replanned.Bookings != 0 || len(eff) > 0 {
		t.Errorf("replan of an empty date: %+v %v", res.Replanned, res.Err)
	}
	res, eff = r.s.Apply(now, Replan{Date: "2026-12-01"})
	if res.Err != nil || res.Replanned.Bookings != 0 || len(eff) > 0 {
		t.Errorf("replan of a date within capacity: %+v %v, %d effects", res.Replanned, res.Err, len(eff))
	}
	if snapJSON(t, r.s) != before {
		t.Error("a refused or empty replan changed the state")
	}
}

// TestReplanAfterLoweredConfigProperty: after random bookings on two
// dates, a restart with randomly lowered zone and wave capacities and a
// Replan of every date reported, nothing is over capacity any more (as the
// state says and as the bookings alone say); every booking re-planned is
// moved or cancelled with ReasonOverCapacity, or left where it was; no
// other booking changes; and the state's books match a fresh restore.
func TestReplanAfterLoweredConfigProperty(t *testing.T) {
	base := tight(petra(t))
	rapid.Check(t, func(rt *rapid.T) {
		s := New(base)
		now := testNow(base)
		dates := []string{"2026-12-01", "2026-12-02"}
		for i := range rapid.IntRange(1, 80).Draw(rt, "bookings") {
			r := base.Routes[rapid.IntRange(0, len(base.Routes)-1).Draw(rt, "route")]
			from := rapid.IntRange(6*60, 15*60).Draw(rt, "from") / 15 * 15
			op := WalkInOperator
			if k := rapid.IntRange(0, 4).Draw(rt, "op"); k > 0 {
				op = fmt.Sprintf("op%d", k)
			}
			s.Apply(now, Book{ID: fmt.Sprintf("b%03d", i), Operator: op, Request: BookingRequest{
				Date: rapid.SampledFrom(dates).Draw(rt, "date"), Route: r.ID, PartySize: rapid.IntRange(1, base.Policy.MaxPartySize).Draw(rt, "size"),
				Window: Window{from, from + rapid.IntRange(15, 300).Draw(rt, "wlen")}}})
		}
		factor := func(kind string) func(string) float64 {
			fs := map[string]float64{}
			return func(id string) float64 {
				if f, ok := fs[id]; ok {
					return f
				}
				fs[id] = rapid.Float64Range(0.1, 1).Draw(rt, kind+" "+id)
				return fs[id]
			}
		}
		low := lowered(rt, base, factor("zone"), factor("gate"))
		before := s.Snapshot()
		s2, err := Restore(low, before)
		if err != nil {
			rt.Fatal(err)
		}
		for _, d := range OverageByDate(s2.OverCapacity(now)) {
			res, _ := s2.Apply(now, Replan{Date: d.Date})
			if res.Err != nil {
				rt.Fatalf("replan %s: %v", d.Date, res.Err)
			}
			p := res.Replanned
			if p.WavesOver != d.Waves || p.ZoneDaysOver != d.ZoneDays || p.Moved+p.Cancelled+p.Unchanged != p.Bookings || p.Bookings == 0 ||
				p.WavesLeft != 0 || p.ZoneDaysLeft != 0 {
				rt.Fatalf("replan %s: %+v, reported %+v", d.Date, p, d)
			}
		}
		if ov := s2.OverCapacity(now); len(ov) != 0 {
			rt.Fatalf("after replan still over capacity: %+v", ov)
		}
		for _, date := range dates {
			if zones, waves := overLoads(s2, low, date, 0); len(zones) > 0 || waves > 0 {
				rt.Fatalf("%s: the bookings alone put zones %v and %d waves over capacity", date, zones, waves)
			}
		}
		after := s2.Snapshot()
		for i, b := range after.Bookings {
			was := before.Bookings[i]
			switch {
			case bookingJSON(rt, b) == bookingJSON(rt, was):
			case b.Reason != ReasonOverCapacity:
				rt.Fatalf("booking %s changed without the reason: %+v, was %+v", b.ID, b, was)
			case b.Status == StatusCancelled, b.Status == StatusRescheduled && (!b.Slot.Equal(was.Slot) || b.Gate != was.Gate):
			default:
				rt.Fatalf("booking %s: %+v, was %+v", b.ID, b, was)
			}
		}
		fresh, err := Restore(low, after)
		if err != nil {
			rt.Fatal(err)
		}
		for _, date := range dates {
			d, f := s2.days[date], fresh.days[date]
			if d == nil {
				continue
			}
			if f == nil { // nothing placed any more: an empty day
				f, _ = fresh.day(date)
			}
			for _, z := range low.Zones {
				if !slices.Equal(d.zone[z.ID], f.zone[z.ID]) {
					rt.Fatalf("%s zone %s: the state's books differ from a fresh restore", date, z.ID)
				}
			}
			for _, g := range low.Gates {
				if !slices.Equal(d.wave[g.ID], f.wave[g.ID]) {
					rt.Fatalf("%s gate %s: the state's books differ from a fresh restore", date, g.ID)
				}
			}
		}
	})
}

func bookingJSON(t interface{ Fatal(...any) }, b Booking) string {
	b.Slot, b.CreatedAt, b.UpdatedAt = b.Slot.UTC(), b.CreatedAt.UTC(), b.UpdatedAt.UTC()
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
