package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/internal/testenv/stack"
	"github.com/tafweej/tafweej/scheduler"
)

// overDate is the date the over-capacity tests book, the day after the
// service's clock starts.
const overDate = "2026-12-02"

// lowerConfig writes cfg with every zone's capacity scaled by zone and
// every gate's wave capacity by gate (thresholds following) to a file,
// built from the parsed configuration and checked by loading it back, and
// returns its path and the configuration as the service will read it.
func lowerConfig(t *testing.T, cfg *scheduler.Config, zone, gate float64) (string, *scheduler.Config) {
	t.Helper()
	c := *cfg
	c.Zones, c.Gates = slices.Clone(cfg.Zones), slices.Clone(cfg.Gates)
	for i := range c.Zones {
		z := &c.Zones[i]
		z.Capacity = max(2, int(math.Round(float64(z.Capacity)*zone)))
		z.HoldAt = min(z.Capacity, max(2, int(math.Round(float64(z.HoldAt)*zone))))
		z.ReleaseAt = min(z.HoldAt-1, max(1, int(math.Round(float64(z.ReleaseAt)*zone))))
	}
	for i := range c.Gates {
		c.Gates[i].WaveCapacity = max(1, int(math.Round(float64(c.Gates[i].WaveCapacity)*gate)))
	}
	data, err := yaml.Marshal(&c)
	if err != nil {
		t.Fatalf("marshal the lowered configuration: %v", err)
	}
	path := filepath.Join(t.TempDir(), "lowered.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	low, err := loadConfig(path)
	if err != nil {
		t.Fatalf("the lowered configuration does not load: %v", err)
	}
	return path, low
}

// overbookedService starts the service on the Petra configuration, books
// the morning of overDate full (walk-ins at the main gate, and an
// operator's groups), and restarts it with zone capacities cut to 40% and
// wave capacities to half. It returns the restarted service, the lowered
// configuration and the bookings as they were before the restart.
func overbookedService(t *testing.T) (*testServer, *scheduler.Config, []api.Booking) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the real service twice; skipped with -short")
	}
	cfg := stack.Petra(t)
	data := t.TempDir()
	flags := []string{"--clock-start", "2026-12-01T10:00:00+03:00", "--clock-speed", "1"}
	srv := startServer(t, data, flags...)
	var op api.KeyCreated
	mustHTTP(t, "POST", srv.httpURL+"/v1/keys", srv.opsKey, api.KeyRequest{Role: "operator", Operator: "jett-tours"}, &op, http.StatusCreated)
	book := func(key string, n, size, from, to int) {
		for range n {
			mustHTTP(t, "POST", srv.httpURL+"/v1/bookings", key, api.BookingRequest{Date: overDate, Route: "main", PartySize: size,
				Window: api.Window{From: hhmm(from), To: hhmm(to)}}, nil, http.StatusCreated)
		}
	}
	book(srv.opsKey, 30, 50, 8*60, 10*60) // walk-ins: waves of 300 from 08:00, the Siq full
	book(op.Key, 12, 40, 10*60, 12*60)
	var before api.BookingList
	mustHTTP(t, "GET", srv.httpURL+"/v1/bookings?date="+overDate, srv.opsKey, nil, &before, http.StatusOK)
	if len(before.Bookings) != 42 {
		t.Fatalf("%d bookings listed, want 42", len(before.Bookings))
	}
	srv.stop()

	path, low := lowerConfig(t, cfg, 0.4, 0.5)
	return startServer(t, data, append(flags, "--config", path)...), low, before.Bookings
}

// metricValue reads one unlabelled sample from /metrics.
func metricValue(t *testing.T, srv *testServer, name string) float64 {
	t.Helper()
	resp, err := http.Get(srv.httpURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %q", name, v)
			}
			return f
		}
	}
	io.Copy(io.Discard, resp.Body)
	t.Fatalf("metric %s not exported", name)
	return 0
}

// overLoads recomputes from the bookings alone, minute by minute, the zones
// and waves of overDate over capacity in cfg.
func overLoads(t *testing.T, cfg *scheduler.Config, bs []api.Booking) (zones map[string]int, waves int) {
	t.Helper()
	zone := map[string]map[int]int{}
	wave := map[string]int{}
	for _, b := range bs {
		if b.Status == scheduler.StatusCancelled {
			continue
		}
		slot := b.Slot.In(cfg.Location())
		m := slot.Hour()*60 + slot.Minute()
		wave[b.Gate+" "+slot.Format("15:04")] += b.PartySize
		r, ok := cfg.Route(b.Route)
		if !ok {
			t.Fatalf("booking %s: route %q", b.ID, b.Route)
		}
		for _, st := range r.Stops {
			if zone[st.Zone] == nil {
				zone[st.Zone] = map[int]int{}
			}
			for i := m + st.Arrive; i < m+st.Arrive+st.Stay; i++ {
				zone[st.Zone][i] += b.PartySize
			}
		}
	}
	zones = map[string]int{}
	for id, load := range zone {
		z, _ := cfg.Zone(id)
		for _, v := range load {
			if v > z.Capacity {
				zones[id]++
			}
		}
	}
	for k, v := range wave {
		g, _ := cfg.Gate(strings.Fields(k)[0])
		if v > g.WaveCapacity {
			waves++
		}
	}
	return zones, waves
}

// TestLoweredCapacityIsReported: restarted with lower capacities than its
// bookings fill, the service says which date is over capacity and how to
// fix it, in its log, in 'tafweej status', in GET /v1/occupancy and in its
// metrics — and the figures agree with what the bookings alone say.
func TestLoweredCapacityIsReported(t *testing.T) {
	srv, low, before := overbookedService(t)
	wantZones, wantWaves := overLoads(t, low, before)
	if len(wantZones) == 0 || wantWaves == 0 {
		t.Fatalf("the scenario puts nothing over capacity: zones %v, waves %d", wantZones, wantWaves)
	}

	// The log: one warning for the date, with its counts and the fix.
	logText := srv.log.String()
	var line string
	for _, l := range strings.Split(logText, "\n") {
		if strings.Contains(l, "bookings over the capacity now configured") && strings.Contains(l, "date="+overDate) {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no warning in the log for %s over capacity:\n%s", overDate, logText)
	}
	for _, want := range []string{"level=WARN", fmt.Sprintf("waves=%d", wantWaves), fmt.Sprintf("zone_days=%d", len(wantZones)),
		`fix="tafweej replan --date ` + overDate + `"`} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %s: %s", want, line)
		}
	}

	// GET /v1/occupancy: the date, and each zone over capacity its own.
	var occ api.Occupancy
	mustHTTP(t, "GET", srv.httpURL+"/v1/occupancy", srv.opsKey, nil, &occ, http.StatusOK)
	if len(occ.Overbooked) != 1 || occ.Overbooked[0].Date != overDate || occ.Overbooked[0].Waves != wantWaves ||
		occ.Overbooked[0].ZoneDays != len(wantZones) || occ.Overbooked[0].Fix != "tafweej replan --date "+overDate {
		t.Errorf("occupancy overbooked: %+v, want %s with %d waves and %d zones", occ.Overbooked, overDate, wantWaves, len(wantZones))
	}
	for _, z := range occ.Zones {
		_, want := wantZones[z.Zone]
		if got := len(z.Overbooked) == 1 && z.Overbooked[0].Date == overDate && z.Overbooked[0].Planned > z.Overbooked[0].Capacity; got != want {
			t.Errorf("zone %s: overbooked %+v, over capacity by the bookings: %v", z.Zone, z.Overbooked, want)
		}
	}

	// The metrics.
	if got := metricValue(t, srv, "tafweej_overbooked_waves"); got != float64(wantWaves) {
		t.Errorf("tafweej_overbooked_waves %v, want %d", got, wantWaves)
	}
	if got := metricValue(t, srv, "tafweej_overbooked_zone_dates"); got != float64(len(wantZones)) {
		t.Errorf("tafweej_overbooked_zone_dates %v, want %d", got, len(wantZones))
	}

	// tafweej status: a section naming the date, the zones and the fix.
	out, err := cli(t, "status", "--server", srv.httpURL, "--key", srv.opsKey)
	if err != nil {
		t.Fatalf("tafweej status: %v\n%s", err, out)
	}
	t.Logf("%s\ntafweej status:\n%s", line, out)
	for _, want := range []string{fmt.Sprintf("OVER CAPACITY: %d waves and %d zone-days on 1 date hold", wantWaves, len(wantZones)),
		"tafweej replan --date " + overDate, "zone siq", "gate visitor-centre"} {
		if !strings.Contains(out, want) {
			t.Errorf("tafweej status lacks %q:\n%s", want, out)
		}
	}
}

// TestReplanClearsOverCapacity: 'tafweej replan --date D' on a date over
// the capacity now configured leaves no zone or wave over it (as the
// service reports and as the bookings alone say); every booking is where
// it was, or moved or cancelled with the over-capacity reason; and the
// command's counts are those of the bookings.
func TestReplanClearsOverCapacity(t *testing.T) {
	srv, low, before := overbookedService(t)
	if _, err := cli(t, "replan", "--server", srv.httpURL, "--key", srv.opsKey); err == nil {
		t.Error("tafweej replan without --date succeeded")
	}
	out, err := cli(t, "replan", "--date", overDate, "--server", srv.httpURL, "--key", srv.opsKey, "--json")
	if err != nil {
		t.Fatalf("tafweej replan: %v\n%s", err, out)
	}
	var p scheduler.Replanned
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("tafweej replan --json: %v\n%s", err, out)
	}

	var after api.BookingList
	mustHTTP(t, "GET", srv.httpURL+"/v1/bookings?date="+overDate, srv.opsKey, nil, &after, http.StatusOK)
	if zones, waves := overLoads(t, low, after.Bookings); len(zones) > 0 || waves > 0 {
		t.Errorf("after replan the bookings put zones %v and %d waves over capacity", zones, waves)
	}
	was := map[string]api.Booking{}
	for _, b := range before {
		was[b.ID] = b
	}
	moved, cancelled, left := 0, 0, 0
	for _, b := range after.Bookings {
		w := was[b.ID]
		switch {
		case b.Status == w.Status && b.Slot.Equal(w.Slot) && b.Gate == w.Gate:
		case b.Reason != scheduler.ReasonOverCapacity:
			t.Errorf("booking %s changed without the reason: %+v, was %+v", b.ID, b, w)
		case b.Status == scheduler.StatusCancelled:
			cancelled++
		case b.Status == scheduler.StatusRescheduled:
			moved++
			slot := b.Slot.In(low.Location()).Format("15:04")
			if slot < b.Window.From || slot >= b.Window.To {
				left++
			}
		default:
			t.Errorf("booking %s: status %s", b.ID, b.Status)
		}
	}
	if len(after.Bookings) != len(before) || p.Date != overDate || p.Moved != moved || p.Cancelled != cancelled || p.LeftWindow != left ||
		p.Moved+p.Cancelled+p.Unchanged != p.Bookings || p.Bookings == 0 || p.WavesLeft != 0 || p.ZoneDaysLeft != 0 {
		t.Errorf("replan answered %+v; the bookings say %d moved (%d outside their window), %d cancelled", p, moved, left, cancelled)
	}
	t.Logf("replan: %+v", p)

	var occ api.Occupancy
	mustHTTP(t, "GET", srv.httpURL+"/v1/occupancy", srv.opsKey, nil, &occ, http.StatusOK)
	if len(occ.Overbooked) != 0 {
		t.Errorf("occupancy still reports %+v", occ.Overbooked)
	}
	for _, z := range occ.Zones {
		if len(z.Overbooked) != 0 {
			t.Errorf("zone %s still reports %+v", z.Zone, z.Overbooked)
		}
	}
	if w, z := metricValue(t, srv, "tafweej_overbooked_waves"), metricValue(t, srv, "tafweej_overbooked_zone_dates"); w != 0 || z != 0 {
		t.Errorf("metrics after replan: %v waves, %v zone-days over", w, z)
	}
	out, err = cli(t, "status", "--server", srv.httpURL, "--key", srv.opsKey)
	if err != nil || strings.Contains(out, "OVER CAPACITY") {
		t.Errorf("tafweej status after replan (%v):\n%s", err, out)
	}

	// A second replan has nothing left to do; a past date is refused.
	out, err = cli(t, "replan", "--date", overDate, "--server", srv.httpURL, "--key", srv.opsKey)
	if err != nil || !strings.Contains(out, "nothing over capacity") {
		t.Errorf("second replan (%v): %s", err, out)
	}
	code, err := httpCall(t.Context(), http.DefaultClient, "POST", srv.httpURL+"/v1/replan", srv.opsKey, api.ReplanRequest{Date: "2026-11-30"}, nil)
	if err != nil || code != http.StatusBadRequest {
		t.Errorf("replan of a past date: HTTP %d (%v), want 400", code, err)
	}
}
