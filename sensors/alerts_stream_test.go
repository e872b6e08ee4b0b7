package sensors

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// publishAlert sends an alert as a registered source does: to the alerts
// stream with its id as Nats-Msg-Id.
func publishAlert(t *testing.T, js jetstream.JetStream, source, id, body string) *jetstream.PubAck {
	t.Helper()
	m := nats.NewMsg("tafweej.petra.alerts." + source)
	m.Data = []byte(body)
	m.Header.Set(jetstream.MsgIDHeader, id)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ack, err := js.PublishMsg(ctx, m)
	if err != nil {
		t.Fatalf("publish alert %s: %v", id, err)
	}
	return ack
}

// An alert from a registered source closes its zones; one published while
// the service is stopped closes them when it starts; a duplicate changes
// nothing; an expired one is not applied.
func TestAlertsStreamSurvivesTheServiceBeingDown(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.at("08:00")
	ews := h.device(h.registry(), store.DeviceAlerts, "flood-ews")
	js, err := jetstream.New(ews.nc)
	if err != nil {
		t.Fatal(err)
	}
	flood := func(id string, zones, expires string) string {
		return fmt.Sprintf(`{"id":%q,"kind":"flood_warning","zones":[%s],"severity":"high","at":"2026-12-01T08:00:00+03:00"%s}`, id, zones, expires)
	}
	publishAlert(t, js, "flood-ews", "ews-1", flood("ews-1", `"siq"`, ""))
	h.waitEvent(scheduler.EventZoneClosed, `"id":"al_ews-1"`)

	// The service stops; the source keeps sending; the service starts again.
	h.svc.Stop()
	h.svc = nil
	publishAlert(t, js, "flood-ews", "ews-2", flood("ews-2", `"treasury"`, ""))
	publishAlert(t, js, "flood-ews", "ews-3", flood("ews-3", `"monastery"`, `,"expires":"2026-12-01T08:05:00+03:00"`))
	h.at("08:10") // ews-3 has expired by the time the service is back
	if n := len(h.eventsOf(scheduler.EventZoneClosed)); n != 1 {
		t.Fatalf("%d zone.closed events while the service was down, want 1", n)
	}
	dl := h.watchDeadLetters("alert")
	h.startService()
	h.waitEvent(scheduler.EventZoneClosed, `"id":"al_ews-2"`)
	dl.wait(t, reasonExpired, "tafweej.petra.alerts.flood-ews")

	// Duplicates: the same id again (dropped by the stream), and the same
	// alert over core request/reply.
	if ack := publishAlert(t, js, "flood-ews", "ews-2", flood("ews-2", `"treasury"`, "")); !ack.Duplicate {
		t.Errorf("the stream took a repeated Nats-Msg-Id: %+v", ack)
	}
	if r := h.alert(flood("ews-1", `"siq"`, "")); r.Result != "duplicate" {
		t.Errorf("the same alert over request/reply: %+v", r)
	}
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		ci, err := h.js.Consumer(context.Background(), "TAFWEEJ_PETRA_ALERTS", alertDurable)
		if err != nil {
			return err
		}
		if info := ci.CachedInfo(); info.NumPending != 0 || info.NumAckPending != 0 {
			return fmt.Errorf("alerts consumer: %d pending, %d unacknowledged", info.NumPending, info.NumAckPending)
		}
		return nil
	})
	var closures []scheduler.Closure
	if err := h.eng.Read(context.Background(), func(s *scheduler.State, now time.Time) { closures = s.Closures(now) }); err != nil {
		t.Fatal(err)
	}
	if len(closures) != 2 || len(h.eventsOf(scheduler.EventZoneClosed)) != 2 {
		t.Errorf("closures %+v, want al_ews-1 and al_ews-2 only", closures)
	}
	// A gate device may not publish to the alerts stream.
	vc := h.device(h.registry(), store.DeviceGate, "visitor-centre")
	_ = vc.nc.Publish("tafweej.petra.alerts.flood-ews", []byte(flood("x", `"siq"`, "")))
	vc.waitViolation(t, "tafweej.petra.alerts.flood-ews")
}
