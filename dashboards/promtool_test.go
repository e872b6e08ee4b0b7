package dashboards

import (
	"os"
	"os/exec"
	"testing"
)

// requireEnv makes a missing Prometheus or promtool a failure instead of a
// skip (set by make e2e-prometheus, so CI cannot pass by skipping).
const requireEnv = "TAFWEEJ_REQUIRE_PROMETHEUS"

// lookTool finds a Prometheus tool on PATH, or skips the test (fails with
// TAFWEEJ_REQUIRE_PROMETHEUS=1).
func lookTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		msg := name + " is not on PATH (Debian: apt-get install prometheus)"
		if os.Getenv(requireEnv) == "1" {
			t.Fatalf("%s, and %s=1 requires it", msg, requireEnv)
		}
		t.Skip(msg + "; skipping")
	}
	return path
}

// TestPromtool runs promtool on the shipped Prometheus configuration and
// alert rules, and runs the rules' unit tests.
func TestPromtool(t *testing.T) {
	promtool := lookTool(t, "promtool")
	for _, args := range [][]string{
		{"check", "config", "../configs/prometheus.yml"},
		{"check", "rules", "../configs/alerts.yml"},
		{"test", "rules", "../configs/alerts_test.yml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		} else {
			t.Logf("promtool %v:\n%s", args, out)
		}
	}
}
