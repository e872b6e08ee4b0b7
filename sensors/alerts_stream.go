package sensors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/scheduler"
)

// Durable alerts
//
// An alert source registered as a device publishes its alerts to JetStream
// on tafweej.<site>.alerts.<source> with the alert's id as Nats-Msg-Id:
// the alerts stream keeps them until the service has applied them, so an
// alert sent while the service is down or reconnecting is applied when it
// comes back, unless it has expired by then ("expires"). The stream drops a
// repeated Nats-Msg-Id within its duplicate window (a day), and the alert
// id names the closure (al_<id>), so a duplicate changes nothing either way.
// The core request/reply subject tafweej.<site>.alert stays for senders
// that want the AlertReply.

// alertsDupWindow is the alerts stream's duplicate window.
const alertsDupWindow = 24 * time.Hour

// alertConsumer applies the alerts stream.
type alertConsumer struct {
	s  *Service
	cc jetstream.ConsumeContext
}

func startAlerts(ctx context.Context, s *Service) (*alertConsumer, error) {
	_, err := s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        s.subj.AlertStream(),
		Description: "Alerts of the registered alert sources of site " + s.o.Site + " (tafweej)",
		Subjects:    []string{s.subj.AlertsAll()},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      s.o.StreamMaxAge,
		MaxBytes:    min(s.o.StreamMaxBytes, 64<<20),
		Duplicates:  alertsDupWindow,
		Replicas:    s.o.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("sensors: stream %s: %w", s.subj.AlertStream(), err)
	}
	cons, err := s.js.CreateOrUpdateConsumer(ctx, s.subj.AlertStream(), jetstream.ConsumerConfig{
		Durable:       alertDurable,
		Description:   "tafweej: applies the alerts of registered sources",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1,
		FilterSubject: s.subj.AlertsAll(),
	})
	if err != nil {
		return nil, fmt.Errorf("sensors: consumer %s: %w", alertDurable, err)
	}
	c := &alertConsumer{s: s}
	c.cc, err = cons.Consume(c.handle, jetstream.PullMaxMessages(16))
	if err != nil {
		return nil, fmt.Errorf("sensors: consume %s: %w", s.subj.AlertStream(), err)
	}
	return c, nil
}

// stop ends the consumption; an alert being applied finishes first.
func (c *alertConsumer) stop() {
	if c != nil && c.cc != nil {
		c.cc.Drain()
		<-c.cc.Closed()
	}
}

// handle applies one alert of the stream, then acks it; if the owner loop
// could not take it, it is redelivered later.
func (c *alertConsumer) handle(msg jetstream.Msg) {
	s := c.s
	m := &nats.Msg{Subject: msg.Subject(), Data: msg.Data(), Header: msg.Headers()}
	a, err := decodeAlert(msg.Data())
	if err == nil {
		err = validateAlert(s.cfg, a)
	}
	if err == nil && a.ID == "" {
		err = invalidf(reasonMissingField, "alert: an alert sent to the alerts stream needs its id (also its Nats-Msg-Id)")
	}
	if id := msg.Headers().Get(jetstream.MsgIDHeader); err == nil && id != "" && id != a.ID {
		err = invalidf(reasonMsgIDMismatch, "alert: Nats-Msg-Id %q is not the alert's id %q", id, a.ID)
	}
	if err == nil && !a.Expires.IsZero() && !s.eng.Now().Before(a.Expires) {
		err = invalidf(reasonExpired, "alert %q expired at %s before it could be applied", a.ID, a.Expires.Format(time.RFC3339))
	}
	if err != nil {
		s.deadLetter("alert", m, err)
		_ = msg.Ack()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.eng.Do(ctx, scheduler.Alert{ID: "al_" + a.ID, Kind: a.Kind, Zones: a.Zones, Severity: a.Severity})
	if err != nil {
		s.log.Error("alert from the stream not applied; redelivery asked", "id", a.ID, "err", err)
		_ = msg.NakWithDelay(nakDelay)
		return
	}
	var se *scheduler.Error
	switch {
	case errors.As(res.Err, &se) && se.Code == scheduler.CodeConflict:
		s.log.Info("alert applied before; nothing to do", "id", a.ID)
	case res.Err != nil:
		s.deadLetter("alert", m, &invalidError{Reason: reasonRejected, Msg: res.Err.Error()})
	case res.Closure != nil:
		s.log.Warn("alert closed zones", "kind", a.Kind, "severity", a.Severity, "closure", res.Closure.ID, "zones", res.Closure.Zones, "source", msg.Subject())
	}
	_ = msg.Ack()
}
