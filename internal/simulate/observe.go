package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/sensors"
)

// How the simulation watches the truth and the service side by side: every
// move of a party changes the truth, GET /v1/occupancy is read once a
// simulated minute, closures make the visitors leave the closed zones, and
// the flood warning is timed against the admissions at the gates.

// move applies a party's move to the truth; false when it did not happen
// (the party skipped a closed zone, or already left it). The move happens
// when the simulation plays it, on the service's clock: the counters count
// it then too. At a high --speed that can be later than planned; the
// report's event lag says how much.
func (s *simulator) move(e *simEvent) bool {
	p := e.party
	if p == nil {
		return true
	}
	at := simLater(e.at, s.now())
	if lag := at.Sub(e.at); lag > s.lag {
		s.lag = lag
	}
	st := &p.stops[e.stop]
	if e.in {
		if st.entered || st.skipped {
			return false
		}
		if s.closed[st.zone] {
			// A closed zone is not entered: the rangers turn the visitors
			// away (docs/PETRA.md: stop admissions, evacuate).
			st.skipped = true
			return false
		}
		st.entered = true
		s.truth.enter(at, st.zone, p.n)
		return true
	}
	if !st.entered || st.left {
		return false
	}
	st.left = true
	s.truth.leave(at, st.zone, p.n)
	return true
}

// evacuate makes every party in zone leave it, each within the zone's
// configured stay from at (its time to walk out), no later than it would
// have left anyway; parties on their way skip it. The standard response to
// a flood warning is to stop admissions and evacuate (docs/PETRA.md).
func (s *simulator) evacuate(zone string, at time.Time) {
	rng := rand.New(rand.NewPCG(s.f.Seed^0xe7ac, uint64(len(s.parties))))
	for _, p := range s.parties {
		for i := range p.stops {
			st := &p.stops[i]
			if st.zone != zone || !st.entered || st.left {
				continue
			}
			out := at.Add(time.Duration(rng.Int64N(int64(st.stay) + 1))).Round(time.Second)
			if out.Before(st.out) {
				st.out = out
				s.push(&simEvent{at: out, kind: evMove, group: p.gr, zone: st.zone, count: p.n, party: p, stop: i})
			}
		}
	}
}

// pollEvery is how often, in simulated time, GET /v1/occupancy is read.
const pollEvery = time.Minute

// poll reads GET /v1/occupancy when a simulated minute has passed since
// the last read: every zone's numeric figures, and which are closed.
//
// With record false it only takes the closures (the loop does that before
// it plays the moves due, so that a party does not walk into a zone the
// service has closed) and the reading is left for the call with record
// true, after the moves.
func (s *simulator) poll(ctx context.Context, now time.Time, record bool) error {
	if now.Before(s.nextPoll) {
		return nil
	}
	if record {
		s.nextPoll = now.Truncate(pollEvery).Add(pollEvery)
	}
	var occ struct {
		At    time.Time        `json:"at"`
		Zones []map[string]any `json:"zones"`
	}
	if err := s.doRetry(ctx, s.ops, "GET", "/v1/occupancy", nil, &occ); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("read the service's occupancy: %w", err)
	}
	rd := reading{at: occ.At.In(s.cfg.Location()), figures: map[string]map[string]int{}}
	if rd.at.IsZero() {
		rd.at = now
	}
	for _, z := range occ.Zones {
		id, _ := z["zone"].(string)
		if id == "" {
			continue
		}
		fig := map[string]int{}
		for k, v := range z {
			if f, ok := v.(float64); ok && !notOccupancy[k] {
				fig[k] = int(f)
			}
		}
		rd.figures[id] = fig
		closed, _ := z["closed"].(bool)
		switch {
		case closed && !s.closed[id]:
			s.closed[id] = true
			if s.alertRep != nil {
				s.alertZones[id] = true
			}
			s.evacuate(id, rd.at)
		case !closed && s.closed[id]:
			delete(s.closed, id)
		}
	}
	if record && !rd.at.Before(s.start) && !rd.at.After(s.end) {
		s.readings = append(s.readings, rd)
		s.traceForecastNow(ctx, rd.at)
	}
	return nil
}

// scanned notes what a scan's answer means for the report: holds and
// their waits, admissions after the flood warning.
func (s *simulator) scanned(gr *simGroup, res scheduler.ScanResult, now time.Time) {
	switch {
	case res.Reason == scheduler.ReasonHeld:
		gr.heldScans++
		if gr.heldAt.IsZero() {
			gr.heldAt = now
		}
	case res.Admitted > 0 && gr.firstAdmit.IsZero():
		gr.firstAdmit = now
	}
	if s.alertRep == nil {
		return
	}
	switch {
	case res.Admitted > 0:
		s.postAlert = append(s.postAlert, admission{route: gr.route, at: now, wall: time.Now()})
	case res.Reason == scheduler.ReasonClosed:
		s.alertRep.ClosedRejections++
	}
}

// admission is an admission after the flood warning was sent.
type admission struct {
	route string
	at    time.Time // simulated
	wall  time.Time
}

// sendAlert sends the flood warning from its own goroutine, retrying until
// answered; the gates go on scanning meanwhile, as they would.
func (s *simulator) sendAlert(ctx context.Context) {
	body, _ := json.Marshal(map[string]any{"kind": "flood_warning", "zones": []string{"siq"}, "severity": "high",
		"at": s.now().Format(time.RFC3339), "id": "sim-" + s.runID + "-flood"})
	subject := subjects.For(s.cfg.Site).Alert()
	s.clearLine()
	fmt.Fprintf(s.errw, "%s flood warning on %s\n", s.now().Format("15:04"), subject)
	s.alertRep = &AlertReport{At: s.now()}
	s.alertZones = map[string]bool{}
	s.alertSent = time.Now()
	s.alertDone = make(chan alertAnswer, 1)
	nc := s.devs.alerts
	go func() {
		result := "no reply"
		for attempt := 0; attempt < 3; attempt++ {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			msg, err := nc.RequestWithContext(rctx, subject, body)
			cancel()
			if err != nil {
				continue
			}
			var rep sensors.AlertReply
			if json.Unmarshal(msg.Data, &rep) != nil || rep.Result == "" {
				result = "unreadable reply"
			} else {
				result = rep.Result
			}
			break
		}
		s.alertDone <- alertAnswer{result: result, took: time.Since(s.alertSent)}
	}()
}

// alertAnswered takes the flood warning's answer when it came (with wait,
// waits for it up to 20 seconds).
func (s *simulator) alertAnswered(ctx context.Context, wait bool) {
	if s.alertDone == nil {
		return
	}
	var a alertAnswer
	select {
	case a = <-s.alertDone:
	default:
		if !wait {
			return
		}
		select {
		case a = <-s.alertDone:
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Second):
			return
		}
	}
	s.alertDone = nil
	s.st.Alerts["flood_warning: "+a.result]++
	s.alertRep.Result = a.result
	s.alertRep.RepliedAfterMs = float64(a.took.Microseconds()) / 1000
}

// finishAlert compares the admissions after the flood warning with the
// zones it closed.
func (s *simulator) finishAlert() {
	a := s.alertRep
	if a == nil {
		return
	}
	a.ClosedZones = slices.Sorted(maps.Keys(s.alertZones))
	a.AdmissionsIntoClosed, a.LastAdmissionSeconds, a.LastAdmissionMs = 0, nil, nil
	a.EveryGateRejectsWithin1s = true
	for _, ad := range s.postAlert {
		r, ok := s.cfg.Route(ad.route)
		if !ok {
			continue
		}
		crosses := false
		for _, st := range r.Stops {
			crosses = crosses || s.alertZones[st.Zone]
		}
		if !crosses {
			continue
		}
		a.AdmissionsIntoClosed++
		sec := ad.at.Sub(a.At).Seconds()
		ms := float64(ad.wall.Sub(s.alertSent).Microseconds()) / 1000
		a.LastAdmissionSeconds, a.LastAdmissionMs = &sec, &ms
		if ms > 1000 {
			a.EveryGateRejectsWithin1s = false
		}
	}
	if a.Result != "closed" {
		a.EveryGateRejectsWithin1s = false
	}
}
