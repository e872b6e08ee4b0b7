package scheduler

import "time"

// ClosureBookings are the bookings a closure concerns, for telling their
// operators (webhooks): those on a date of the closure's block span (from
// its start to its end, its lifting, or — open-ended or ended before it
// began — the end of the day it began; at most maxDates dates) whose route
// passes through a closed zone (any, for the whole site), and that were
// placed when the change happened at at: still placed, or cancelled by that
// very turn. It is by date and route, not by time of day: a group walking
// the Siq after a morning closure ends is told too. In date order, then as
// Bookings orders them.
func (s *State) ClosureBookings(cl Closure, at time.Time, maxDates int) []Booking {
	loc := s.cfg.Location()
	from, end := s.blockSpan(&cl)
	from = from.In(loc)
	if !end.After(from) {
		end = time.Date(from.Year(), from.Month(), from.Day()+1, 0, 0, 0, 0, loc)
	}
	through := map[string]bool{} // route → passes through a closed zone
	for _, r := range s.cfg.Routes {
		for _, stop := range r.Stops {
			if cl.Covers(stop.Zone) {
				through[r.ID] = true
				break
			}
		}
	}
	var out []Booking
	n := 0
	for d := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc); d.Before(end) && n < maxDates; d = d.AddDate(0, 0, 1) {
		n++
		for _, b := range s.Bookings("", d.Format(time.DateOnly)) {
			if !through[b.Route] {
				continue
			}
			if b.Placed() || b.Status == StatusCancelled && b.UpdatedAt.Equal(at) {
				out = append(out, b)
			}
		}
	}
	return out
}
