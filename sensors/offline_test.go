package sensors

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
	"github.com/tafweej/tafweej/tickets"
)

// natsGateDevice is an example NATS gate device that works offline: it
// keeps the day's manifest fresh over request/reply, decides by
// scheduler.DecideOffline when the service does not answer, and publishes
// what it admitted to JetStream with each scan_id as Nats-Msg-Id.
type natsGateDevice struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	gate, id string
	manifest api.GateManifest
	log      []scheduler.OfflineAdmission
	queue    []OfflineMessage
	seq      int
}

func (d *natsGateDevice) refresh(t *testing.T) {
	t.Helper()
	req, _ := json.Marshal(ManifestRequest{Device: d.id, Waiting: len(d.queue), Version: d.manifest.Version})
	m, err := d.nc.Request(ManifestSubject("petra", d.gate), req, 2*time.Second)
	if err != nil {
		t.Fatalf("manifest request: %v", err)
	}
	var nm NotModified
	if json.Unmarshal(m.Data, &nm) == nil && nm.NotModified {
		return
	}
	if err := json.Unmarshal(m.Data, &d.manifest); err != nil || d.manifest.Version == "" {
		t.Fatalf("manifest reply %s: %v", m.Data, err)
	}
}

// scanOffline decides a scan on the device alone.
func (d *natsGateDevice) scanOffline(t *testing.T, code string, count int, at time.Time) scheduler.ScanResult {
	t.Helper()
	key, _ := base64.RawURLEncoding.DecodeString(d.manifest.TicketKey.Key)
	tk, err := tickets.Verify(key, code)
	if err != nil {
		return scheduler.ScanResult{Decision: scheduler.DecisionReject, Reason: scheduler.ReasonInvalidSignature}
	}
	res := scheduler.DecideOffline(&d.manifest.Manifest, d.log, tk, count, at, 1)
	if res.Admitted > 0 {
		d.seq++
		d.log = append(d.log, scheduler.OfflineAdmission{Booking: res.Booking, Wave: *res.Slot, Count: res.Admitted})
		d.queue = append(d.queue, OfflineMessage{Device: d.id, ScanID: d.id + "-" + strconv.Itoa(d.seq), Ticket: code,
			Count: res.Admitted, At: at.Format(time.RFC3339)})
	}
	return res
}

// upload publishes the queue in order; JetStream drops a message whose
// Nats-Msg-Id it has seen, so uploading twice is harmless.
func (d *natsGateDevice) upload(t *testing.T) {
	t.Helper()
	for _, m := range d.queue {
		data, _ := json.Marshal(m)
		msg := nats.NewMsg(OfflineSubject("petra", d.gate))
		msg.Data = data
		msg.Header.Set(jetstream.MsgIDHeader, m.ScanID)
		if _, err := d.js.PublishMsg(context.Background(), msg); err != nil {
			t.Fatalf("publish %s: %v", m.ScanID, err)
		}
	}
}

func TestNATSGateDeviceOfflineAndReconciled(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	off, err := StartOffline(context.Background(), OfflineOptions{Conn: h.nc, Engine: h.eng, Public: h.signer.Public()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(off.Stop)
	b := h.book("op-a", "main", "", 6, "08:00", "08:15")
	code := h.signer.Code(b)
	h.at("08:05")

	// A registered gate device, with only its own permissions: its
	// gate's scans, manifest and offline uploads (issue 14).
	gd := h.device(h.registry(), store.DeviceGate, "visitor-centre")
	js, err := jetstream.New(gd.nc)
	if err != nil {
		t.Fatal(err)
	}
	dev := &natsGateDevice{nc: gd.nc, js: js, gate: "visitor-centre", id: "nats-7"}
	dev.refresh(t)
	v := dev.manifest.Version
	dev.refresh(t) // not modified
	if dev.manifest.Version != v || len(dev.manifest.Bookings) != 1 {
		t.Fatalf("manifest %+v", dev.manifest)
	}

	at := h.clock.Now()
	if r := dev.scanOffline(t, code, 4, at); r.Admitted != 4 {
		t.Fatalf("offline scan: %+v", r)
	}
	if r := dev.scanOffline(t, code, 4, at.Add(time.Minute)); r.Decision != scheduler.DecisionPartial || r.Admitted != 2 {
		t.Fatalf("second offline scan: %+v, want 2 of 4", r)
	}
	if r := dev.scanOffline(t, code, 1, at.Add(2*time.Minute)); r.Reason != scheduler.ReasonAlreadyUsed {
		t.Fatalf("third offline scan: %+v, want already_used", r)
	}
	dev.upload(t)
	dev.upload(t) // a retried upload
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if got := h.booking(b.ID).Admitted; got != 6 {
			return fmt.Errorf("admitted %d, want 6", got)
		}
		return nil
	})
	dev.refresh(t)
	if dev.manifest.Version == v || dev.manifest.Bookings[0].Admitted != 6 {
		t.Fatalf("manifest after reconciliation %+v", dev.manifest.Bookings)
	}
	// Nothing more arrives: the retried upload was dropped.
	info, err := h.js.Stream(context.Background(), OfflineStream("petra"))
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != 2 {
		t.Fatalf("offline stream holds %d messages, want 2 (duplicates dropped)", n)
	}
	if got := h.booking(b.ID).Admitted; got != 6 {
		t.Fatalf("admitted %d after the retried upload, want 6", got)
	}
}

// TestOfflineUploadRate measures reconciliation over NATS
// (TAFWEEJ_OFFLINE_RATE=N scans; skipped otherwise).
func TestOfflineUploadRate(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TAFWEEJ_OFFLINE_RATE"))
	if n <= 0 {
		t.Skip("set TAFWEEJ_OFFLINE_RATE=N to measure the upload of N offline scans")
	}
	h := newHarness(t, harnessOptions{})
	off, err := StartOffline(context.Background(), OfflineOptions{Conn: h.nc, Engine: h.eng, Public: h.signer.Public()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(off.Stop)
	b := h.book("op-a", "main", "", 6, "08:00", "08:15")
	h.at("08:05")
	at := h.clock.Now().Format(time.RFC3339)
	start := time.Now()
	for i := range n {
		data, _ := json.Marshal(OfflineMessage{Device: "rate", ScanID: strconv.Itoa(i), Booking: b.ID, Count: 1, At: at})
		msg := nats.NewMsg(OfflineSubject("petra", "visitor-centre"))
		msg.Data = data
		msg.Header.Set(jetstream.MsgIDHeader, "rate-"+strconv.Itoa(i))
		if _, err := h.js.PublishMsgAsync(msg); err != nil {
			t.Fatal(err)
		}
	}
	<-h.js.PublishAsyncComplete()
	published := time.Since(start)
	checkFor(t, 5*time.Minute, 50*time.Millisecond, func() error {
		if got := h.booking(b.ID).Admitted; got != n {
			return fmt.Errorf("admitted %d of %d", got, n)
		}
		return nil
	})
	took := time.Since(start)
	t.Logf("%d offline scans: published in %s, reconciled in %s: %.0f scans/s", n, published, took, float64(n)/took.Seconds())
}
