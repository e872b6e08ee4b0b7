package sensors

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
)

// Offline gates over NATS (docs/wire-contract.md, "Offline gates"):
//
//   - tafweej.<site>.gate.<gate>.manifest (request/reply): the day's
//     manifest, as GET /v1/gates/{gate}/manifest answers it;
//   - tafweej.<site>.gate.<gate>.offline (JetStream, stream
//     TAFWEEJ_<SITE>_OFFLINE): one offline scan a message, with its scan_id
//     as Nats-Msg-Id, reconciled as POST /v1/scans/offline does.

// OfflineOptions configure StartOffline. Conn, Engine and Public are
// required.
type OfflineOptions struct {
	Conn   *nats.Conn
	Site   string // empty: the engine's configuration's
	Engine *engine.Engine
	Public ed25519.PublicKey
	Logger *slog.Logger
	// Replicas of the stream in a clustered JetStream (default 1).
	Replicas int
}

// ManifestRequest is the request on tafweej.<site>.gate.<gate>.manifest.
// Every field is optional: date defaults to today; with version equal to
// the current one the reply is {"version", "not_modified": true}.
type ManifestRequest struct {
	Date    string `json:"date,omitempty"`
	Device  string `json:"device,omitempty"`
	Waiting int    `json:"waiting,omitempty"`
	Version string `json:"version,omitempty"`
}

// NotModified is the manifest reply when the device's version is current.
type NotModified struct {
	Version     string `json:"version"`
	NotModified bool   `json:"not_modified"`
}

// OfflineMessage is one message on tafweej.<site>.gate.<gate>.offline.
type OfflineMessage struct {
	Device  string `json:"device"`
	ScanID  string `json:"scan_id"`
	Ticket  string `json:"ticket,omitempty"`
	Booking string `json:"booking,omitempty"`
	Count   int    `json:"count"`
	At      string `json:"at"`
}

// Offline serves the offline gates' subjects.
type Offline struct {
	o    OfflineOptions
	log  *slog.Logger
	sub  *nats.Subscription
	cc   jetstream.ConsumeContext
	once sync.Once
}

const (
	offlineDurable = "tafweej-offline"
	manifestQueue  = "tafweej-manifest"
)

// OfflineStream is the JetStream stream of a site's offline scans.
func OfflineStream(site string) string { return subjects.For(site).OfflineStream() }

// OfflineSubject is the subject a device at gate publishes its offline
// scans to; ManifestSubject the one it asks its manifest on.
func OfflineSubject(site, gate string) string { return subjects.For(site).GateOffline(gate) }

// ManifestSubject is the subject a device at gate asks its manifest on.
func ManifestSubject(site, gate string) string { return subjects.For(site).GateManifest(gate) }

// StartOffline ensures the offline stream and its durable consumer and
// starts the manifest responder. ctx bounds the setup only.
func StartOffline(ctx context.Context, o OfflineOptions) (*Offline, error) {
	if o.Conn == nil || o.Engine == nil || len(o.Public) != ed25519.PublicKeySize {
		return nil, errors.New("sensors: OfflineOptions.Conn, Engine and an Ed25519 Public key are required")
	}
	if o.Site == "" {
		o.Site = o.Engine.Config().Site
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	f := &Offline{o: o, log: o.Logger.With("component", "offline-gates")}
	js, err := jetstream.New(o.Conn)
	if err != nil {
		return nil, fmt.Errorf("sensors: jetstream: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stream := OfflineStream(o.Site)
	if _, err := js.CreateOrUpdateStream(sctx, jetstream.StreamConfig{
		Name: stream, Subjects: []string{OfflineSubject(o.Site, "*")},
		Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld,
		MaxAge: 7 * 24 * time.Hour, Duplicates: 48 * time.Hour, Replicas: o.Replicas,
	}); err != nil {
		return nil, fmt.Errorf("sensors: stream %s: %w", stream, err)
	}
	cons, err := js.CreateOrUpdateConsumer(sctx, stream, jetstream.ConsumerConfig{
		Durable: offlineDurable, DeliverPolicy: jetstream.DeliverAllPolicy, AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: 30 * time.Second, MaxAckPending: 1, // in order
	})
	if err != nil {
		return nil, fmt.Errorf("sensors: consumer %s: %w", offlineDurable, err)
	}
	if f.cc, err = cons.Consume(f.onScan); err != nil {
		return nil, fmt.Errorf("sensors: consume %s: %w", stream, err)
	}
	if f.sub, err = o.Conn.QueueSubscribe(ManifestSubject(o.Site, "*"), manifestQueue, f.onManifest); err != nil {
		f.cc.Stop()
		return nil, fmt.Errorf("sensors: subscribe manifests: %w", err)
	}
	return f, nil
}

// Stop stops serving.
func (f *Offline) Stop() {
	f.once.Do(func() {
		f.sub.Unsubscribe()
		f.cc.Stop()
	})
}

// gateOf is the <gate> token of tafweej.<site>.gate.<gate>.<kind>.
func gateOf(subject string) string {
	parts := strings.Split(subject, ".")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

func (f *Offline) onManifest(m *nats.Msg) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reply := func(v any) {
		data, _ := json.Marshal(v)
		m.Respond(data)
	}
	fail := func(code, format string, args ...any) {
		reply(api.ErrorResponse{Error: api.Error{Code: code, Message: fmt.Sprintf(format, args...)}})
	}
	gate := gateOf(m.Subject)
	if _, ok := f.o.Engine.Config().Gate(gate); !ok {
		fail(scheduler.CodeNotFound, "unknown gate %q", gate)
		return
	}
	var req ManifestRequest
	if len(bytes.TrimSpace(m.Data)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(m.Data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			fail(scheduler.CodeInvalid, "the request is not a manifest request {\"date\",\"device\",\"waiting\",\"version\"}: %v", err)
			return
		}
	}
	if req.Device != "" {
		if !api.ValidDevice(req.Device) || req.Waiting < 0 {
			fail(scheduler.CodeInvalid, "device %q is not a device id (1 to 64 letters, digits, '-', '_' or '.') or waiting %d is negative", req.Device, req.Waiting)
			return
		}
		if _, err := f.o.Engine.Do(ctx, scheduler.GateSeen{Gate: gate, Device: req.Device, Waiting: req.Waiting}); err != nil {
			return // no reply: the device asks again
		}
	}
	man, err := api.ManifestOf(ctx, f.o.Engine, f.o.Public, gate, req.Date)
	var se *scheduler.Error
	switch {
	case errors.As(err, &se):
		fail(se.Code, "%s", se.Message)
	case err != nil:
		return // engine unavailable: no reply
	case req.Version == man.Version:
		reply(NotModified{Version: man.Version, NotModified: true})
	default:
		reply(man)
	}
}

// onScan reconciles one offline scan. A message that can never be
// recorded (malformed) is terminated; one the engine could not take now is
// redelivered.
func (f *Offline) onScan(msg jetstream.Msg) {
	gate := gateOf(msg.Subject())
	var in OfflineMessage
	dec := json.NewDecoder(bytes.NewReader(msg.Data()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || !api.ValidDevice(in.Device) {
		f.log.Warn("offline scan refused: not an offline scan message", "subject", msg.Subject(), "err", err)
		msg.Term()
		return
	}
	if _, ok := f.o.Engine.Config().Gate(gate); !ok {
		f.log.Warn("offline scan refused: unknown gate", "gate", gate)
		msg.Term()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := api.OfflineReconcile(ctx, f.o.Engine, f.o.Public, api.OfflineBatch{Gate: gate, Device: in.Device,
		Scans: []api.OfflineRecord{{ScanID: in.ScanID, Ticket: in.Ticket, Booking: in.Booking, Count: in.Count, At: in.At}}})
	if err != nil {
		var se *scheduler.Error
		if errors.As(err, &se) {
			msg.Term()
			return
		}
		msg.NakWithDelay(time.Second)
		return
	}
	if o := rep.Scans[0]; o.Result == scheduler.OfflineRefused {
		f.log.Warn("offline scan refused", "gate", gate, "device", in.Device, "scan_id", in.ScanID, "reason", o.Reason)
	}
	msg.Ack()
}
