package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/internal/simulate"
	"github.com/tafweej/tafweej/internal/testenv"
)

// TestSimulateQuick plays a quick day against the real service, on a
// simulated clock, and checks that it booked, admitted and counted.
func TestSimulateQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real service; skipped with -short")
	}
	const speed = "600"
	srv := startServer(t, t.TempDir(), "--clock-start", "2026-12-01T07:45:00+03:00", "--clock-speed", speed)

	var out, errOut bytes.Buffer
	root := newRoot()
	root.SetArgs([]string{"simulate", "--server", srv.httpURL, "--key", srv.opsKey, "--nats", srv.natsURL,
		"--config", testenv.PetraPath(), "--quick", "--seed", "1", "--speed", speed})
	root.SetOut(&out)
	root.SetErr(&errOut)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("simulate: %v\nstderr:\n%s\nstdout:\n%s\nserver log:\n%s", err, errOut.String(), out.String(), srv.log.String())
	}
	t.Logf("simulate --quick took %v\n%s", time.Since(start).Round(time.Millisecond), out.String())

	summary := out.String()
	figure := func(label string) int {
		t.Helper()
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(label) + `\s+(\d+)\s*$`).FindStringSubmatch(summary)
		if m == nil {
			t.Fatalf("the summary has no line %q:\n%s", label, summary)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	if n := figure("created"); n < 10 {
		t.Errorf("created bookings = %d, want at least 10", n)
	}
	if n := figure("admitted visitors"); n < 100 {
		t.Errorf("admitted visitors = %d, want at least 100", n)
	}
	if n := figure("counter messages published"); n < 50 {
		t.Errorf("counter messages published = %d, want at least 50", n)
	}
	if n := figure("counter publish errors"); n != 0 {
		t.Errorf("counter publish errors = %d, want 0", n)
	}
	if n := figure("counter reboots"); n != 1 {
		t.Errorf("counter reboots = %d, want 1", n)
	}
	if n := figure("retries answered differently"); n != 0 {
		t.Errorf("%d retried scans (same scan_id) were answered differently", n)
	}
	if n := figure("admit / ok"); n < 10 {
		t.Errorf("admit / ok scans = %d, want at least 10", n)
	}
	if !strings.Contains(summary, "flood_warning: closed") {
		t.Errorf("the flood warning did not close zones:\n%s", summary)
	}

	// The service saw the visitors: the counters' messages are applied
	// asynchronously (JetStream), so wait for live occupancy.
	checkFor(t, 20*time.Second, func() error {
		var st api.Status
		mustHTTP(t, "GET", srv.httpURL+"/v1/status", srv.opsKey, nil, &st, 200)
		live := 0
		for _, z := range st.Zones {
			live += z.Live
		}
		if live == 0 || st.Evacuation.Inside == 0 {
			return fmt.Errorf("live occupancy %d, admitted inside %d: want both above 0", live, st.Evacuation.Inside)
		}
		return nil
	})
}

// TestSimulateJSONReportsTruthAndEstimate plays a quick day with the world
// deviating from the model (--dwell-factor 1.3, --late-share 0.3) and checks
// the report: every zone with its truth (people conserved) and the
// service's estimate read on the simulated clock, the visitors admitted,
// the flood warning closing the Siq with every gate rejecting within 1 s.
func TestSimulateJSONReportsTruthAndEstimate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real service; skipped with -short")
	}
	// ×400: a simulated minute is 150 ms. How many occupancy readings a
	// run gets depends on how well the machine keeps up (a CI run at
	// ×1000 under load read it 4 times in two simulated hours, one here at
	// ×400 with a load average of 19, 28 times): the report must hold
	// together whatever their number.
	const speed = "400"
	srv := startServer(t, t.TempDir(), "--clock-start", "2026-12-01T07:45:00+03:00", "--clock-speed", speed)
	var out, errOut bytes.Buffer
	root := newRoot()
	root.SetArgs([]string{"simulate", "--server", srv.httpURL, "--key", srv.opsKey, "--nats", srv.natsURL,
		"--config", testenv.PetraPath(), "--quick", "--seed", "3", "--speed", speed,
		"--dwell-factor", "1.3", "--late-share", "0.3", "--json"})
	root.SetOut(&out)
	root.SetErr(&errOut)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("simulate: %v\nstderr:\n%s", err, errOut.String())
	}
	var r simulate.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("decode the report: %v\n%s", err, out.String())
	}
	if r.DwellFactor != 1.3 || r.LateShare != 0.3 {
		t.Errorf("dwell factor %v, late share %v: want 1.3 and 0.3", r.DwellFactor, r.LateShare)
	}
	if r.Admitted < 100 || r.Admitted != r.Stats.Admitted {
		t.Errorf("admitted = %d (admitted_visitors %d), want the same, at least 100", r.Admitted, r.Stats.Admitted)
	}
	if len(r.Zones) != 9 || r.Polls < 10 {
		t.Fatalf("%d zones, %d occupancy readings: want 9 zones read at least 10 times in 2 simulated hours (once a minute when the machine keeps up)", len(r.Zones), r.Polls)
	}
	for _, z := range r.Zones {
		if z.Truth.Entered != z.Truth.Inside+z.Truth.Left || z.Truth.Inside < 0 {
			t.Errorf("%s: entered %d, inside %d, left %d", z.Zone, z.Truth.Entered, z.Truth.Inside, z.Truth.Left)
		}
		if z.Estimate.Readings != r.Polls {
			t.Errorf("%s: %d estimate readings, want %d", z.Zone, z.Estimate.Readings, r.Polls)
		}
	}
	siq := r.Zones[1]
	if siq.Zone != "siq" || siq.Truth.Peak == 0 || siq.Estimate.Peak == 0 || siq.Figures["inside"].Readings == 0 {
		t.Errorf("siq = %+v: want people in it, seen by the truth, the counters (live) and the model (inside)", siq)
	}
	a := r.Alert
	if a == nil || a.Result != "closed" || !slices.Contains(a.ClosedZones, "siq") || !a.EveryGateRejectsWithin1s {
		t.Errorf("alert = %+v: want the Siq closed and every gate rejecting within 1 s", a)
	}
}

// TestSimulateWorldFlagsAreUsageErrors: the world's flags out of range are
// usage errors naming the flag, before anything is sent.
func TestSimulateWorldFlagsAreUsageErrors(t *testing.T) {
	cases := map[string][]string{
		"--dwell-factor 0":    {"--dwell-factor", "0"},
		"--dwell-factor -1":   {"--dwell-factor", "-1"},
		"--late-share 0.9":    {"--late-share", "0.9"},
		"--counter-noise 0.6": {"--counter-noise", "0.6"},
		"--lost-burst -1":     {"--lost-burst", "-1"},
	}
	for says, args := range cases {
		t.Run(says, func(t *testing.T) {
			root := newRoot()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(append([]string{"simulate", "--server", "http://127.0.0.1:1", "--key", "k", "--config", testenv.PetraPath()}, args...))
			err := root.Execute()
			var ue *usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), says) {
				t.Errorf("simulate %v: %v, want a usage error saying %q", args, err, says)
			}
		})
	}
}
