package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/api"
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
