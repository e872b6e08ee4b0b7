package scheduler

import "strings"

// ReplanRequests are the planner's requests for a whole-day re-plan of
// date: every active booking with nobody admitted yet (its current slot as
// the preferred start) and every booking a closure cancelled. closed names
// the latter.
func (s *State) ReplanRequests(date string) (reqs []PlanRequest, closed map[string]bool) {
	closed = map[string]bool{}
	for _, b := range s.Bookings("", date) {
		byClosure := b.Status == StatusCancelled && strings.HasPrefix(b.Reason, closureReasonPrefix)
		if !(b.Active() && b.Admitted == 0) && !byClosure {
			continue
		}
		closed[b.ID] = byClosure
		slot := b.Slot.In(s.cfg.Location())
		reqs = append(reqs, PlanRequest{ID: b.ID, Operator: b.Operator, Route: b.Route, PartySize: b.PartySize,
			Window: b.Window, Preferred: slot.Hour()*60 + slot.Minute()})
	}
	return reqs, closed
}
