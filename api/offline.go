package api

import (
	"context"
	"encoding/base64"
	"errors"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/tickets"
)

// Offline gates (docs/offline-gates.md): the day's manifest a gate decides
// from when it cannot reach the service, the ticket key, and the
// reconciliation of the scans it made meanwhile. The rules of admission are
// the scheduler's (scheduler.DecideOffline, mirrored by the gate console).

// MaxOfflineBatch is the most scans one POST /v1/scans/offline may carry.
const MaxOfflineBatch = 200

// offlineRoutes are the endpoints of offline gates.
func (s *Server) offlineRoutes() []route {
	gates := []string{auth.RoleGate, auth.RoleOps}
	return []route{
		{"GET", "/v1/gates/{gate}/manifest", gates, s.manifest},
		{"GET", "/v1/tickets/key", gates, s.ticketKey},
		{"POST", "/v1/scans/offline", gates, s.offlineScans},
	}
}

// TicketKey is the answer of GET /v1/tickets/key.
type TicketKey struct {
	Algorithm string `json:"algorithm"` // Ed25519
	// Key is the raw 32-byte public key, base64url without padding (as
	// WebCrypto's importKey("raw", ...) takes it once decoded).
	Key string `json:"key"`
}

// GateManifest is the answer of GET /v1/gates/{gate}/manifest: the
// scheduler's manifest, the ticket key, and a version covering both.
type GateManifest struct {
	scheduler.Manifest
	TicketKey TicketKey `json:"ticket_key"`
	// At is when the manifest was made (the service's clock).
	At time.Time `json:"at"`
}

func (s *Server) publicKey() TicketKey {
	return TicketKey{Algorithm: "Ed25519", Key: base64.RawURLEncoding.EncodeToString(s.signer.Public())}
}

// ticketKey: GET /v1/tickets/key.
func (s *Server) ticketKey(w http.ResponseWriter, _ *http.Request, _ *principal) *apiError {
	writeJSON(w, http.StatusOK, s.publicKey())
	return nil
}

// gateAllowed refuses a gate key at a gate that is not its own.
func gateAllowed(p *principal, gate string) *apiError {
	if p.Role == auth.RoleGate && len(p.Gates) > 0 && !slices.Contains(p.Gates, gate) {
		return errf(http.StatusForbidden, CodeForbidden, "gate", "this key scans at %s only, not at %q", strings.Join(p.Gates, ", "), gate)
	}
	return nil
}

// manifest: GET /v1/gates/{gate}/manifest?date=YYYY-MM-DD[&device=D&waiting=N].
// An If-None-Match with the current version answers 304. With device, the
// call also tells the control room the device is online (and how many
// offline scans it still has to upload).
func (s *Server) manifest(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	gate := r.PathValue("gate")
	if _, ok := s.cfg.Gate(gate); !ok {
		return errf(http.StatusNotFound, scheduler.CodeNotFound, "gate", "unknown gate %q (known: %s)", gate, s.gateList())
	}
	if e := gateAllowed(p, gate); e != nil {
		return e
	}
	q := r.URL.Query()
	date, device := q.Get("date"), q.Get("device")
	waiting := 0
	if v := q.Get("waiting"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return badRequest("waiting", "waiting %q is not a count: the offline scans not yet uploaded, 0 or more", v)
		}
		waiting = n
	}
	if device != "" && !validDevice(device) {
		return badRequest("device", "device %q is not a device id: 1 to 64 letters, digits, '-', '_' or '.'", device)
	}
	if device != "" {
		if e := fromEngine(s.eng.Do(r.Context(), scheduler.GateSeen{Gate: gate, Device: device, Waiting: waiting})); e != nil {
			return e
		}
	}
	out, err := ManifestOf(r.Context(), s.eng, s.signer.Public(), gate, date)
	if err != nil {
		var se *scheduler.Error
		if errors.As(err, &se) {
			return fromRefusal(se)
		}
		return engineError(err)
	}
	etag := `"` + out.Version + `"`
	w.Header().Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == etag || inm == "*" || strings.Contains(inm, etag)) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// ManifestOf is the manifest of gate for date ("" for today) with the
// ticket key pub, as GET /v1/gates/{gate}/manifest and the NATS manifest
// responder answer it. A refusal is a *scheduler.Error.
func ManifestOf(ctx context.Context, eng *engine.Engine, pub []byte, gate, date string) (GateManifest, error) {
	var out GateManifest
	var merr error
	loc := eng.Config().Location()
	err := eng.Read(ctx, func(st *scheduler.State, now time.Time) {
		if date == "" {
			date = now.In(loc).Format(time.DateOnly)
		}
		out.Manifest, merr = st.Manifest(now, gate, date)
		out.At = now.In(loc)
	})
	if err != nil {
		return out, err
	}
	if merr != nil {
		return out, merr
	}
	out.TicketKey = TicketKey{Algorithm: "Ed25519", Key: base64.RawURLEncoding.EncodeToString(pub)}
	h := fnv.New64a()
	h.Write([]byte(out.Version + "|" + out.TicketKey.Key))
	out.Version = strconv.FormatUint(h.Sum64(), 36)
	for i := range out.Bookings {
		b := &out.Bookings[i]
		b.Wave, b.GraceFrom, b.GraceUntil = b.Wave.In(loc), b.GraceFrom.In(loc), b.GraceUntil.In(loc)
	}
	return out, nil
}

// ValidDevice reports whether d is a device id: 1 to 64 letters, digits,
// '-', '_' or '.'.
func ValidDevice(d string) bool { return validDevice(d) }

func validDevice(d string) bool {
	if d == "" || len(d) > 64 {
		return false
	}
	for _, c := range d {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// OfflineBatch is the body of POST /v1/scans/offline.
type OfflineBatch struct {
	Gate   string          `json:"gate"`
	Device string          `json:"device"`
	Scans  []OfflineRecord `json:"scans"`
}

// OfflineRecord is one offline admission: a ticket code (verified here) or
// a booking id, how many passed, and when.
type OfflineRecord struct {
	ScanID  string `json:"scan_id"`
	Ticket  string `json:"ticket,omitempty"`
	Booking string `json:"booking,omitempty"`
	Count   int    `json:"count"`
	At      string `json:"at"`
}

var offlineBody = body{fields: []string{"gate", "device", "scans"}}

// offlineScans: POST /v1/scans/offline.
func (s *Server) offlineScans(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	var in OfflineBatch
	if _, e := decode(r, offlineBody, &in); e != nil {
		return e
	}
	if _, ok := s.cfg.Gate(in.Gate); !ok {
		return badRequest("gate", "unknown gate %q (known: %s)", in.Gate, s.gateList())
	}
	if e := gateAllowed(p, in.Gate); e != nil {
		return e
	}
	if !validDevice(in.Device) {
		return badRequest("device", "device %q is not a device id: 1 to 64 letters, digits, '-', '_' or '.'", in.Device)
	}
	if len(in.Scans) > MaxOfflineBatch {
		return badRequest("scans", "%d scans in one batch; send at most %d a batch, in order", len(in.Scans), MaxOfflineBatch)
	}
	rep, err := OfflineReconcile(r.Context(), s.eng, s.signer.Public(), in)
	if err != nil {
		var se *scheduler.Error
		if errors.As(err, &se) {
			return fromRefusal(se)
		}
		return engineError(err)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// OfflineReconcile verifies a batch of offline scans and records them
// (OfflineScans). The NATS path shares it. A scan with a forged ticket, a
// bad time or neither or both of ticket and booking is refused in the
// report, in its place; the others are recorded.
func OfflineReconcile(ctx context.Context, eng *engine.Engine, pub []byte, in OfflineBatch) (*scheduler.OfflineReport, error) {
	type slot struct {
		refused *scheduler.OfflineOutcome
	}
	slots := make([]slot, len(in.Scans))
	cmd := scheduler.OfflineScans{Gate: in.Gate, Device: in.Device}
	for i, sc := range in.Scans {
		refuse := func(reason string) {
			slots[i].refused = &scheduler.OfflineOutcome{ScanID: sc.ScanID, Booking: sc.Booking, Result: scheduler.OfflineRefused, Reason: reason}
		}
		at, err := time.Parse(time.RFC3339, sc.At)
		if sc.ScanID == "" || len(sc.ScanID) > 128 || err != nil || (sc.Ticket == "") == (sc.Booking == "") || sc.Count < 0 {
			refuse(scheduler.ReasonBadRequest)
			continue
		}
		booking := sc.Booking
		if sc.Ticket != "" {
			t, err := tickets.Verify(pub, sc.Ticket)
			switch {
			case errors.Is(err, tickets.ErrSignature):
				refuse(scheduler.ReasonInvalidSignature)
				continue
			case err != nil:
				refuse(scheduler.ReasonUnknownTicket)
				continue
			}
			booking = t.Booking
		}
		count := sc.Count
		if count == 0 {
			count = 1
		}
		cmd.Scans = append(cmd.Scans, scheduler.OfflineScan{ScanID: sc.ScanID, Booking: booking, Count: count, At: at})
	}
	res, err := eng.Do(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if res.Err != nil {
		return nil, res.Err
	}
	rep := res.Offline
	loc := eng.Config().Location()
	recorded := rep.Scans
	rep.Scans = make([]scheduler.OfflineOutcome, 0, len(in.Scans))
	for _, sl := range slots {
		if sl.refused != nil {
			rep.Refused++
			rep.Scans = append(rep.Scans, *sl.refused)
			continue
		}
		o := recorded[0]
		recorded = recorded[1:]
		o.At = o.At.In(loc)
		rep.Scans = append(rep.Scans, o)
	}
	return rep, nil
}

// offlineCollector exports the scheduler's offline counts.
type offlineCollector struct {
	eng       *engine.Engine
	scans     *prometheus.Desc
	conflicts *prometheus.Desc
}

func newOfflineCollector(eng *engine.Engine) *offlineCollector {
	return &offlineCollector{eng: eng,
		scans: prometheus.NewDesc("tafweej_offline_scans_total",
			"Offline gate scans recorded by reconciliation since the service started.", nil, nil),
		conflicts: prometheus.NewDesc("tafweej_offline_conflicts_total",
			"Conflicts found reconciling offline gate scans since the service started, by kind.", []string{"kind"}, nil),
	}
}

func (c *offlineCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.scans; ch <- c.conflicts }

func (c *offlineCollector) Collect(ch chan<- prometheus.Metric) {
	var st scheduler.OfflineStatus
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.eng.Read(ctx, func(s *scheduler.State, _ time.Time) { st = s.OfflineStatus() }); err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.scans, prometheus.CounterValue, float64(st.Scans))
	for _, k := range scheduler.ConflictKinds {
		ch <- prometheus.MustNewConstMetric(c.conflicts, prometheus.CounterValue, float64(st.Conflicts[k]), k)
	}
}
