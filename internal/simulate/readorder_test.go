package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"
)

// truthService is a stand-in for the service whose estimate is exact: its
// clock moves 45 s a call of /healthz, and GET /v1/occupancy answers each
// zone's live figure as what the simulation's truth holds at that moment.
type truthService struct {
	s   *simulator
	now time.Time
	// closedFrom: from then on the Treasury is closed (zero: never).
	closedFrom time.Time
}

func (f *truthService) WithKey(string) API { return f }

func (f *truthService) Do(_ context.Context, method, path string, _, out any, _ ...string) error {
	var v any
	switch path {
	case "/healthz":
		f.now = f.now.Add(45 * time.Second)
		v = map[string]any{"status": "ok", "time": f.now}
	case "/v1/occupancy":
		var zones []map[string]any
		for _, z := range f.s.cfg.Zones {
			closed := z.ID == "treasury" && !f.closedFrom.IsZero() && !f.now.Before(f.closedFrom)
			zones = append(zones, map[string]any{"zone": z.ID, "live": f.s.truth.inside[z.ID], "closed": closed})
		}
		v = map[string]any{"at": f.now, "zones": zones}
	default:
		return fmt.Errorf("%s %s: not in the stand-in", method, path)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// TestAnExactEstimateIsReportedExact: the report measures the service's
// estimate against the truth at each reading, so a service that knows the
// truth exactly must come out with no error. The simulation reads the
// occupancy only once the moves that came due have been played (and the
// counters told): read before them, every party that moved in the turn
// counted against an estimate that could not have seen it yet.
func TestAnExactEstimateIsReportedExact(t *testing.T) {
	s := testSimulator(t, Options{})
	s.out, s.errw = io.Discard, io.Discard
	s.end = s.start.Add(40 * time.Minute)
	svc := &truthService{s: s, now: s.start}
	s.ops = svc
	s.nowNanos.Store(s.start.UnixNano())
	// Parties of 30 walk into the Treasury every 70 s and leave 10
	// minutes later: most turns of the loop have a move due.
	for i := range 30 {
		in := s.start.Add(time.Duration(i*70+20) * time.Second)
		p := &party{n: 30, stops: []partyStop{{zone: "treasury", in: in, out: in.Add(10 * time.Minute)}}}
		s.parties = append(s.parties, p)
		s.push(&simEvent{at: in, kind: evMove, zone: "treasury", in: true, count: p.n, party: p})
		s.push(&simEvent{at: in.Add(10 * time.Minute), kind: evMove, zone: "treasury", count: p.n, party: p})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.play(ctx); err != nil {
		t.Fatal(err)
	}
	r := s.buildReport()
	for _, z := range r.Zones {
		if z.Zone != "treasury" {
			continue
		}
		if z.Truth.Peak < 200 || z.Estimate.Readings < 30 {
			t.Fatalf("treasury: true peak %d, %d readings: want a busy plaza read every simulated minute", z.Truth.Peak, z.Estimate.Readings)
		}
		if z.Estimate.MaxError != 0 || z.Estimate.ReadingsOff != 0 {
			t.Errorf("an exact estimate is reported off the truth: max error %d at %s, %d of %d readings off",
				z.Estimate.MaxError, z.Estimate.MaxErrorAt.Format("15:04:05"), z.Estimate.ReadingsOff, z.Estimate.Readings)
		}
	}
}

// TestAPartyIsTurnedAwayFromAZoneClosedBeforeItArrives: the service
// closes the Treasury at 06:05; a party due there at 06:05:10 is played in
// the loop's turn at 06:05:15, which takes the closures before the moves:
// the rangers turn it away, and it never counts in the truth. (Reading
// the closures only with the occupancy, after the moves, let it walk in
// and then evacuated it.)
func TestAPartyIsTurnedAwayFromAZoneClosedBeforeItArrives(t *testing.T) {
	s := testSimulator(t, Options{})
	s.out, s.errw = io.Discard, io.Discard
	s.end = s.start.Add(10 * time.Minute)
	svc := &truthService{s: s, now: s.start, closedFrom: s.start.Add(5 * time.Minute)}
	s.ops = svc
	s.nowNanos.Store(s.start.UnixNano())
	in := s.start.Add(5*time.Minute + 10*time.Second)
	p := &party{n: 30, stops: []partyStop{{zone: "treasury", in: in, out: in.Add(30 * time.Minute), stay: 30 * time.Minute}}}
	s.parties = append(s.parties, p)
	s.push(&simEvent{at: in, kind: evMove, zone: "treasury", in: true, count: p.n, party: p})
	s.push(&simEvent{at: p.stops[0].out, kind: evMove, zone: "treasury", count: p.n, party: p})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.play(ctx); err != nil {
		t.Fatal(err)
	}
	if !s.closed["treasury"] {
		t.Fatal("the simulation never saw the Treasury closed")
	}
	if st := p.stops[0]; !st.skipped || st.entered || s.truth.entered["treasury"] != 0 {
		t.Errorf("a party due at a closed Treasury: skipped %v, entered %v, %d people entered in the truth; want it turned away",
			st.skipped, st.entered, s.truth.entered["treasury"])
	}
}
