package sensors

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
	"github.com/tafweej/tafweej/tickets"
)

// Gate decides gate scans: it checks the request and the ticket's
// signature, then asks the owner loop, which holds every rule of admission
// (grace, wrong gate or day, holds, closures, partial admission, scan_id
// idempotency). It is shared by the NATS responder and POST /v1/scans.
type Gate struct {
	eng *engine.Engine
	ok  *verified // checks tickets with the public key, remembering the codes that verified (verified.go)
}

// NewGate returns a Gate that verifies tickets with pub.
func NewGate(eng *engine.Engine, pub ed25519.PublicKey) *Gate {
	return &Gate{eng: eng, ok: newVerified(pub)}
}

// ErrUnavailable wraps an owner-loop failure: the scan was not decided.
var ErrUnavailable = errors.New("sensors: scan not decided: the scheduler is unavailable")

// Decide decides one scan at gate. The reply always carries a decision
// except when the owner loop could not apply the scan (stopped, store
// failure, ctx done): then it is the zero ScanResult (Decision ""), and the
// caller must not answer with a decision: the device retries with the same
// scan_id, which admits nobody twice. (The NATS responder sends no reply;
// HTTP should answer 503.)
//
// Refused before the scheduler is asked: an unknown gate (unknown_gate,
// naming it), an invalid request (bad_request), a forged or altered ticket (invalid_signature),
// and a code that is not a ticket of this format at all (unknown_ticket:
// the device read some other QR code).
func (g *Gate) Decide(ctx context.Context, gate string, req scheduler.ScanRequest) scheduler.ScanResult {
	res, _ := g.decide(ctx, gate, req)
	return res
}

// decide is Decide with the reason of a refusal made here (for metrics)
// and the owner-loop error.
func (g *Gate) decide(ctx context.Context, gate string, req scheduler.ScanRequest) (scheduler.ScanResult, error) {
	cfg := g.eng.Config()
	if _, ok := cfg.Gate(gate); !ok {
		return unknownGate(gate), invalidf(reasonUnknownGate, "unknown gate %q", gate)
	}
	if err := checkScan(req); err != nil {
		return reject(scheduler.ReasonBadRequest, gate), err
	}
	t, err := g.ok.verify(req.Ticket)
	switch {
	case errors.Is(err, tickets.ErrSignature):
		return reject(scheduler.ReasonInvalidSignature, gate), invalidf(reasonBadSignature, "ticket signature does not match")
	case err != nil:
		return reject(scheduler.ReasonUnknownTicket, gate), invalidf(reasonBadTicket, "ticket is not a ticket code: %v", err)
	}
	count := req.Count
	if count == 0 {
		count = 1
	}
	res, err := g.eng.Do(ctx, scheduler.Scan{Gate: gate, Ticket: t, Count: count, ScanID: req.ScanID, Device: req.Device})
	if errors.Is(err, store.ErrInsufficientStorage) {
		// Nothing was admitted or stored: the gate says why, and a scan
		// again with the same scan_id is decided once space is back.
		return reject(scheduler.ReasonInsufficientStorage, gate), nil
	}
	if err != nil {
		return scheduler.ScanResult{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if res.Scan == nil {
		return scheduler.ScanResult{}, fmt.Errorf("%w: no scan result (%v)", ErrUnavailable, res.Err)
	}
	return *res.Scan, nil
}

// unknownGate is the answer to a scan at a gate the site does not have: it
// names the id the device sent, so that the attendant can fix the device.
func unknownGate(gate string) scheduler.ScanResult {
	return scheduler.ScanResult{Decision: scheduler.DecisionReject, Reason: scheduler.ReasonUnknownGate,
		Message: scheduler.UnknownGateMessage(gate)}
}

// reject is a rejection decided before the scheduler is asked.
func reject(reason, gate string) scheduler.ScanResult {
	return scheduler.ScanResult{Decision: scheduler.DecisionReject, Reason: reason, Gate: gate, Message: scheduler.Message(reason)}
}
