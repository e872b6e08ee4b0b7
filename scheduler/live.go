package scheduler

import (
	"cmp"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// closureReasonPrefix starts the reason of a booking moved or cancelled by
// a closure.
const closureReasonPrefix = "closure: "

// maxPastBoots is how many earlier boots of a counter are remembered.
const maxPastBoots = 8

// Retention of idempotency and scan records.
const (
	idemTTL = 24 * time.Hour
	scanTTL = 48 * time.Hour
)

// counter applies a people counter's cumulative totals.
func (s *State) counter(now time.Time, c CounterReading) (Result, []Effect) {
	invalid := func(format string, args ...any) (Result, []Effect) {
		return Result{Counter: CounterInvalid, Err: errorf(CodeInvalid, "", format, args...)}, nil
	}
	sc, ok := s.cfg.Sensor(c.Sensor)
	if !ok {
		return invalid("unknown sensor %q", c.Sensor)
	}
	if sc.Zone != c.Zone {
		return invalid("sensor %q counts zone %q, not %q", c.Sensor, sc.Zone, c.Zone)
	}
	if c.Boot == "" || c.In < 0 || c.Out < 0 {
		return invalid("sensor %q: boot must be set and totals must not be negative", c.Sensor)
	}
	cp, seen := s.sensors[c.Sensor]
	if !seen {
		cp = &SensorState{Sensor: c.Sensor, Zone: c.Zone}
	}
	next := *cp
	next.PastBoots = slices.Clone(cp.PastBoots)
	switch {
	case seen && c.Boot == cp.Boot:
		if c.Seq <= cp.Seq {
			return Result{Counter: CounterDuplicate}, nil
		}
	case slices.Contains(cp.PastBoots, c.Boot):
		return Result{Counter: CounterDuplicate}, nil
	}
	if rule, msg := s.implausible(now, sc, cp, seen, c); rule != "" {
		return s.suspect(now, cp, seen, c, rule, msg)
	}
	if !seen || c.Boot != cp.Boot {
		// A new boot: the old boot's totals become the base. Boot and seq
		// order the readings; the device's clock only has to be within
		// MaxReadingSkew of the service's (plausible.go).
		if seen {
			next.BaseIn += cp.In
			next.BaseOut += cp.Out
			next.PastBoots = append(next.PastBoots, cp.Boot)
			if len(next.PastBoots) > maxPastBoots {
				next.PastBoots = next.PastBoots[len(next.PastBoots)-maxPastBoots:]
			}
		}
		next.Boot = c.Boot
	}
	next.Seq, next.In, next.Out, next.At, next.Applied = c.Seq, c.In, c.Out, c.At, now
	prevNet := s.net(c.Zone)
	s.sensors[c.Sensor] = &next
	s.recordFlow(now, c.Zone, prevNet)
	effects := []Effect{PutSensor{next}}
	effects = append(effects, s.evalZoneBy(now, c.Zone, c.Sensor)...)
	return Result{Counter: CounterApplied}, effects
}

// net is a zone's counted occupancy before clamping.
func (s *State) net(zone string) int64 {
	var n int64
	for _, st := range s.sensors { // a sum: the order does not matter
		if st.Zone == zone {
			n += st.BaseIn + st.In - st.BaseOut - st.Out
		}
	}
	return n + s.zones[zone].Offset
}

// evalZone corrects negative drift and applies the hold hysteresis.
func (s *State) evalZone(now time.Time, zone string) []Effect { return s.evalZoneBy(now, zone, "") }

// evalZoneBy is evalZone after a reading of sensor by ("" for none): a
// release then needs another sensor's confirmation (releaseConfirmed).
func (s *State) evalZoneBy(now time.Time, zone, by string) []Effect {
	z := s.zones[zone]
	zc, _ := s.cfg.Zone(zone)
	changed := false
	if n := s.net(zone); n < 0 {
		// More out than in: the counters drifted. Occupancy never goes
		// negative; count from zero again.
		z.Offset -= n
		changed = true
	}
	live := s.Live(zone)
	prevBy := z.ReleaseBy
	if z.ReleaseBy != "" && (!z.Held || live > zc.ReleaseAt) {
		z.ReleaseBy = "" // contradicted: the zone is above its release threshold again
		changed = true
	}
	var effects []Effect
	switch {
	case !z.Held && live >= zc.HoldAt:
		z.Held, z.HeldSince = true, now
		changed = true
		effects = append(effects, Event{Kind: EventWaveHeld, At: now, Data: HoldEvent{
			Zone: zone, Live: live, HoldAt: zc.HoldAt, ReleaseAt: zc.ReleaseAt, Gates: s.gatesReaching(zone)}})
	case z.Held && !z.ManualHold && live <= zc.ReleaseAt && !s.releaseConfirmed(z, by):
		// Still held: z.ReleaseBy waits for another sensor's word.
	case z.Held && !z.ManualHold && live <= zc.ReleaseAt:
		z.Held, z.HeldSince, z.ReleaseBy = false, time.Time{}, ""
		changed = true
		effects = append(effects, Event{Kind: EventWaveReleased, At: now, Data: HoldEvent{
			Zone: zone, Live: live, HoldAt: zc.HoldAt, ReleaseAt: zc.ReleaseAt, Gates: s.gatesReaching(zone)}})
	}
	if changed || z.ReleaseBy != prevBy {
		effects = append([]Effect{PutZone{*z}}, effects...)
	}
	return effects
}

// HoldEvent is the data of wave.held and of a hold's wave.released.
type HoldEvent struct {
	Zone      string   `json:"zone"`
	Live      int      `json:"live"`
	HoldAt    int      `json:"hold_at"`
	ReleaseAt int      `json:"release_at"`
	Gates     []string `json:"gates"`
	Manual    bool     `json:"manual,omitempty"`
}

// WaveEvent is the data of a wave.released event for a wave whose slot
// started.
type WaveEvent struct {
	Gate   string    `json:"gate"`
	Slot   time.Time `json:"slot"`
	Booked int       `json:"booked"`
	Groups int       `json:"groups"`
}

// gatesReaching lists the gates of routes that reach zone within the hold
// horizon.
func (s *State) gatesReaching(zone string) []string {
	set := map[string]bool{}
	for _, r := range s.cfg.Routes {
		for _, st := range r.Stops {
			if st.Zone == zone && st.Arrive <= s.cfg.Policy.HoldHorizonMinutes {
				for _, g := range r.Gates {
					set[g] = true
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func (s *State) setHold(now time.Time, c SetHold) (Result, []Effect) {
	z, ok := s.zones[c.Zone]
	if !ok {
		return Result{Err: errorf(CodeInvalid, "zone", "unknown zone %q (known: %s)", c.Zone, s.cfg.zoneList())}, nil
	}
	zc, _ := s.cfg.Zone(c.Zone)
	ev := HoldEvent{Zone: c.Zone, Live: s.Live(c.Zone), HoldAt: zc.HoldAt, ReleaseAt: zc.ReleaseAt, Gates: s.gatesReaching(c.Zone), Manual: true}
	if c.On {
		wasHeld := z.Held
		z.Held, z.ManualHold = true, true
		if !wasHeld {
			z.HeldSince = now
		}
		return Result{}, []Effect{PutZone{*z}, Event{Kind: EventWaveHeld, At: now, Data: ev}}
	}
	z.ManualHold = false
	z.Held = ev.Live >= zc.HoldAt
	if !z.Held {
		z.HeldSince = time.Time{}
	}
	effects := []Effect{PutZone{*z}}
	if !z.Held {
		effects = append(effects, Event{Kind: EventWaveReleased, At: now, Data: ev})
	}
	return Result{}, effects
}

func (s *State) resetZone(now time.Time, c ResetZone) (Result, []Effect) {
	if _, ok := s.zones[c.Zone]; !ok {
		return Result{Err: errorf(CodeInvalid, "zone", "unknown zone %q (known: %s)", c.Zone, s.cfg.zoneList())}, nil
	}
	return Result{}, s.reset(now, c.Zone)
}

// reset declares a zone empty: the counters' drift is absorbed into the
// offset.
func (s *State) reset(now time.Time, zone string) []Effect {
	z := s.zones[zone]
	z.Offset -= s.net(zone)
	if f := s.fusion[zone]; f != nil {
		f.drift, f.disagree, f.disagreeSince = 0, false, time.Time{}
	}
	return append([]Effect{PutZone{*z}}, s.evalZone(now, zone)...)
}

func (c *Config) zoneList() string {
	var ids []string
	for _, z := range c.Zones {
		ids = append(ids, z.ID)
	}
	return strings.Join(ids, ", ")
}

// close opens a closure and re-plans the bookings it affects (active, nobody
// admitted, route meeting the closure's block span), one date at a time:
// the day planner and the first-come rule (the earliest wave that avoids
// the closure, in the booking's window if possible, else later that day)
// both place them on what is left of the day, and the outcome that keeps
// more visitors (then is fairer between operators, then keeps more of them
// in their window) is applied. A booking moved is rescheduled, one with no
// room left is cancelled, both with the closure's reason (see replan.go).
func (s *State) close(now time.Time, c Close) (Result, []Effect) {
	if c.ID == "" {
		return Result{Err: errorf(CodeInvalid, "id", "a closure needs an id")}, nil
	}
	if _, dup := s.closures[c.ID]; dup {
		return Result{Err: errorf(CodeConflict, "id", "closure %q exists", c.ID)}, nil
	}
	for _, z := range c.Zones {
		if _, ok := s.cfg.Zone(z); !ok {
			return Result{Err: errorf(CodeInvalid, "zones", "unknown zone %q (known: %s)", z, s.cfg.zoneList())}, nil
		}
	}
	if c.Reason == "" {
		return Result{Err: errorf(CodeInvalid, "reason", "a closure needs a reason (e.g. \"flood\")")}, nil
	}
	if !c.Until.IsZero() && !c.Until.After(now) {
		return Result{Err: errorf(CodeInvalid, "until", "until %s is not after now", c.Until.Format(time.RFC3339))}, nil
	}
	cl := &Closure{ID: c.ID, Zones: slices.Clone(c.Zones), Reason: c.Reason, Source: c.Source, From: now, Until: c.Until}
	s.closures[cl.ID] = cl
	hit := s.hitBy(cl)
	if s.stepped(hit) {
		// Too many to re-plan in one turn: the closure is in force at once
		// and recorded as applying (the intent); ApplyStep re-plans the rest.
		cl.Applying = true
		s.queueClosure(cl, hit)
	}
	var replanned []Effect
	if !cl.Applying {
		replanned, cl.Replanned = s.replanHit(now, cl, hit)
	}
	effects := append([]Effect{PutClosure{*cl}, Event{Kind: EventZoneClosed, At: now, Data: *cl}}, replanned...)
	out := *cl
	return Result{Closure: &out}, effects
}

func (s *State) reopen(now time.Time, c Reopen) (Result, []Effect) {
	cl, ok := s.closures[c.ID]
	if !ok {
		return Result{Err: errorf(CodeNotFound, "id", "no closure %q", c.ID)}, nil
	}
	if !cl.Active(now) {
		return Result{Err: errorf(CodeConflict, "id", "closure %q is not in force", c.ID)}, nil
	}
	cl.Lifted = now
	out := *cl
	return Result{Closure: &out}, []Effect{PutClosure{*cl}, Event{Kind: EventZoneReopened, At: now, Data: *cl}}
}

var severityRank = map[string]int{"low": 1, "medium": 2, "high": 3}

func (s *State) alert(now time.Time, a Alert) (Result, []Effect) {
	rule, ok := s.cfg.Alerts[a.Kind]
	if !ok {
		var kinds []string
		for k := range s.cfg.Alerts {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		return Result{Err: errorf(CodeInvalid, "kind", "unknown alert kind %q (known: %s)", a.Kind, strings.Join(kinds, ", "))}, nil
	}
	sev, ok := severityRank[a.Severity]
	if !ok {
		return Result{Err: errorf(CodeInvalid, "severity", "severity %q is not one of low, medium, high", a.Severity)}, nil
	}
	if !rule.Close || sev < severityRank[rule.MinSeverity] {
		return Result{}, nil
	}
	zones := rule.Zones
	if len(zones) == 0 {
		zones = a.Zones
	}
	if len(zones) == 0 {
		return Result{Err: errorf(CodeInvalid, "zones", "alert %q names no zones and its rule names none", a.Kind)}, nil
	}
	return s.close(now, Close{ID: a.ID, Zones: zones, Reason: a.Kind, Source: "alert:" + a.Kind})
}

// tick releases the waves whose slot started since the last tick, drops
// expired idempotency and scan records, lifts closures whose time ran out
// and declares every zone empty once the site has closed for the day.
func (s *State) tick(now time.Time) (Result, []Effect) {
	var effects []Effect
	prev := s.lastTick
	s.lastTick = now
	if !prev.IsZero() && now.After(prev) {
		effects = append(effects, s.releaseWaves(prev, now)...)
	}
	for _, k := range slices.SortedFunc(maps.Keys(s.idem), func(a, b idemKey) int {
		if a.operator != b.operator {
			return cmp.Compare(a.operator, b.operator)
		}
		return cmp.Compare(a.key, b.key)
	}) {
		if now.Sub(s.idem[k].CreatedAt) > idemTTL {
			delete(s.idem, k)
			effects = append(effects, DeleteIdempotency{Operator: k.operator, Key: k.key})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.scans)) {
		if now.Sub(s.scans[id].At) > scanTTL {
			delete(s.scans, id)
			effects = append(effects, DeleteScan{ScanID: id})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.closures)) {
		cl := s.closures[id]
		if !cl.Until.IsZero() && cl.Lifted.IsZero() && !now.Before(cl.Until) {
			cl.Lifted = cl.Until
			effects = append(effects, PutClosure{*cl}, Event{Kind: EventZoneReopened, At: now, Data: *cl})
		}
	}
	effects = append(effects, s.offlineTick(now)...)
	s.pruneAdmits(now)
	effects = append(effects, s.pruneMeters(now)...)
	s.learnDwell(now)
	effects = append(effects, s.fuseTick(now)...)
	today := s.today(now)
	if _, _, closeAt, ok := s.cfg.HoursOn(today); ok {
		closeAt = max(closeAt, s.eveningClose(today))
		date := today.Format(time.DateOnly)
		if now.Sub(today) >= time.Duration(closeAt)*time.Minute {
			for _, z := range s.cfg.Zones {
				if s.zones[z.ID].LastReset != date {
					s.zones[z.ID].LastReset = date
					effects = append(effects, s.reset(now, z.ID)...)
				}
			}
		}
	}
	return Result{}, effects
}

// eveningClose is the latest close of an evening event on date, in minutes.
func (s *State) eveningClose(date time.Time) int {
	latest := 0
	for _, r := range s.cfg.Routes {
		if ev, ok := s.cfg.EveningOn(date, r.ID); ok {
			if m, err := ParseClock(ev.Close); err == nil {
				latest = max(latest, m)
			}
		}
	}
	return latest
}

// releaseWaves announces each wave whose slot started in (from, to].
func (s *State) releaseWaves(from, to time.Time) []Effect {
	var effects []Effect
	for t := s.today(from); !t.After(to); t = t.AddDate(0, 0, 1) {
		d, ok := s.days[t.Format(time.DateOnly)]
		if !ok {
			continue
		}
		lo, hi := s.minuteOf(d, from), s.minuteOf(d, to)
		for _, g := range s.cfg.Gates {
			for slot, n := range d.wave[g.ID] {
				m := slot * s.cfg.SlotMinutes
				booked := int(n) - d.phantomWave(g.ID, slot) // not a capacity cut's phantom load
				if m > lo && m <= hi && booked > 0 {
					effects = append(effects, Event{Kind: EventWaveReleased, At: to, Data: WaveEvent{
						Gate: g.ID, Slot: s.at(d, m), Booked: booked, Groups: s.groups(d.date, g.ID, s.at(d, m))}})
				}
			}
		}
	}
	return effects
}

func (s *State) groups(date, gate string, slot time.Time) int {
	n := 0
	for b := range s.bookings.view(date, s.bookings.recActive) {
		if b.Active() && b.Date == date && b.Gate == gate && b.Slot.Equal(slot) {
			n++
		}
	}
	return n
}

// Open reports whether the site is open to visitors at now: between
// opening and closing time, or during an evening event.
func (s *State) Open(now time.Time) bool {
	today := s.today(now)
	m := int(now.Sub(today) / time.Minute)
	if open, _, closeAt, ok := s.cfg.HoursOn(today); ok && m >= open && m < closeAt {
		return true
	}
	for _, r := range s.cfg.Routes {
		ev, ok := s.cfg.EveningOn(today, r.ID)
		if !ok || len(ev.Entries) == 0 {
			continue
		}
		first, err1 := ParseClock(ev.Entries[0])
		closeAt, err2 := ParseClock(ev.Close)
		if err1 == nil && err2 == nil && m >= first && m < closeAt {
			return true
		}
	}
	return false
}
