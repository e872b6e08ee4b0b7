package dashboards

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// metricDef finds a metric name where it is defined: the Name of a
// prometheus.*Opts or the first argument of prometheus.NewDesc.
var metricDef = regexp.MustCompile(`(?:Name:\s*|NewDesc\(\s*)"(tafweej_[a-z0-9_]+)"`)

// definedMetrics reads the names of every metric the service defines from
// the repository's Go source (tests and this package excluded).
func definedMetrics(t *testing.T) []string {
	t.Helper()
	names := sourceMatches(t, metricDef)
	slices.Sort(names)
	return slices.Compact(names)
}

// scrapedFamilies are the metric families of an exposition in the text
// format (its # TYPE lines).
func scrapedFamilies(body []byte) map[string]bool {
	fams := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			fams[f[2]] = true
		}
	}
	return fams
}

// TestPromtoolCheckMetricsOnLiveScrape runs the service, makes every
// metric family it defines appear (bookings, scans, counter readings,
// invalid and dead-lettered messages, a closure, a hold, a capacity cut, a
// request of a planned day), scrapes GET /metrics and lints the scrape with
// `promtool check metrics`: names (no type word such as "counter" in a
// name, _total on counters, units), help texts and types as a Prometheus
// server's owner would check them. It fails when a family the source
// defines is missing from the scrape, so the lint covers them all.
func TestPromtoolCheckMetricsOnLiveScrape(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the service: skipped under -short")
	}
	promtool := lookTool(t, "promtool")
	defined := definedMetrics(t)
	if len(defined) < 20 {
		t.Fatalf("found only %d metric definitions in the source (%v): has the way metrics are defined changed? adapt metricDef", len(defined), defined)
	}
	dir := t.TempDir()
	svc := startService(t, buildTafweej(t, dir), dir, freeAddr(t))
	driveLoad(t, svc)
	driveRequestsAndCuts(t, svc)

	var body []byte
	var missing []string
	waitFor(t, 20*time.Second, "every defined metric family in the scrape", func() error {
		body = svc.scrape(t)
		fams := scrapedFamilies(body)
		missing = missing[:0]
		for _, n := range defined {
			if !fams[n] {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return &missingErr{missing}
		}
		return nil
	})
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics on a live scrape of /metrics: %v\n%s", err, out)
	}
	t.Logf("promtool check metrics: %d metric families of the service (%d lines scraped) pass", len(defined), bytes.Count(body, []byte("\n")))
}

type missingErr struct{ names []string }

func (e *missingErr) Error() string {
	return "not in the scrape: " + strings.Join(e.names, ", ")
}

// scrape fetches the service's /metrics in the text format.
func (s *service) scrape(t *testing.T) []byte {
	t.Helper()
	resp, err := s.http.Get("http://" + s.httpAddr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s %v", resp.Status, err)
	}
	return body
}

// driveRequestsAndCuts adds what driveLoad does not do: a request for the
// next planned day (tafweej_requests_*) and a capacity cut.
func driveRequestsAndCuts(t *testing.T, s *service) {
	t.Helper()
	raw, err := os.ReadFile("../configs/petra.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := scheduler.ParseConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	now := s.now(t)
	day, _, ok := cfg.NextPlannedDay(now)
	if !ok {
		t.Fatalf("configs/petra.yaml has no planned day within a year of %s", now)
	}
	if code := s.call(t, http.MethodPost, "/v1/requests?operator=op-a", map[string]any{
		"date": day.Format("2006-01-02"), "route": "main", "party_size": 12,
		"window": map[string]string{"from": "08:00", "to": "11:00"}, "language": "en",
	}, nil, "Idempotency-Key", "scrape-request-1"); code != http.StatusCreated {
		t.Errorf("request for planned day %s: HTTP %d, want 201", day.Format("2006-01-02"), code)
	}
	if code := s.call(t, http.MethodPost, "/v1/cuts", map[string]any{
		"zone": "treasury", "capacity": 500, "until": now.Add(6 * time.Hour).Format(time.RFC3339), "reason": "scrape test",
	}, nil); code != http.StatusCreated {
		t.Errorf("capacity cut: HTTP %d, want 201", code)
	}
}
