package sensors

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tafweej/tafweej/scheduler"
)

func TestStartEmbedded(t *testing.T) {
	dir := t.TempDir()
	auth, err := NewAuth(nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := StartEmbedded(EmbeddedOptions{Port: -1, StoreDir: dir, NoLog: true, Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	jc := s.JetStreamConfig()
	if jc == nil || !jc.SyncAlways || !strings.HasPrefix(jc.StoreDir, dir) {
		t.Fatalf("JetStream config %+v: want SyncAlways under %s", jc, dir)
	}
	if u := s.ClientURL(); !strings.HasPrefix(u, "nats://127.0.0.1:") {
		t.Errorf("listens on %s, want loopback", u)
	}
	if _, err := StartEmbedded(EmbeddedOptions{Port: -1, Auth: auth}); err == nil {
		t.Error("no StoreDir accepted")
	}
	if _, err := StartEmbedded(EmbeddedOptions{Port: -1, StoreDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "Auth is required") {
		t.Errorf("no Auth: %v", err)
	}
}

func TestConnectErrors(t *testing.T) {
	if _, err := Connect("nats://127.0.0.1:1", ConnectOptions{TLSCert: "c.pem"}); err == nil || !strings.Contains(err.Error(), "give both") {
		t.Errorf("certificate without key: %v", err)
	}
	if _, err := Connect("nats://127.0.0.1:1", ConnectOptions{}); err == nil {
		t.Error("connected to nothing")
	}
}

func TestBackoff(t *testing.T) {
	prev := time.Duration(0)
	for a := range 12 {
		d := backoff(a)
		if d < 100*time.Millisecond || d > 6*time.Second {
			t.Errorf("backoff(%d) = %v", a, d)
		}
		if a > 1 && a < 7 && d < prev*6/5 {
			t.Errorf("backoff(%d) = %v does not grow from %v", a, d, prev)
		}
		prev = d - d/6
	}
}

func TestEventsPublish(t *testing.T) {
	ns := runNATS(t)
	nc, err := nats.Connect(ns.ClientURL(), ns.auth.ServiceOption())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("tafweej.petra.events.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	ev := NewEvents(nc, "petra", nil)
	at := time.Date(2026, 12, 1, 13, 0, 0, 0, time.FixedZone("+03", 3*3600))
	ev.Publish(scheduler.Event{Kind: scheduler.EventZoneClosed, At: at, Data: scheduler.Closure{ID: "al_1", Zones: []string{"siq"}, Reason: "flood_warning"}})
	ev.Close()
	ev.Publish(scheduler.Event{Kind: scheduler.EventZoneReopened, At: at}) // after Close: ignored
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "tafweej.petra.events.zone.closed" {
		t.Errorf("subject %s", m.Subject)
	}
	var got map[string]any
	if err := json.Unmarshal(m.Data, &got); err != nil {
		t.Fatal(err)
	}
	if got["kind"] != "zone.closed" || got["at"] != "2026-12-01T13:00:00+03:00" || got["data"].(map[string]any)["id"] != "al_1" || len(got) != 3 {
		t.Errorf("event %s", m.Data)
	}
	if m, err := sub.NextMsg(100 * time.Millisecond); err == nil {
		t.Errorf("event published after Close: %s", m.Data)
	}
}

func TestMetricsLint(t *testing.T) {
	ns := runNATS(t)
	nc, err := nats.Connect(ns.ClientURL(), ns.auth.ServiceOption())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	reg := prometheus.NewRegistry()
	m := newMetrics(reg, nc)
	m.invalid.WithLabelValues("counter", reasonBadJSON).Inc()
	m.deadLetter.WithLabelValues("counter").Inc()
	m.scanDur.WithLabelValues("admit").Observe(0.001)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric %s: %s", p.Metric, p.Text)
	}
	if v := testutil.ToFloat64(m.invalid.WithLabelValues("counter", reasonBadJSON)); v != 1 {
		t.Errorf("invalid = %v", v)
	}
	if v := gatherValue(t, reg, "tafweej_nats_connected"); v != 1 {
		t.Errorf("tafweej_nats_connected = %v while connected", v)
	}
	nc.Close()
	if v := gatherValue(t, reg, "tafweej_nats_connected"); v != 0 {
		t.Errorf("tafweej_nats_connected = %v once closed", v)
	}
	// A second registration (a service restarted in the same process)
	// shares the collectors.
	m2 := newMetrics(reg, nc)
	if v := testutil.ToFloat64(m2.invalid.WithLabelValues("counter", reasonBadJSON)); v != 1 {
		t.Errorf("after re-registration invalid = %v", v)
	}
}
