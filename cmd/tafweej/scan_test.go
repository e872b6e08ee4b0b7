package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestScanAsADeviceOfAnotherGateFailsAtOnce: a gate device registered for
// one gate that scans at another is refused by the NATS server's
// permissions, so no answer can come. 'tafweej scan' says so within
// seconds, naming the permission, instead of waiting for an answer that
// never comes.
func TestScanAsADeviceOfAnotherGateFailsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real service; skipped with -short")
	}
	srv := startServer(t, t.TempDir())
	base := []string{"--server", srv.httpURL, "--key", srv.opsKey}
	seedFile := filepath.Join(t.TempDir(), "vc1.nk")
	out, err := cli(t, append(base, "--json", "devices", "add", "gate", "visitor-centre", "--out", seedFile)...)
	if err != nil {
		t.Fatalf("devices add: %v\n%s", err, out)
	}
	var d struct {
		InboxPrefix string `json:"inbox_prefix"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.InboxPrefix == "" {
		t.Fatalf("devices add --json printed %q: %v", out, err)
	}

	start := time.Now()
	out, err = cli(t, append(base, "scan", "TFW1.forged", "--gate", "little-petra", "--nats", srv.natsURL,
		"--nkey", seedFile, "--inbox-prefix", d.InboxPrefix)...)
	took := time.Since(start)
	if err == nil {
		t.Fatalf("a scan at a gate the device may not scan at succeeded:\n%s", out)
	}
	if took > 15*time.Second {
		t.Errorf("the scan failed after %v, want within seconds", took)
	}
	if msg := err.Error(); !strings.Contains(msg, "ermission") || !strings.Contains(msg, "little-petra") {
		t.Errorf("the error does not name the refused permission: %v", err)
	}
}
