package sensors

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/tafweej/tafweej/internal/testenv/stack"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// The same permissions on an external nats-server process (built from the
// module) configured with ExportAuthorization: the service connects as its
// own user, devices with their NKeys, and the attacks are refused as on the
// embedded server.
func TestExportedAuthorizationOnExternalServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs nats-server; skipped with -short")
	}
	bin, err := buildNATSServer()
	if err != nil {
		t.Fatal(err)
	}
	cfg := stack.Petra(t)
	type dev struct {
		d    store.Device
		seed []byte
	}
	mk := func(kind, target string) dev {
		kp, _ := nkeys.CreateUser()
		pub, _ := kp.PublicKey()
		seed, _ := kp.Seed()
		id, _ := newDeviceID()
		return dev{store.Device{ID: id, Kind: kind, Target: target, PublicKey: pub}, seed}
	}
	vc, n1, ews := mk(store.DeviceGate, "visitor-centre"), mk(store.DeviceSensor, "siq-n1"), mk(store.DeviceAlerts, "flood-ews")
	gone := mk(store.DeviceGate, "visitor-centre")
	past := time.Now().Add(-time.Minute)
	gone.d.ExpiresAt = &past
	block, err := ExportAuthorization("petra", cfg, []store.Device{vc.d, n1.d, ews.d, gone.d}, ExportOptions{User: "tafweej"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port := freePort(t)
	conf := fmt.Sprintf("listen: 127.0.0.1:%d\njetstream { store_dir: %q }\n%s", port, filepath.Join(dir, "js"), block)
	if err := os.WriteFile(filepath.Join(dir, "nats.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", filepath.Join(dir, "nats.conf"))
	cmd.Env = append(os.Environ(), "TAFWEEJ_NATS_PASSWORD=s3cret-for-the-test")
	if testing.Verbose() {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	checkFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		nc, err := nats.Connect(url, nats.UserInfo("tafweej", "s3cret-for-the-test"))
		if err != nil {
			return err
		}
		nc.Close()
		return nil
	})

	h := newHarness(t, harnessOptions{url: url, connOpts: []nats.Option{nats.UserInfo("tafweej", "s3cret-for-the-test")}})
	connect := func(d dev) *device {
		t.Helper()
		out := &device{Device: d.d, Seed: d.seed}
		opts, err := DeviceOptions(d.seed, d.d.InboxPrefix())
		if err != nil {
			t.Fatal(err)
		}
		out.nc, err = nats.Connect(url, append(opts, nats.MaxReconnects(0), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			out.mu.Lock()
			out.errs = append(out.errs, err)
			out.mu.Unlock()
		}))...)
		if err != nil {
			t.Fatalf("device %s %s: %v", d.d.Kind, d.d.Target, err)
		}
		t.Cleanup(out.nc.Close)
		return out
	}

	if nc, err := nats.Connect(url, nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Error("an anonymous client connected to the external server")
	}
	opts, _ := DeviceOptions(gone.seed, gone.d.InboxPrefix())
	if nc, err := nats.Connect(url, append(opts, nats.MaxReconnects(0))...); err == nil {
		nc.Close()
		t.Error("an expired device connected to the external server")
	}

	g := connect(vc)
	b := h.book("op-wadi", "main", "", 4, "08:00", "08:15")
	h.at("08:05")
	if res, err := g.scan(t, "visitor-centre", scheduler.ScanRequest{Ticket: h.signer.Code(b), Count: 4, ScanID: "e1"}, 5*time.Second); err != nil || res.Admitted != 4 {
		t.Fatalf("scan by the gate device: %+v, %v", res, err)
	}
	if _, err := g.scan(t, "little-petra", scheduler.ScanRequest{Ticket: h.signer.Code(b), Count: 1, ScanID: "e2"}, 300*time.Millisecond); err == nil {
		t.Error("the gate device got an answer at another gate")
	}
	g.waitViolation(t, "tafweej.petra.gate.little-petra.scan")
	_, _ = g.nc.QueueSubscribe("tafweej.petra.gate.*.scan", gateQueue, func(*nats.Msg) {})
	g.waitViolation(t, "tafweej.petra.gate.*.scan")
	_, _ = g.nc.SubscribeSync(">")
	g.waitViolation(t, `Subscription to ">"`)
	_ = g.nc.Publish("tafweej.petra.alert", []byte(`{}`))
	g.waitViolation(t, "tafweej.petra.alert")

	s := connect(n1)
	_ = s.nc.Publish("tafweej.petra.counter.siq.siq-m1", []byte(`{}`))
	s.waitViolation(t, "tafweej.petra.counter.siq.siq-m1")
	if _, err := s.nc.Request("$JS.API.STREAM.DELETE.TAFWEEJ_PETRA_COUNTERS", nil, 300*time.Millisecond); err == nil {
		t.Error("a device's stream delete was answered")
	}
	s.waitViolation(t, "$JS.API.STREAM.DELETE.TAFWEEJ_PETRA_COUNTERS")

	a := connect(ews)
	m, err := a.nc.Request("tafweej.petra.alert", []byte(`{"kind":"flood_warning","zones":["siq"],"severity":"high","at":"2026-12-01T08:05:00+03:00"}`), 5*time.Second)
	if err != nil {
		t.Fatalf("alert from the alert source: %v", err)
	}
	h.waitEvent(scheduler.EventZoneClosed, `"siq"`)
	_ = m
}
