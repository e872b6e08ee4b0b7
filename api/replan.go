package api

import (
	"net/http"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// Over capacity after a configuration change (ops): GET /v1/occupancy and
// GET /v1/status list the dates whose bookings are over the capacity now
// configured; POST /v1/replan re-plans one such date as a capacity cut
// does (moved, or cancelled if the day has no room left).

var replanBody = body{fields: []string{"date"}}

// replan: POST /v1/replan.
func (s *Server) replan(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	var in ReplanRequest
	present, e := decode(r, replanBody, &in)
	if e != nil {
		return e
	}
	if !present["date"] {
		return badRequest("date", "date is required: the date to re-plan, YYYY-MM-DD (the dates over capacity are in GET /v1/occupancy)")
	}
	res, err := s.eng.Do(r.Context(), scheduler.Replan{Date: in.Date})
	if e := fromEngine(res, err); e != nil {
		return e
	}
	p := res.Replanned
	if p.Bookings > 0 {
		s.log.Info("date re-planned over capacity", "date", p.Date, "bookings", p.Bookings, "moved", p.Moved,
			"left_window", p.LeftWindow, "cancelled", p.Cancelled, "waves_left", p.WavesLeft, "zone_days_left", p.ZoneDaysLeft)
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// overbooked sums up the overages by date for the answer, with the times
// in the site's zone, and sets each zone's own.
func (s *Server) overbooked(zones []scheduler.ZoneOccupancy, over []scheduler.Overage) []scheduler.DateOverage {
	for i := range over {
		o := &over[i]
		for _, t := range []*time.Time{&o.Slot, &o.From, &o.Until} {
			if !t.IsZero() {
				*t = t.In(s.loc)
			}
		}
	}
	scheduler.WithOverages(zones, over)
	out := scheduler.OverageByDate(over)
	if out == nil {
		out = []scheduler.DateOverage{}
	}
	return out
}
