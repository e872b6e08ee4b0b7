package scheduler

import (
	"fmt"
	"time"
)

// Plausibility of people counter readings
//
// Every counter reading is believed only if a crowd could have produced it.
// The rules, each with the name a dead letter carries:
//
//   - clock: the reading's time is within MaxReadingSkew of the service's
//     clock when the message reached the server (now - Delay);
//   - monotonic: within a boot, totals only grow;
//   - rate: within a boot, neither total grows faster than the sensor's
//     MaxPerMinute, over the minutes between the two readings (at least one);
//   - new_boot: a sensor that booted again starts near zero (each total at
//     most one minute's count) and at a low seq (at most NewBootMaxSeq);
//   - out_exceeds_in: the reading does not take the zone's counted
//     occupancy more than one minute's count of the sensor below zero
//     (more people out than ever came in).
//
// A reading that breaks one is not applied (CounterImplausible, Result.Rule)
// and the sensor is marked suspect (SensorState.Suspect, event
// sensor.suspect once). The sensor's last applied totals keep counting in
// its zone, so one message never moves live occupancy; its later readings
// are judged against those totals and applied when plausible. TrustSensor
// (operations) takes the latest implausible totals as the sensor's new
// baseline, without moving live occupancy, and clears the suspicion.
//
// A held zone is released by a counter reading only when a second sensor
// of the zone confirms it: the reading that first brings live occupancy to
// the release threshold is noted (ZoneState.ReleaseBy) and the hold ends
// on a reading of another trusted sensor that still finds the zone at or
// under it. A zone whose other sensors contradict the drop (live above the
// threshold again) stays held. A zone with one reporting, trusted sensor is
// released by it alone, as before.

// Plausibility limits.
const (
	// DefaultMaxPerMinute is a sensor's MaxPerMinute when the
	// configuration gives none.
	DefaultMaxPerMinute = 600
	// MaxReadingSkew is how far a reading's time may be from the service's.
	MaxReadingSkew = 5 * time.Minute
	// NewBootMaxSeq is the highest seq a reading of a new boot may have.
	NewBootMaxSeq = 60
)

// Rules, as named in dead letters and events.
const (
	RuleClock        = "clock"
	RuleMonotonic    = "monotonic"
	RuleRate         = "rate"
	RuleNewBoot      = "new_boot"
	RuleOutExceedsIn = "out_exceeds_in"
)

func (sc *Sensor) maxPerMinute() int64 {
	if sc.MaxPerMinute > 0 {
		return int64(sc.MaxPerMinute)
	}
	return DefaultMaxPerMinute
}

// implausible returns the rule c breaks, with why, or "" if it is
// plausible. cp is the sensor's checkpoint (seen false: none yet); c is
// neither a duplicate nor of a past boot.
func (s *State) implausible(now time.Time, sc *Sensor, cp *SensorState, seen bool, c CounterReading) (rule, msg string) {
	lim := sc.maxPerMinute()
	sent := now.Add(-c.Delay)
	if d := c.At.Sub(sent); d > MaxReadingSkew || d < -MaxReadingSkew {
		return RuleClock, fmt.Sprintf("reading time %s is %s from the service's clock (%s); at most %s is accepted",
			c.At.Format(time.RFC3339), d.Round(time.Second), sent.Format(time.RFC3339), MaxReadingSkew)
	}
	next := SensorState{Sensor: c.Sensor, Zone: c.Zone, In: c.In, Out: c.Out}
	switch {
	case seen && c.Boot == cp.Boot:
		if c.In < cp.In || c.Out < cp.Out {
			return RuleMonotonic, fmt.Sprintf("totals went down within boot %q (in %d→%d, out %d→%d)", c.Boot, cp.In, c.In, cp.Out, c.Out)
		}
		// Whole minutes between the readings, rounded up, at least one.
		minutes := max(int64((c.At.Sub(cp.At)+time.Minute-1)/time.Minute), 1)
		if allow := lim * minutes; c.In-cp.In > allow || c.Out-cp.Out > allow {
			return RuleRate, fmt.Sprintf("in +%d, out +%d in %s; the sensor counts at most %d a minute (%d allowed)",
				c.In-cp.In, c.Out-cp.Out, c.At.Sub(cp.At).Round(time.Second), lim, allow)
		}
		next.BaseIn, next.BaseOut = cp.BaseIn, cp.BaseOut
	case seen:
		if c.In > lim || c.Out > lim || c.Seq > NewBootMaxSeq {
			return RuleNewBoot, fmt.Sprintf("new boot %q starts at in %d, out %d, seq %d; a new boot starts at most at %d each and seq %d",
				c.Boot, c.In, c.Out, c.Seq, lim, NewBootMaxSeq)
		}
		next.BaseIn, next.BaseOut = cp.BaseIn+cp.In, cp.BaseOut+cp.Out
	}
	// The zone's counted occupancy with this reading in place of the
	// sensor's last.
	net := s.net(c.Zone)
	if seen {
		net -= cp.BaseIn + cp.In - cp.BaseOut - cp.Out
	}
	after := net + next.BaseIn + next.In - next.BaseOut - next.Out
	if before := s.net(c.Zone); after < min(before, 0)-lim {
		return RuleOutExceedsIn, fmt.Sprintf("the zone's count would fall to %d (from %d): more out than ever came in, beyond one minute's count (%d)", after, before, lim)
	}
	return "", ""
}

// suspect refuses an implausible reading and marks its sensor suspect.
func (s *State) suspect(now time.Time, cp *SensorState, seen bool, c CounterReading, rule, msg string) (Result, []Effect) {
	res := Result{Counter: CounterImplausible, Rule: rule,
		RuleDetail: fmt.Sprintf("sensor %q: implausible reading (rule %s): %s", c.Sensor, rule, msg)}
	next := SensorState{Sensor: c.Sensor, Zone: c.Zone}
	if seen {
		next = *cp
	}
	if next.Pending != nil && (next.Pending.Boot == c.Boot && c.Seq <= next.Pending.Seq) {
		return res, nil // an older implausible reading: nothing new to keep
	}
	first := !next.Suspect
	next.Suspect, next.SuspectRule = true, rule
	if first {
		next.SuspectSince = now
	}
	next.Pending = &SensorReading{Boot: c.Boot, Seq: c.Seq, In: c.In, Out: c.Out, At: c.At}
	if !seen {
		s.sensors[c.Sensor] = &next
	} else {
		*s.sensors[c.Sensor] = next
	}
	effects := []Effect{PutSensor{next}}
	if first {
		effects = append(effects, Event{Kind: EventSensorSuspect, At: now, Data: SuspectEvent{
			Sensor: c.Sensor, Zone: c.Zone, Rule: rule, Message: msg}})
	}
	return res, effects
}

// SuspectEvent is the data of sensor.suspect and sensor.trusted.
type SuspectEvent struct {
	Sensor  string `json:"sensor"`
	Zone    string `json:"zone"`
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message,omitempty"`
}

// releaseConfirmed reports whether a held zone at its release threshold
// after a reading of sensor by may be released, noting by as the first
// witness when it may not yet. A zone with fewer than two trusted sensors,
// or an evaluation not caused by a reading (by ""), needs no confirmation.
func (s *State) releaseConfirmed(z *ZoneState, by string) bool {
	if by == "" || s.trustedSensors(z.Zone) < 2 {
		return true
	}
	if z.ReleaseBy != "" && z.ReleaseBy != by {
		return true
	}
	z.ReleaseBy = by
	return false
}

// trustedSensors counts the zone's sensors that have reported and are not
// suspect: those whose word counts for or against a release.
func (s *State) trustedSensors(zone string) int {
	n := 0
	for _, sc := range s.cfg.Sensors {
		if st, ok := s.sensors[sc.ID]; ok && sc.Zone == zone && !st.Suspect {
			n++
		}
	}
	return n
}

// TrustSensor (operations) accepts a suspect sensor's latest totals as its
// new baseline: its count in the zone stays what it was, and its next
// readings are judged against those totals.
type TrustSensor struct{ Sensor string }

func (TrustSensor) isCommand() {}

func (s *State) trustSensor(now time.Time, c TrustSensor) (Result, []Effect) {
	sc, ok := s.cfg.Sensor(c.Sensor)
	if !ok {
		return Result{Err: errorf(CodeInvalid, "sensor", "unknown sensor %q (known: %s)", c.Sensor, s.cfg.sensorList())}, nil
	}
	cp, ok := s.sensors[c.Sensor]
	if !ok || !cp.Suspect {
		return Result{Err: errorf(CodeConflict, "sensor", "sensor %q is not suspect: nothing to trust", c.Sensor)}, nil
	}
	next := *cp
	if p := cp.Pending; p != nil {
		// Keep the sensor's contribution: base + totals stays the same.
		next.BaseIn += cp.In - p.In
		next.BaseOut += cp.Out - p.Out
		if p.Boot != cp.Boot && cp.Boot != "" {
			next.PastBoots = append(append([]string(nil), cp.PastBoots...), cp.Boot)
			if len(next.PastBoots) > maxPastBoots {
				next.PastBoots = next.PastBoots[len(next.PastBoots)-maxPastBoots:]
			}
		}
		next.Boot, next.Seq, next.In, next.Out, next.At = p.Boot, p.Seq, p.In, p.Out, p.At
	}
	next.Suspect, next.SuspectRule, next.SuspectSince, next.Pending = false, "", time.Time{}, nil
	s.sensors[c.Sensor] = &next
	return Result{}, []Effect{PutSensor{next}, Event{Kind: EventSensorTrusted, At: now, Data: SuspectEvent{Sensor: c.Sensor, Zone: sc.Zone}}}
}

func (c *Config) sensorList() string {
	ids := ""
	for i, s := range c.Sensors {
		if i > 0 {
			ids += ", "
		}
		ids += s.ID
	}
	return ids
}
