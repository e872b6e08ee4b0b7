package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tafweej/tafweej/internal/testenv"
)

// TestDevicesCommands: on the real service, nobody connects to NATS
// anonymously; the ops team registers a gate device with 'devices add', its
// seed file works as is with nats.go, 'scan' works with it and with a
// short-lived device of its own (revoked after), and 'devices revoke' cuts
// the device off at once.
func TestDevicesCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real service; skipped with -short")
	}
	srv := startServer(t, t.TempDir())
	base := []string{"--server", srv.httpURL, "--key", srv.opsKey}

	if nc, err := nats.Connect(srv.natsURL, nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("an anonymous client connected to the service's NATS")
	}

	seedFile := filepath.Join(t.TempDir(), "vc1.nk")
	out, err := cli(t, append(base, "--json", "devices", "add", "gate", "visitor-centre", "--name", "VC lane 1", "--out", seedFile)...)
	if err != nil {
		t.Fatalf("devices add: %v\n%s", err, out)
	}
	var d struct {
		ID, Kind, Target, Name string
		PublicKey              string `json:"public_key"`
		InboxPrefix            string `json:"inbox_prefix"`
		SeedFile               string `json:"seed_file"`
		Seed                   string `json:"seed"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("devices add --json printed %q: %v", out, err)
	}
	if d.Kind != "gate" || d.Target != "visitor-centre" || d.Name != "VC lane 1" || d.SeedFile != seedFile ||
		d.Seed != "" || !strings.HasPrefix(d.PublicKey, "U") || d.InboxPrefix != "_INBOX_"+d.ID {
		t.Errorf("devices add --json: %s", out)
	}
	if fi, err := os.Stat(seedFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("seed file %s: %v, mode %v; want 0600", seedFile, err, fi.Mode())
	}
	if _, err := cli(t, append(base, "devices", "add", "gate", "visitor-centre", "--out", seedFile)...); err == nil {
		t.Error("devices add overwrote an existing seed file")
	}
	out, err = cli(t, append(base, "devices", "add", "gate", "treasury", "--out", filepath.Join(t.TempDir(), "x.nk"))...)
	var ae *apiError
	if !errors.As(err, &ae) || ae.Field != "target" || !strings.Contains(ae.Message, `gate "treasury" is not a gate of site "petra"`) {
		t.Errorf("devices add at a zone that is no gate: %v\n%s", err, out)
	}

	// The seed file works as is with nats.go.
	nk, err := nats.NkeyOptionFromSeed(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := nats.Connect(srv.natsURL, nk, nats.CustomInboxPrefix(d.InboxPrefix), nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("connect with the seed file: %v", err)
	}
	defer dev.Close()
	m, err := dev.Request("tafweej.petra.gate.visitor-centre.scan", []byte(`{"ticket":"TFW1.forged","count":1,"scan_id":"t1"}`), 5*time.Second)
	if err != nil || !strings.Contains(string(m.Data), `"decision":"reject"`) {
		t.Fatalf("scan with the registered device: %v", err)
	}

	// 'scan' as that device, and as a short-lived one of its own.
	for _, args := range [][]string{
		{"scan", "TFW1.forged", "--gate", "visitor-centre", "--nats", srv.natsURL, "--nkey", seedFile, "--inbox-prefix", d.InboxPrefix},
		{"scan", "TFW1.forged", "--gate", "visitor-centre", "--nats", srv.natsURL},
	} {
		out, err := cli(t, append(base, args...)...)
		if !errors.Is(err, errSilent) || !strings.Contains(out, "REJECT") {
			t.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	out, err = cli(t, append(base, "--json", "devices", "list")...)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Devices []struct{ ID string } `json:"devices"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Devices) != 1 || list.Devices[0].ID != d.ID {
		t.Errorf("devices list after the scans (the short-lived device revoked): %s", out)
	}

	// The authorization block of an external server names the device.
	out, err = cli(t, append(base, "devices", "export", "--service-user", "tafweej", "--config", testenv.PetraPath())...)
	if err != nil || !strings.Contains(out, "authorization {") || !strings.Contains(out, `"`+d.PublicKey+`"`) ||
		!strings.Contains(out, `"tafweej.petra.gate.visitor-centre.scan"`) || !strings.Contains(out, "$TAFWEEJ_NATS_PASSWORD") {
		t.Errorf("devices export: %v\n%s", err, out)
	}

	// Revocation closes the live connection.
	start := time.Now()
	if out, err := cli(t, append(base, "devices", "revoke", d.ID)...); err != nil {
		t.Fatalf("devices revoke: %v\n%s", err, out)
	}
	checkFor(t, time.Second, func() error {
		if dev.IsConnected() {
			return errors.New("the revoked device is still connected")
		}
		return nil
	})
	t.Logf("revoked device disconnected %v after the command started", time.Since(start))
	if nc, err := nats.Connect(srv.natsURL, nk, nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Error("a revoked device connected again")
	}
}
