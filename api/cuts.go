package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// Capacity cuts (ops): lower a zone's capacity or a gate's wave capacity
// for a while without closing it; the bookings over the lower figure are
// re-planned (moved, or cancelled if nothing is left).

// createCut: POST /v1/cuts.
func (s *Server) createCut(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	var in CutRequest
	present, e := decode(r, cutBody, &in)
	if e != nil {
		return e
	}
	if !present["capacity"] {
		return badRequest("capacity", "capacity is required: the visitors the zone may hold at once (or the gate may let in a wave) while the cut is in force")
	}
	cmd := scheduler.CutCapacity{ID: newID("cu_"), Zone: in.Zone, Gate: in.Gate, Capacity: in.Capacity,
		Reason: strings.TrimSpace(in.Reason), Source: "ops"}
	if len(cmd.Reason) > 200 {
		return badRequest("reason", "reason has %d bytes; at most 200 are accepted", len(cmd.Reason))
	}
	for _, f := range []struct {
		name, value string
		dst         *time.Time
	}{{"from", in.From, &cmd.From}, {"until", in.Until, &cmd.Until}} {
		if f.value == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.value)
		if err != nil {
			return badRequest(f.name, "%s %q is not an RFC 3339 time (e.g. \"2026-12-01T14:00:00+03:00\")", f.name, f.value)
		}
		*f.dst = t
	}
	res, err := s.eng.Do(r.Context(), cmd)
	if e := fromEngine(res, err); e != nil {
		return e
	}
	w.Header().Set("Location", "/v1/cuts/"+res.Cut.ID)
	writeJSON(w, http.StatusCreated, s.cutIn(*res.Cut))
	return nil
}

// listCuts: GET /v1/cuts — the cuts in force now or later.
func (s *Server) listCuts(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	var cuts []scheduler.CapacityCut
	if err := s.eng.Read(r.Context(), func(st *scheduler.State, now time.Time) { cuts = st.Cuts(now) }); err != nil {
		return engineError(err)
	}
	out := CutList{Cuts: make([]scheduler.CapacityCut, 0, len(cuts))}
	for _, c := range cuts {
		out.Cuts = append(out.Cuts, s.cutIn(c))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// liftCut: DELETE /v1/cuts/{id}.
func (s *Server) liftCut(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	res, err := s.eng.Do(r.Context(), scheduler.LiftCut{ID: r.PathValue("id")})
	if e := fromEngine(res, err); e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, s.cutIn(*res.Cut))
	return nil
}

// cutIn shows a cut's times in the site's zone.
func (s *Server) cutIn(c scheduler.CapacityCut) scheduler.CapacityCut {
	c.From, c.Until = c.From.In(s.loc), c.Until.In(s.loc)
	if !c.Lifted.IsZero() {
		c.Lifted = c.Lifted.In(s.loc)
	}
	return c
}
