package scheduler

import "time"

// The groups the forecast holds back at the gate (gate.go, meterCheck)
// are durable: a group told "come back at 10:40" keeps its right to be
// admitted past its late grace across a restart. Each change of s.meters
// is an effect: PutMeter when a group is held (or told a new time),
// DeleteMeter when it is admitted, moved, or pruned.

// PutMeter persists a group held back by the forecast.
type PutMeter struct{ Group MeteredGroup }

// DeleteMeter removes the record of a group no longer held back.
type DeleteMeter struct{ Booking string }

func (PutMeter) isEffect()    {}
func (DeleteMeter) isEffect() {}

// unmeter forgets booking id's hold, with the effect that deletes its
// record, if it has one.
func (s *State) unmeter(id string) []Effect {
	if _, ok := s.meters[id]; !ok {
		return nil
	}
	delete(s.meters, id)
	return []Effect{DeleteMeter{Booking: id}}
}

// restoredMeter is m as Restore puts it back: its times in the site's
// time zone, as the gate made them.
func restoredMeter(m MeteredGroup, loc *time.Location) *MeteredGroup {
	m.Slot, m.ZoneAt, m.RetryAt, m.Since = m.Slot.In(loc), m.ZoneAt.In(loc), m.RetryAt.In(loc), m.Since.In(loc)
	return &m
}

// restoredBooking is stored booking b with its times in the site's time
// zone loc, as Restore and Revert place it.
func restoredBooking(b Booking, loc *time.Location) Booking {
	b.Slot, b.CreatedAt, b.UpdatedAt = b.Slot.In(loc), b.CreatedAt.In(loc), b.UpdatedAt.In(loc)
	return b
}

// revertMeter puts booking id's durable hold back, or forgets it.
func (s *State) revertMeter(id string, durable map[string]*MeteredGroup) {
	if m, ok := durable[id]; ok {
		s.meters[id] = restoredMeter(*m, s.cfg.Location())
	} else {
		delete(s.meters, id)
	}
}
