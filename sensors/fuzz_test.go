package sensors

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/internal/testenv/stack"
	"github.com/tafweej/tafweej/scheduler"
)

// Fuzz tests of every decoder of incoming messages. The seed corpus is in
// testdata/fuzz/<FuzzName>/; run one with e.g.
//
//	go test ./sensors -run '^$' -fuzz FuzzDecodeCounter -fuzztime 1m

var knownReasons = []string{reasonTooLarge, reasonBadJSON, reasonUnknownField, reasonWrongType, reasonMissingField,
	reasonOutOfRange, reasonBadTime, reasonBadSubject, reasonSubjectMismatch, reasonMsgIDMismatch, reasonUnknownGate,
	reasonUnknownSensor, reasonUnknownZone, reasonWrongZone, reasonUnknownKind, reasonBadTicket, reasonBadSignature,
	reasonNoReply, reasonRejected}

// mustBeInvalid checks that a decoder's error is a counted, explained
// refusal.
func mustBeInvalid(t *testing.T, err error) {
	t.Helper()
	var ie *invalidError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v (%T) is not an invalidError", err, err)
	}
	if !slices.Contains(knownReasons, ie.Reason) {
		t.Fatalf("reason %q is not one of the bounded set", ie.Reason)
	}
	if ie.Msg == "" || headerSafe(ie.Msg) == "" {
		t.Fatal("empty error message")
	}
}

func FuzzDecodeScan(f *testing.F) {
	f.Add([]byte(`{"ticket": "TFW1.abc.def", "count": 12, "scan_id": "dev7-000123", "device": "dev7", "at": "2026-12-01T08:14:05+03:00"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if fast, ok := decodeScanFast(data); ok {
			// The fast decoder accepts only what the strict one decodes
			// to the same request.
			var strict scheduler.ScanRequest
			if err := decodeStrict(data, maxScanBytes, "scan request", &strict); err != nil || strict != fast {
				t.Fatalf("fast decoder: %+v, strict: %+v (%v)", fast, strict, err)
			}
		}
		req, err := decodeScan(data)
		if err != nil {
			mustBeInvalid(t, err)
			return
		}
		if err := checkScan(req); err != nil {
			mustBeInvalid(t, err)
			return
		}
		if strings.TrimSpace(req.Ticket) == "" || req.Count < 0 || len(req.ScanID) > maxIDLen || len(req.Device) > maxIDLen {
			t.Fatalf("accepted %+v", req)
		}
		// What was accepted reads back the same.
		b, _ := json.Marshal(req)
		if len(b) <= maxScanBytes {
			again, err := decodeScan(b)
			if err != nil || again != req {
				t.Fatalf("round trip: %+v → %s → %+v, %v", req, b, again, err)
			}
		}
	})
}

func FuzzDecodeCounter(f *testing.F) {
	f.Add("tafweej.petra.counter.siq.siq-n1", "siq-n1:b41c:9911",
		[]byte(`{"sensor": "siq-n1", "zone": "siq", "boot": "b41c", "seq": 9911, "in_total": 18342, "out_total": 17790, "at": "2026-12-01T10:02:00+03:00"}`))
	cfg := stack.Petra(f)
	subj := subjects.For("petra")
	f.Fuzz(func(t *testing.T, subject, msgID string, data []byte) {
		r, err := decodeCounter(subj, subject, msgID, data)
		if err != nil {
			mustBeInvalid(t, err)
			return
		}
		if subject != subj.Counter(r.Zone, r.Sensor) {
			t.Fatalf("accepted %+v from subject %q", r, subject)
		}
		if r.Sensor == "" || r.Zone == "" || r.Boot == "" || r.In < 0 || r.Out < 0 || r.At.IsZero() {
			t.Fatalf("accepted %+v", r)
		}
		if msgID != "" && msgID != counterMsgID(r.Sensor, r.Boot, r.Seq) {
			t.Fatalf("accepted msg id %q for %+v", msgID, r)
		}
		if err := validateCounter(cfg, r); err != nil {
			mustBeInvalid(t, err)
			return
		}
		if sc, _ := cfg.Sensor(r.Sensor); sc.Zone != r.Zone {
			t.Fatalf("validated %+v", r)
		}
		// The scheduler takes any validated reading without panicking.
		scheduler.New(cfg).Apply(r.At, r)
	})
}

func FuzzDecodeAlert(f *testing.F) {
	f.Add([]byte(`{"kind": "flood_warning", "zones": ["siq"], "severity": "high", "at": "2026-12-01T13:00:00+03:00"}`))
	cfg := stack.Petra(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := decodeAlert(data)
		if err != nil {
			mustBeInvalid(t, err)
			return
		}
		if a.Kind == "" || a.At.IsZero() || !slices.Contains([]string{"low", "medium", "high"}, a.Severity) || slices.Contains(a.Zones, "") {
			t.Fatalf("accepted %+v", a)
		}
		if err := validateAlert(cfg, a); err != nil {
			mustBeInvalid(t, err)
			return
		}
		s := scheduler.New(cfg)
		res, effects := s.Apply(a.At, scheduler.Alert{ID: "al_fuzz", Kind: a.Kind, Zones: a.Zones, Severity: a.Severity})
		if res.Err != nil && len(effects) > 0 {
			t.Fatalf("refused alert %+v has effects", a)
		}
	})
}
