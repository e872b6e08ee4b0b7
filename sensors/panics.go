package sensors

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/engine"
)

// A handler that panics (the gate responder, the alert subscription, the
// counter applier on one message), or whose command panicked in the owner loop
// (engine.InternalError), answers an internal error with the panic's id,
// which the log holds with the stack (engine.Panics; counted in
// tafweej_panics_total{where}); the service goes on:
//   - a scan is answered with the NATS service-error headers
//     (Nats-Service-Error-Code: 500, Nats-Service-Error: the message) and
//     the body {"error": {"code": "internal", "message": ..., "id": ...}},
//     never a decision;
//   - an alert with AlertReply{Result: "internal", Error: the message};
//   - a counter message is dead-lettered with reason internal and acked:
//     redelivered, it would fail again and again.

// reasonInternal is the dead-letter reason of a message whose handling
// panicked.
const reasonInternal = "internal"

// testHookHandler, set by tests before Start, is called as each handler
// starts its work (where: nats_scan, nats_alert, nats_counter), and as a
// counter message's handling goes on after its reading was applied
// (nats_counter_applied).
var testHookHandler func(where string)

func hook(where string) {
	if testHookHandler != nil {
		testHookHandler(where)
	}
}

// internalMessage is what the caller of a failed message is told.
func internalMessage(id string) string {
	return fmt.Sprintf("internal error %s: the service failed on this message and logged it under this id; nothing of it was applied", id)
}

// replyInternal answers a request that failed on a bug.
func (s *Service) replyInternal(m *nats.Msg, id string) {
	if m.Reply == "" {
		return
	}
	msg := internalMessage(id)
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": reasonInternal, "message": msg, "id": id}})
	r := &nats.Msg{Subject: m.Reply, Data: body, Header: nats.Header{}}
	r.Header.Set("Nats-Service-Error-Code", "500")
	r.Header.Set("Nats-Service-Error", msg)
	if err := m.RespondMsg(r); err != nil {
		s.log.Warn("internal error reply not sent", "subject", m.Subject, "id", id, "err", err)
	}
}

// internalID is the id of an engine.InternalError in err, or "".
func internalID(err error) string {
	var ie *engine.InternalError
	if errors.As(err, &ie) {
		return ie.ID
	}
	return ""
}

// poison dead-letters a counter message whose handling failed on a bug and
// acks it.
func (c *counterConsumer) poison(msg jetstream.Msg, id string) {
	c.poisonWith(msg, internalMessage(id))
}

// poisonApplied is poison for a message whose reading the owner loop had
// applied, durably, before its handling failed: the dead letter says the
// reading is kept, not that nothing of it was applied.
func (c *counterConsumer) poisonApplied(msg jetstream.Msg, id string) {
	c.poisonWith(msg, fmt.Sprintf("internal error %s: the service failed on this message after applying its reading, which is kept, and logged it under this id", id))
}

func (c *counterConsumer) poisonWith(msg jetstream.Msg, text string) {
	c.s.deadLetter("counter", &nats.Msg{Subject: msg.Subject(), Data: msg.Data(), Header: msg.Headers()},
		&invalidError{Reason: reasonInternal, Msg: text})
	_ = msg.Ack()
}
