package scheduler

import "time"

// The metering check's verdicts, kept while nothing they read changes
//
// A group the forecast holds back is scanned again and again while it
// waits: each visitor's ticket, at every gate device that has it, and each
// of those scans asked the metering check again (the route's forecast and
// the spread of its stays, the largest part of a scan's cost in the owner
// loop, most of it for groups it holds back). The check is a function of
// the time it is asked at, the booking's route and party, and the state's
// admission log, dwell factors, closures, capacity cuts and live
// estimates; every one of those changes only by a command (an admission,
// a counter reading, a tick, a closure or cut, a re-plan...) or a Revert.
// So meterGen counts every command but a scan that admitted nobody (such a
// scan changes only scan records, held groups and the booking's place in
// a wave, none of which the check reads), and every Revert; a verdict given
// at the same instant with meterGen unchanged is given again. The engine
// applies a turn's commands at one instant, so the scans of a held group
// in one turn share one check. A verdict that holds a group back is also
// given again at a later instant, before meterUntil (forecast_until.go),
// the first at which anything of the time it reads may change: the
// scans of a held group in turns of their own share it too.
// TestMeterMemoAnswersAsTheCheck compares it with the check made afresh
// over random command sequences, as time moves on.

// meterMemo is the metering verdicts given while meterGen was gen.
type meterMemo struct {
	gen      uint64
	verdicts map[meterKey]meterVerdict
	// The check's buffers, reused from check to check: the spread's
	// figures (newSpreadRoute) and the minutes over threshold.
	spreadBuf []float64
	overBuf   []int32
}

// meterKey is what a verdict is for: a booking's party of n on a route.
type meterKey struct {
	booking, route string
	n              int
}

// meterVerdict is the check's answer, given at at and holding before
// until, without the fields meterCheck fills in from the booking, its
// hold and the time at each call: ZoneAt is zoneIn minutes after now,
// and RetryAt (if retry) the minute after the one delay minutes after
// now, as meterVerdict gives them.
type meterVerdict struct {
	at, until time.Time
	zone      string
	zoneIn    time.Duration
	forecast  int
	holdAt    int
	delay     time.Duration
	retry     bool
	ok        bool
}

// holds reports whether the verdict may be given again at now.
func (v *meterVerdict) holds(now time.Time) bool {
	return now.Equal(v.at) || !now.Before(v.at) && now.Before(v.until)
}

// meterInputs notes that command cmd, applied at now with result res,
// may have changed what the metering check reads: every command does but
// a scan that let nobody in. A scan that let visitors in adds them to
// the spread projection at once if it is kept for now's minute (the
// check would add them at its next call, in the same order and with the
// same figures): a group's first scan, which is checked, then does not
// pay for the admissions of the whole group before it (60 visitors
// scanned one by one, about 0.75 ms; the gate scan row's p99).
func (s *State) meterInputs(now time.Time, cmd Command, res Result) {
	_, scan := cmd.(Scan)
	if scan && (res.Scan == nil || res.Scan.Admitted == 0) {
		return
	}
	s.meterGen++
	if c := s.spread; scan && c != nil && c.gen == s.admitsGen && c.at.Equal(now.Truncate(time.Minute)) {
		s.spreadProjection(now)
	}
}

// meterCheck is meterVerdict, given again for the same booking, route and
// party while meterGen is unchanged, at the same instant or, for a group
// held back, before the verdict's meterUntil.
func (s *State) meterCheck(now time.Time, b *Booking, r *Route, n int) (MeteredGroup, bool) {
	key := meterKey{booking: b.ID, route: r.ID, n: n}
	if s.memo.gen != s.meterGen || s.memo.verdicts == nil {
		s.memo.gen = s.meterGen
		if s.memo.verdicts == nil {
			s.memo.verdicts = map[meterKey]meterVerdict{}
		}
		clear(s.memo.verdicts)
	} else if v, ok := s.memo.verdicts[key]; ok && v.holds(now) {
		if v.ok {
			return MeteredGroup{}, true
		}
		m := s.meterRecord(now, b, n)
		m.Zone, m.Forecast, m.HoldAt = v.zone, v.forecast, v.holdAt
		if v.zone != "" {
			m.ZoneAt = now.Add(v.zoneIn)
		}
		if v.retry {
			m.RetryAt = now.Add(v.delay).Truncate(time.Minute).Add(time.Minute)
		}
		return m, false
	}
	m, ok := s.meterVerdict(now, b, r, n)
	v := meterVerdict{at: now, until: now, zone: m.Zone, forecast: m.Forecast, holdAt: m.HoldAt, ok: ok}
	if m.Zone != "" {
		v.zoneIn = m.ZoneAt.Sub(now)
	}
	if !m.RetryAt.IsZero() {
		// RetryAt is now+delay truncated to the minute, plus one.
		v.retry, v.delay = true, m.RetryAt.Add(-time.Minute).Sub(now.Truncate(time.Minute))
	}
	if !ok {
		// A group let in changes meterGen: only a hold is asked again.
		v.until = s.meterUntil(now, r)
	}
	s.memo.verdicts[key] = v
	return m, ok
}

// meterRecord is the record of booking b's party of n held back at now,
// before the check fills in why and until when.
func (s *State) meterRecord(now time.Time, b *Booking, n int) MeteredGroup {
	m := MeteredGroup{Booking: b.ID, Operator: b.Operator, Gate: b.Gate, Slot: b.Slot, Visitors: n, Since: now}
	if prev := s.meters[b.ID]; prev != nil {
		m.Since = prev.Since
	}
	return m
}
