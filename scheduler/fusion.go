package scheduler

import (
	"math"
	"time"
)

// One picture of the crowd
//
// Two views of each zone are kept: the counters' net count (Counted) and
// the zone model's (modelAt: admissions placed along their routes by the
// time since admission, with the learned dwell). Neither is right alone:
// the counters see what the model cannot (visitors staying longer, a
// group lingering), the model does not drift. The best estimate, Live, is
// the counters' figure less their estimated drift:
//
//   - the drift is learned while the model says no admitted visitor can
//     be in a zone its visitors have reached (between groups in a quiet
//     zone, after the last ones left, at any time of the day): what the
//     counters still count then is their drift (a miscount, a lost burst,
//     a reboot that lost totals), taken off with a time constant of
//     driftTau — not only after closing time. While the zone is busy the
//     drift is held: measured in the simulator (docs/closed-loop.md),
//     following the gap to the model while visitors were inside made the
//     estimate off the truth twice as often as the counters alone, the
//     model's timing being the rougher of the two;
//   - the drift is bounded by driftShare of the people the zone's counters
//     counted in and out (plus driftFloor);
//   - when counters and model still disagree by more than
//     max(disagreeFloor, disagreeShare × capacity) for disagreeFor, the zone
//     is marked counters_disagree (event zone.counters_disagree) for
//     operations to look at. Live stays the counters' figure: measured in
//     the simulator (docs/closed-loop.md), taking the larger of the two
//     made the estimate worse, the model being further from the truth
//     than the counters while the long stays are not learned yet.
//
// Live adds nothing between two counter reports. Measured on traces of
// the simulator (docs/closed-loop.md, "Round three"): live is off the
// truth about as often as a counter that never miscounts would be if
// its figure were a uniform 0-60 s old — the counters' once-a-minute
// messages and parties of 10-60 moving as one, not drift, a reboot or a
// lost burst (those cost under 2% of the readings off). Adding the zone
// model's change since the last reading (dead reckoning) made the
// estimate off about 1 point more often at a quarter of that change,
// 3.5-5 at half, 8-11 at all of it; extrapolating the counters' own recent
// rate 0-1 point more often: the model cannot time one party's move to
// the minute, and a party is the size of the tolerance.
//
// Holds, status, metrics and the console use Live. The drift and the
// disagreement are derived (not persisted): after a restart they are
// learned again.

const (
	driftTau      = 60 * time.Minute
	driftShare    = 0.02
	driftFloor    = 10
	disagreeFloor = 50
	disagreeShare = 0.15
	disagreeFor   = 15 * time.Minute
)

// zoneFusion is the derived fusion state of one zone.
type zoneFusion struct {
	drift         float64
	model         int // the model's figure at the last tick
	disagree      bool
	disagreeSince time.Time
}

// CountersEvent is the data of zone.counters_disagree and
// zone.counters_agree.
type CountersEvent struct {
	Zone    string `json:"zone"`
	Counted int    `json:"counted"`
	Model   int    `json:"model"`
	Live    int    `json:"live"`
}

func (s *State) fusionOf(zone string) *zoneFusion {
	f, ok := s.fusion[zone]
	if !ok {
		f = &zoneFusion{}
		s.fusion[zone] = f
	}
	return f
}

// Counted is a zone's occupancy by its people counters alone (net count,
// never below zero).
func (s *State) Counted(zone string) int {
	if _, ok := s.zones[zone]; !ok {
		return 0
	}
	return int(max(s.net(zone), 0))
}

// Live is a zone's best estimate of live occupancy: the counters less
// their estimated drift (see above).
func (s *State) Live(zone string) int {
	if _, ok := s.zones[zone]; !ok {
		return 0
	}
	f := s.fusion[zone]
	if f == nil {
		return s.Counted(zone)
	}
	return max(int(math.Round(float64(s.net(zone))-f.drift)), 0)
}

// traffic is the people a zone's counters counted in and out since they
// first reported.
func (s *State) traffic(zone string) int64 {
	var n int64
	for _, st := range s.sensors { // a sum: the order does not matter
		if st.Zone == zone {
			n += st.BaseIn + st.In + st.BaseOut + st.Out
		}
	}
	return n
}

// fuseTick moves each zone's drift towards the gap between its counters
// and the model over the time from prev to now, notes disagreements, and
// holds the zones whose estimate reached their hold threshold.
func (s *State) fuseTick(now time.Time) []Effect {
	// Once a minute of the service's clock is enough: the model moves by
	// minutes, and ticks may come every few seconds.
	if !s.lastFuse.IsZero() && now.Sub(s.lastFuse) < time.Minute && !now.Before(s.lastFuse) {
		return nil
	}
	prev := s.lastFuse
	s.lastFuse = now
	model := s.modelAt(now)
	busy, reached := s.busyZones(now)
	dt := 0.0
	if !prev.IsZero() && now.After(prev) {
		dt = min(now.Sub(prev), 10*time.Minute).Minutes()
	}
	var effects []Effect
	for _, zc := range s.cfg.Zones {
		f := s.fusionOf(zc.ID)
		f.model = model[zc.ID]
		if s.traffic(zc.ID) == 0 {
			continue // no counter has reported: nothing to fuse
		}
		gap := float64(s.net(zc.ID) - int64(f.model))
		if dt > 0 && f.model == 0 && reached[zc.ID] && !busy[zc.ID] {
			f.drift += (gap - f.drift) * (1 - math.Exp(-dt/driftTau.Minutes()))
		}
		bound := driftShare*float64(s.traffic(zc.ID)) + driftFloor
		f.drift = min(max(f.drift, -bound), bound)
		counted := s.Counted(zc.ID)
		rest := math.Abs(float64(s.net(zc.ID)) - f.drift - float64(f.model))
		thr := max(float64(disagreeFloor), disagreeShare*float64(zc.Capacity))
		ev := CountersEvent{Zone: zc.ID, Counted: counted, Model: f.model}
		switch {
		case rest > thr && f.disagreeSince.IsZero():
			f.disagreeSince = now
		case rest > thr && !f.disagree && now.Sub(f.disagreeSince) >= disagreeFor:
			f.disagree = true
			ev.Live = s.Live(zc.ID)
			effects = append(effects, Event{Kind: EventCountersDisagree, At: now, Data: ev})
		case rest <= thr:
			f.disagreeSince = time.Time{}
			if f.disagree {
				f.disagree = false
				ev.Live = s.Live(zc.ID)
				effects = append(effects, Event{Kind: EventCountersAgree, At: now, Data: ev})
			}
		}
		effects = append(effects, s.holdIfOver(now, zc.ID)...)
	}
	s.recordLive(now)
	return effects
}

// busyZones are the zones in which the zone model has an admitted
// visitor within quietMargin of now (arriving soon or just left): only
// away from them is a count the counters' drift; reached are the zones
// the model's visitors have reached at all (the last 16 hours): in a zone
// no admitted visitor reached, the model has nothing to say.
func (s *State) busyZones(now time.Time) (out, reached map[string]bool) {
	out, reached = map[string]bool{}, map[string]bool{}
	f := s.dwellFactors()
	m := quietMargin.Minutes()
	spans := s.spansOf(f)
	for _, a := range s.admits {
		sp, ok := spans(a.Route)
		if !ok {
			continue
		}
		el := now.Sub(a.At).Minutes()
		for _, st := range sp {
			if el >= st.Arrive-m && el < st.Leave+m {
				out[st.Zone] = true
			}
			if el >= st.Arrive {
				reached[st.Zone] = true
			}
		}
	}
	return out, reached
}

// quietMargin is how far from the model's visitors a zone must be for its
// count to be taken as drift: the spread of stays and walks.
const quietMargin = 20 * time.Minute

// holdIfOver holds a zone whose estimate reached its hold threshold (after
// the fusion moved it); releases wait for the counters' word (evalZoneBy).
func (s *State) holdIfOver(now time.Time, zone string) []Effect {
	z := s.zones[zone]
	zc, _ := s.cfg.Zone(zone)
	live := s.Live(zone)
	if z.Held || live < zc.HoldAt {
		return nil
	}
	z.Held, z.HeldSince = true, now
	return []Effect{PutZone{*z}, Event{Kind: EventWaveHeld, At: now, Data: HoldEvent{
		Zone: zone, Live: live, HoldAt: zc.HoldAt, ReleaseAt: zc.ReleaseAt, Gates: s.gatesReaching(zone)}}}
}
