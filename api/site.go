package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/scheduler"
)

// statusHorizon is how far ahead GET /v1/status lists waves.
const statusHorizon = 4 * time.Hour

// readyTimeout is how long the engine has to answer a readiness probe.
const readyTimeout = time.Second

// healthz: GET /healthz, the process is up; it says which clock it runs on.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	writeJSON(w, http.StatusOK, Health{Status: "ok", Clock: s.eng.Clock().Name(), Time: s.eng.Now().In(s.loc)})
	return nil
}

// readyz: GET /readyz, the engine answers within a second and Options.Ready
// is content.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.eng.Read(ctx, func(*scheduler.State, time.Time) {}); err != nil {
		return errf(http.StatusServiceUnavailable, CodeNotReady, "", "the scheduler did not answer within %s: %v", readyTimeout, err)
	}
	if s.opts.Ready != nil {
		if err := s.opts.Ready(); err != nil {
			return errf(http.StatusServiceUnavailable, CodeNotReady, "", "not ready: %v", err)
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// openapi: GET /openapi.json.
func (s *Server) openapi(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDoc)
	return nil
}

func (s *Server) zonesIn(zs []scheduler.ZoneOccupancy) []scheduler.ZoneOccupancy {
	for i := range zs {
		if !zs[i].HeldSince.IsZero() {
			zs[i].HeldSince = zs[i].HeldSince.In(s.loc)
		}
	}
	if zs == nil {
		zs = []scheduler.ZoneOccupancy{}
	}
	return zs
}

func (s *Server) closuresIn(cs []scheduler.Closure) []scheduler.Closure {
	for i := range cs {
		c := &cs[i]
		c.From = c.From.In(s.loc)
		if !c.Until.IsZero() {
			c.Until = c.Until.In(s.loc)
		}
		if !c.Lifted.IsZero() {
			c.Lifted = c.Lifted.In(s.loc)
		}
	}
	if cs == nil {
		cs = []scheduler.Closure{}
	}
	return cs
}

// occupancy: GET /v1/occupancy.
func (s *Server) occupancy(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	var out Occupancy
	var over []scheduler.Overage
	err := s.eng.Read(r.Context(), func(st *scheduler.State, now time.Time) {
		out = Occupancy{At: now.In(s.loc), Zones: st.Occupancy(now)}
		over = st.OverCapacity(now)
	})
	if err != nil {
		return engineError(err)
	}
	out.Zones = s.zonesIn(out.Zones)
	out.Overbooked = s.overbooked(out.Zones, over)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// forecast: GET /v1/forecast.
func (s *Server) forecast(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	var out ForecastAnswer
	err := s.eng.Read(r.Context(), func(st *scheduler.State, now time.Time) {
		out = ForecastAnswer{Forecast: st.Forecast(now), Dwell: st.Dwell(now)}
	})
	if err != nil {
		return engineError(err)
	}
	out.At = out.At.In(s.loc)
	for i := range out.Zones {
		out.Zones[i].PeakAt = out.Zones[i].PeakAt.In(s.loc)
	}
	out.Held = s.heldIn(out.Held)
	out.Dwell = s.dwellIn(out.Dwell)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// heldIn shows the groups held back in the site's time zone.
func (s *Server) heldIn(hs []scheduler.MeteredGroup) []scheduler.MeteredGroup {
	for i := range hs {
		h := &hs[i]
		h.Slot, h.ZoneAt, h.RetryAt, h.Since = h.Slot.In(s.loc), h.ZoneAt.In(s.loc), h.RetryAt.In(s.loc), h.Since.In(s.loc)
	}
	if hs == nil {
		hs = []scheduler.MeteredGroup{}
	}
	return hs
}

// dwellIn shows the dwell fits' times in the site's time zone.
func (s *Server) dwellIn(ds []scheduler.ZoneDwell) []scheduler.ZoneDwell {
	for i := range ds {
		if !ds[i].At.IsZero() {
			ds[i].At = ds[i].At.In(s.loc)
		}
	}
	return ds
}

// status: GET /v1/status.
func (s *Server) status(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	var out Status
	var all []scheduler.Closure
	var over []scheduler.Overage
	err := s.eng.Read(r.Context(), func(st *scheduler.State, now time.Time) {
		slot := time.Duration(s.cfg.SlotMinutes) * time.Minute
		out = Status{
			At: now.In(s.loc), Clock: s.eng.Clock().Name(), SiteClosed: st.SiteClosed(now),
			Zones: st.Occupancy(now), Waves: st.Waves(now, now.Add(-slot), now.Add(statusHorizon)),
		}
		out.Cuts = st.Cuts(now)
		out.Offline = st.OfflineStatus()
		out.Dwell = st.Dwell(now)
		out.HeldBack = st.HeldBack()
		over = st.OverCapacity(now)
		all = st.Closures(now)
		for _, c := range all {
			if c.Active(now) {
				out.Closures = append(out.Closures, c)
			}
		}
	})
	if err != nil {
		return engineError(err)
	}
	out.Zones = s.zonesIn(out.Zones)
	out.Overbooked = s.overbooked(out.Zones, over)
	out.Closures = s.closuresIn(out.Closures)
	out.HeldBack = s.heldIn(out.HeldBack)
	out.Dwell = s.dwellIn(out.Dwell)
	for i, c := range out.Cuts {
		out.Cuts[i] = s.cutIn(c)
	}
	if out.Cuts == nil {
		out.Cuts = []scheduler.CapacityCut{}
	}
	for i := range out.Waves {
		out.Waves[i].Slot = out.Waves[i].Slot.In(s.loc)
	}
	if out.Waves == nil {
		out.Waves = []scheduler.Wave{}
	}
	out.Evacuation.Zones = []EvacuationZone{}
	for _, z := range out.Zones {
		out.Evacuation.Live += z.Live
		out.Evacuation.Inside += z.Inside
		out.Evacuation.Zones = append(out.Evacuation.Zones, EvacuationZone{Zone: z.Zone, Live: z.Live, Inside: z.Inside, Closed: z.Closed})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listClosures: GET /v1/closures, those in force first.
func (s *Server) listClosures(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	var cs []scheduler.Closure
	if err := s.eng.Read(r.Context(), func(st *scheduler.State, now time.Time) { cs = st.Closures(now) }); err != nil {
		return engineError(err)
	}
	writeJSON(w, http.StatusOK, ClosureList{Closures: s.closuresIn(cs)})
	return nil
}

// createClosure: POST /v1/closures.
func (s *Server) createClosure(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	var in ClosureRequest
	present, e := decode(r, closureBody, &in)
	if e != nil {
		return e
	}
	switch {
	case in.All && present["zones"]:
		return badRequest("zones", "\"all\": true closes every zone; do not also send zones")
	case in.All:
	case !present["zones"]:
		return badRequest("zones", "zones is required: the zones to close (e.g. [\"siq\"]), or \"all\": true to close the whole site")
	case len(in.Zones) == 0:
		return badRequest("zones", "zones is %s: name the zones to close, or send \"all\": true to close the whole site "+
			"(an empty or null list never closes everything)", map[bool]string{true: "null", false: "empty"}[in.Zones == nil])
	}
	cmd := scheduler.Close{ID: newID("cl_"), Zones: in.Zones, Reason: strings.TrimSpace(in.Reason), Source: "ops"}
	if len(cmd.Reason) > 200 {
		return badRequest("reason", "reason has %d bytes; at most 200 are accepted", len(cmd.Reason))
	}
	if in.Until != "" {
		t, err := time.Parse(time.RFC3339, in.Until)
		if err != nil {
			return badRequest("until", "until %q is not an RFC 3339 time (e.g. \"2026-12-01T14:00:00+03:00\")", in.Until)
		}
		cmd.Until = t
	}
	res, err := s.eng.Do(r.Context(), cmd)
	if e := fromEngine(res, err); e != nil {
		return e
	}
	w.Header().Set("Location", "/v1/closures/"+res.Closure.ID)
	writeJSON(w, http.StatusCreated, s.closuresIn([]scheduler.Closure{*res.Closure})[0])
	return nil
}

// reopen: DELETE /v1/closures/{id}.
func (s *Server) reopen(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	res, err := s.eng.Do(r.Context(), scheduler.Reopen{ID: r.PathValue("id")})
	if e := fromEngine(res, err); e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, s.closuresIn([]scheduler.Closure{*res.Closure})[0])
	return nil
}

// zoneAnswer answers with one zone's occupancy after a change.
func (s *Server) zoneAnswer(w http.ResponseWriter, r *http.Request, zone string) *apiError {
	var z scheduler.ZoneOccupancy
	err := s.eng.Read(r.Context(), func(st *scheduler.State, now time.Time) {
		for _, o := range st.Occupancy(now) {
			if o.Zone == zone {
				z = o
			}
		}
	})
	if err != nil {
		return engineError(err)
	}
	writeJSON(w, http.StatusOK, s.zonesIn([]scheduler.ZoneOccupancy{z})[0])
	return nil
}

// hold: POST /v1/holds.
func (s *Server) hold(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	var in HoldRequest
	if _, e := decode(r, holdBody, &in); e != nil {
		return e
	}
	if in.On == nil {
		return badRequest("on", "on is required: true to hold the zone's waves, false to release a manual hold")
	}
	res, err := s.eng.Do(r.Context(), scheduler.SetHold{Zone: in.Zone, On: *in.On})
	if e := fromEngine(res, err); e != nil {
		return e
	}
	return s.zoneAnswer(w, r, in.Zone)
}

// resetZone: POST /v1/zones/{zone}/reset.
func (s *Server) resetZone(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	zone := r.PathValue("zone")
	res, err := s.eng.Do(r.Context(), scheduler.ResetZone{Zone: zone})
	if e := fromEngine(res, err); e != nil {
		return e
	}
	return s.zoneAnswer(w, r, zone)
}

// createKey: POST /v1/keys.
func (s *Server) createKey(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	var in KeyRequest
	present, e := decode(r, keyBody, &in)
	if e != nil {
		return e
	}
	if present["gates"] && len(in.Gates) == 0 {
		return badRequest("gates", "gates is null or empty: name the gates the key may scan at, or leave gates out for a key that scans at every gate")
	}
	for _, g := range in.Gates {
		if _, ok := s.cfg.Gate(g); !ok {
			return badRequest("gates", "unknown gate %q (known: %s)", g, s.gateList())
		}
	}
	secret, k, err := auth.CreateKey(s.st, in.Role, in.Operator, in.Gates, in.Name, s.eng.Now())
	if err != nil {
		var ke *auth.KeyError
		if errors.As(err, &ke) {
			return badRequest(ke.Field, "%s", ke.Message)
		}
		s.log.Error("store api key", "err", err)
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "the key could not be stored; retry later")
	}
	writeJSON(w, http.StatusCreated, KeyCreated{Key: secret, ID: k.ID(), Prefix: k.Prefix, Role: k.Role, Operator: k.Operator,
		Gates: k.Gates, Name: k.Name, CreatedAt: k.CreatedAt.In(s.loc)})
	return nil
}

func (s *Server) gateList() string {
	var ids []string
	for _, g := range s.cfg.Gates {
		ids = append(ids, g.ID)
	}
	return strings.Join(ids, ", ")
}

// scan: POST /v1/scans, the same decision as the NATS gate responder.
func (s *Server) scan(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	var in ScanBody
	if _, e := decode(r, scanBody, &in); e != nil {
		return e
	}
	if s.opts.Gate == nil {
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "gate scans are not served here: this server runs without a gate scanner")
	}
	if in.Gate == "" {
		return badRequest("gate", "gate is required: the gate the scan was made at (%s)", s.gateList())
	}
	if _, ok := s.cfg.Gate(in.Gate); !ok {
		return badRequest("gate", "unknown gate %q (known: %s)", in.Gate, s.gateList())
	}
	if p.Role == auth.RoleGate && len(p.Gates) > 0 && !slices.Contains(p.Gates, in.Gate) {
		return errf(http.StatusForbidden, CodeForbidden, "gate", "this key scans at %s only, not at %q", strings.Join(p.Gates, ", "), in.Gate)
	}
	res := s.opts.Gate.Decide(r.Context(), in.Gate, in.ScanRequest)
	if res.Decision == "" {
		// The scanner could not reach the scheduler: nobody was admitted.
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "",
			"the scan could not be decided now; scan again (the same scan_id never admits twice)")
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
