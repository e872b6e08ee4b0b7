package sensors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// Each test here is one attack from issue 14, tried by a registered device
// (or nobody) against a real embedded server with the service running: the
// server refuses it with a permission violation and the site's state does
// not change. Each also does the legitimate thing, so that it cannot pass
// because nothing works.

// device is a registered device's connection with the asynchronous errors
// the server sent it.
type device struct {
	store.Device
	Seed []byte
	nc   *nats.Conn

	mu   sync.Mutex // guards errs
	errs []error
}

// waitViolation waits for a permission violation that mentions substr.
func (d *device) waitViolation(t testing.TB, substr string) {
	t.Helper()
	checkFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, err := range d.errs {
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), substr) {
				return nil
			}
		}
		return fmt.Errorf("no permission violation about %q; errors: %v", substr, d.errs)
	})
}

// registry is the harness's device registry on its embedded server.
func (h *harness) registry() *Registry {
	h.t.Helper()
	r, err := NewRegistry(RegistryOptions{Store: h.st, Config: h.cfg, Auth: h.ns.auth})
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// device registers a device and connects it.
func (h *harness) device(r *Registry, kind, target string) *device {
	h.t.Helper()
	nd, seed, err := r.Add(kind, target, "test "+kind, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	d := &device{Device: nd, Seed: seed}
	opts, err := DeviceOptions(seed, nd.InboxPrefix())
	if err != nil {
		h.t.Fatal(err)
	}
	opts = append(opts, nats.Name(nd.ID), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		d.mu.Lock()
		d.errs = append(d.errs, err)
		d.mu.Unlock()
	}))
	d.nc, err = nats.Connect(h.url, opts...)
	if err != nil {
		h.t.Fatalf("device %s %s: %v", kind, target, err)
	}
	h.t.Cleanup(d.nc.Close)
	return d
}

func (d *device) scan(t testing.TB, gate string, req scheduler.ScanRequest, timeout time.Duration) (scheduler.ScanResult, error) {
	t.Helper()
	data, _ := json.Marshal(req)
	m, err := d.nc.Request("tafweej.petra.gate."+gate+".scan", data, timeout)
	if err != nil {
		return scheduler.ScanResult{}, err
	}
	return decodeReply(t, m.Data), nil
}

func TestAnonymousConnectRefused(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	if nc, err := nats.Connect(h.url, nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("an anonymous client connected to the embedded server")
	} else if !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("anonymous connect: %v, want an authorization violation", err)
	}
	// An NKey nobody registered is refused too.
	kp, _ := nkeys.CreateUser()
	seed, _ := kp.Seed()
	opts, err := DeviceOptions(seed, "_INBOX_dev_nobody")
	if err != nil {
		t.Fatal(err)
	}
	if nc, err := nats.Connect(h.url, append(opts, nats.MaxReconnects(0))...); err == nil {
		nc.Close()
		t.Fatal("an unregistered NKey connected")
	}
	// A registered one is admitted.
	h.device(h.registry(), store.DeviceGate, "visitor-centre")
}

func TestGateDeviceCannotScanAtAnotherGate(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	r := h.registry()
	vc := h.device(r, store.DeviceGate, "visitor-centre")
	b := h.book("op-wadi", "back-trail", "", 4, "08:00", "08:15") // enters at little-petra
	h.at("08:05")
	if _, err := vc.scan(t, "little-petra", scheduler.ScanRequest{Ticket: h.signer.Code(b), Count: 4, ScanID: "x1"}, 300*time.Millisecond); err == nil {
		t.Fatal("a visitor-centre device got an answer at little-petra")
	}
	vc.waitViolation(t, "tafweej.petra.gate.little-petra.scan")
	if got := h.booking(b.ID).Admitted; got != 0 {
		t.Errorf("admitted %d after the refused scan, want 0", got)
	}
	// The little-petra device admits the group.
	lp := h.device(r, store.DeviceGate, "little-petra")
	res, err := lp.scan(t, "little-petra", scheduler.ScanRequest{Ticket: h.signer.Code(b), Count: 4, ScanID: "x2"}, 5*time.Second)
	if err != nil || res.Admitted != 4 {
		t.Fatalf("scan by the little-petra device: %+v, %v", res, err)
	}
	// And its own gate works for the visitor-centre device.
	res, err = vc.scan(t, "visitor-centre", scheduler.ScanRequest{Ticket: h.signer.Code(b), Count: 1, ScanID: "x3"}, 5*time.Second)
	if err != nil || res.Reason != scheduler.ReasonWrongGate {
		t.Errorf("scan at the device's own gate: %+v, %v; want a wrong_gate answer", res, err)
	}
}

func TestGateDeviceCannotSubscribeToEverything(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	vc := h.device(h.registry(), store.DeviceGate, "visitor-centre")
	sub, err := vc.nc.SubscribeSync(">")
	if err != nil {
		t.Fatal(err)
	}
	vc.waitViolation(t, `Subscription to ">"`)
	b := h.book("op-wadi", "main", "", 2, "08:00", "08:15")
	h.at("08:05")
	if res := h.scan("visitor-centre", scheduler.ScanRequest{Ticket: h.signer.Code(b), Count: 2, ScanID: "s1"}); res.Admitted != 2 {
		t.Fatalf("scan: %+v", res)
	}
	if m, err := sub.NextMsg(200 * time.Millisecond); err == nil {
		t.Errorf("the device read %s: %s", m.Subject, m.Data)
	}
}

func TestGateDeviceCannotAnswerScans(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	vc := h.device(h.registry(), store.DeviceGate, "visitor-centre")
	forged := 0
	var mu sync.Mutex
	for _, subj := range []string{"tafweej.petra.gate.visitor-centre.scan", "tafweej.petra.gate.*.scan"} {
		if _, err := vc.nc.Subscribe(subj, func(m *nats.Msg) {
			mu.Lock()
			forged++
			mu.Unlock()
			_ = m.Respond([]byte(`{"decision":"admit","reason":"ok","admitted":99}`))
		}); err != nil {
			t.Fatal(err)
		}
		vc.waitViolation(t, `Subscription to "`+subj+`"`)
	}
	// Answering needs publishing to the asker's inbox: refused too.
	if err := vc.nc.Publish("_INBOX.forged", []byte(`{"decision":"admit"}`)); err != nil {
		t.Fatal(err)
	}
	vc.waitViolation(t, `Publish to "_INBOX.forged"`)
	b := h.book("op-wadi", "main", "", 5, "08:00", "08:15")
	h.at("08:05")
	for i := range 10 {
		res := h.scan("visitor-centre", scheduler.ScanRequest{Ticket: h.signer.Code(b), Count: 1, ScanID: fmt.Sprintf("a%d", i)})
		if i < 5 && res.Admitted != 1 || i >= 5 && res.Reason != scheduler.ReasonAlreadyUsed {
			t.Fatalf("scan %d answered %+v: not the service's answer", i, res)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if forged != 0 {
		t.Errorf("the device saw %d scans", forged)
	}
}

func TestGateDeviceCannotJoinTheQueueGroup(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	vc := h.device(h.registry(), store.DeviceGate, "visitor-centre")
	if _, err := vc.nc.QueueSubscribe("tafweej.petra.gate.*.scan", gateQueue, func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	vc.waitViolation(t, "tafweej.petra.gate.*.scan")
	// Every one of 20 scans is answered by the service.
	b := h.book("op-wadi", "main", "", 20, "08:00", "08:15")
	h.at("08:05")
	for i := range 20 {
		res, err := vc.scan(t, "visitor-centre", scheduler.ScanRequest{Ticket: h.signer.Code(b), Count: 1, ScanID: fmt.Sprintf("q%d", i)}, 5*time.Second)
		if err != nil || res.Admitted != 1 {
			t.Fatalf("scan %d: %+v, %v", i, res, err)
		}
	}
	if got := h.booking(b.ID).Admitted; got != 20 {
		t.Errorf("admitted %d, want 20", got)
	}
}

func TestSensorCannotPublishAnotherSensor(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.at("07:00")
	r := h.registry()
	n1 := h.device(r, store.DeviceSensor, "siq-n1")
	js, err := jetstream.New(n1.nc)
	if err != nil {
		t.Fatal(err)
	}
	forged := NewCounter(js, "petra", "siq-n2", "siq", "b1")
	forged.Now = h.clock.Now
	forged.Add(5000, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := forged.Publish(ctx); err == nil {
		t.Fatal("siq-n1's device published siq-n2's reading")
	}
	n1.waitViolation(t, "tafweej.petra.counter.siq.siq-n2")
	// Its own subject works, and is acknowledged on its inbox.
	own := NewCounter(js, "petra", "siq-n1", "siq", "b1")
	own.Now = h.clock.Now
	own.Add(30, 0)
	publish(t, own)
	h.waitSensor("siq-n1", "b1", 1)
	if st := h.sensor("siq-n2"); st.Boot != "" || st.In != 0 {
		t.Errorf("siq-n2 changed: %+v", st)
	}
}

func TestGateDeviceCannotSendAlerts(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	r := h.registry()
	vc := h.device(r, store.DeviceGate, "visitor-centre")
	flood := []byte(`{"kind": "flood_warning", "zones": ["siq"], "severity": "high", "at": "2026-12-01T08:06:00+03:00"}`)
	if _, err := vc.nc.Request("tafweej.petra.alert", flood, 300*time.Millisecond); err == nil {
		t.Fatal("a gate device's alert was answered")
	}
	vc.waitViolation(t, "tafweej.petra.alert")
	if n := len(h.eventsOf(scheduler.EventZoneClosed)); n != 0 {
		t.Fatalf("%d zone.closed events after a gate device's alert", n)
	}
	// An alert source's alert closes the Siq.
	ews := h.device(r, store.DeviceAlerts, "flood-ews")
	m, err := ews.nc.Request("tafweej.petra.alert", flood, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var rep AlertReply
	if err := json.Unmarshal(m.Data, &rep); err != nil || rep.Result != "closed" {
		t.Fatalf("alert source's alert: %s (%v)", m.Data, err)
	}
}

func TestDeviceCannotDeleteOrPurgeStreams(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.at("07:00")
	n1 := h.device(h.registry(), store.DeviceSensor, "siq-n1")
	c := h.counter("siq-n1", "siq", "b1") // the service's connection
	c.Add(10, 0)
	publish(t, c)
	h.waitSensor("siq-n1", "b1", 1)

	js, err := jetstream.New(n1.nc)
	if err != nil {
		t.Fatal(err)
	}
	stream := subjects.For("petra").CounterStream()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := js.DeleteStream(ctx, stream); err == nil {
		t.Error("a device deleted the counter stream")
	}
	n1.waitViolation(t, "$JS.API.STREAM.DELETE."+stream)
	// Purge goes through the stream handle, which the device cannot even
	// look up; ask the API subject directly.
	if _, err := n1.nc.Request("$JS.API.STREAM.PURGE."+stream, nil, 300*time.Millisecond); err == nil {
		t.Error("a device's purge was answered")
	}
	n1.waitViolation(t, "$JS.API.STREAM.PURGE."+stream)
	if _, err := n1.nc.Request("$JS.API.CONSUMER.DELETE."+stream+"."+counterDurable, nil, 300*time.Millisecond); err == nil {
		t.Error("a device's consumer delete was answered")
	}
	n1.waitViolation(t, "$JS.API.CONSUMER.DELETE.")
	info, err := h.js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatalf("the counter stream: %v", err)
	}
	if info.CachedInfo().State.Msgs != 1 {
		t.Errorf("counter stream holds %d messages, want 1", info.CachedInfo().State.Msgs)
	}
	if _, err := h.js.Consumer(context.Background(), stream, counterDurable); err != nil {
		t.Errorf("the counters' consumer: %v", err)
	}
}

func TestRevokedDeviceDisconnectedWithinOneSecond(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	r := h.registry()
	vc := h.device(r, store.DeviceGate, "visitor-centre")
	other := h.device(r, store.DeviceGate, "visitor-centre")
	start := time.Now()
	if err := r.Revoke(vc.ID); err != nil {
		t.Fatal(err)
	}
	// The server closes the connection at once; the client then fails to
	// reconnect (authorization) and gives up or keeps trying: either way it
	// is not connected.
	checkFor(t, time.Second, 5*time.Millisecond, func() error {
		if vc.nc.IsConnected() {
			return errors.New("revoked device still connected")
		}
		return nil
	})
	t.Logf("revoked device disconnected after %v", time.Since(start))
	opts, _ := DeviceOptions(vc.Seed, vc.InboxPrefix())
	if nc, err := nats.Connect(h.url, append(opts, nats.MaxReconnects(0))...); err == nil {
		nc.Close()
		t.Error("a revoked device connected again")
	}
	if !other.nc.IsConnected() {
		t.Error("revoking one device disconnected another")
	}
	if err := r.Revoke(vc.ID); err == nil {
		t.Error("revoked twice")
	}
}
