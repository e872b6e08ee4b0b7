package api

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
)

func TestManifestIsCheapToPollAndChangesWithAdmissions(t *testing.T) {
	h := newHarness(t, nil)
	op := h.key(auth.RoleOperator, "desert-tours", nil)
	b := h.book(op, BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 12, Window: Window{"09:00", "10:00"}})
	h.clock.Set(time.Date(2026, 12, 1, 9, 2, 0, 0, testenv.Amman))
	vc := h.key(auth.RoleGate, "", []string{"visitor-centre"})

	path := "/v1/gates/visitor-centre/manifest?date=2026-12-01"
	r := h.do("GET", path, vc, nil)
	if r.code != 200 {
		t.Fatalf("GET manifest: %d %s", r.code, r.body)
	}
	var m GateManifest
	r.decode(t, &m)
	if len(m.Bookings) != 1 || m.Bookings[0].Booking != b.ID || m.Bookings[0].PartySize != 12 || m.Bookings[0].Admitted != 0 {
		t.Fatalf("manifest bookings %+v, want %s with 12, none admitted", m.Bookings, b.ID)
	}
	if key, _ := base64.RawURLEncoding.DecodeString(m.TicketKey.Key); !bytes.Equal(key, h.pub) {
		t.Fatalf("manifest ticket key %q is not the signer's", m.TicketKey.Key)
	}
	etag := r.header.Get("ETag")
	if etag != `"`+m.Version+`"` {
		t.Fatalf("ETag %q, version %q", etag, m.Version)
	}
	if r := h.do("GET", path, vc, nil, "If-None-Match: "+etag); r.code != http.StatusNotModified || len(r.body) != 0 {
		t.Fatalf("unchanged manifest with If-None-Match: %d %q, want 304 and no body", r.code, r.body)
	}
	if r := h.do("GET", "/v1/gates/little-petra/manifest", vc, nil); r.code != 403 {
		t.Fatalf("another gate's manifest with a visitor-centre key: %d, want 403", r.code)
	}
	if r := h.do("GET", path, op, nil); r.code != 403 {
		t.Fatalf("manifest with an operator key: %d, want 403", r.code)
	}
	var k TicketKey
	kr := h.do("GET", "/v1/tickets/key", vc, nil)
	kr.decode(t, &k)
	if k != m.TicketKey || k.Algorithm != "Ed25519" {
		t.Fatalf("GET /v1/tickets/key = %+v, manifest has %+v", k, m.TicketKey)
	}

	up := h.do("POST", "/v1/scans/offline", vc, OfflineBatch{Gate: "visitor-centre", Device: "vc-1",
		Scans: []OfflineRecord{{ScanID: "1", Ticket: b.Ticket, Count: 3, At: "2026-12-01T09:01:00+03:00"}}})
	if up.code != 200 {
		t.Fatalf("upload: %d %s", up.code, up.body)
	}
	r = h.do("GET", path, vc, nil, "If-None-Match: "+etag)
	if r.code != 200 {
		t.Fatalf("manifest after an admission with the old ETag: %d, want 200", r.code)
	}
	r.decode(t, &m)
	if m.Bookings[0].Admitted != 3 || r.header.Get("ETag") == etag {
		t.Fatalf("after an admission: admitted %d, ETag %s (was %s)", m.Bookings[0].Admitted, r.header.Get("ETag"), etag)
	}
}

func TestOfflineUploadsFromTwoGatesReportOverAdmission(t *testing.T) {
	h := newHarness(t, nil)
	op := h.key(auth.RoleOperator, "desert-tours", nil)
	b := h.book(op, BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 12, Window: Window{"09:00", "10:00"}})
	h.clock.Set(time.Date(2026, 12, 1, 9, 30, 0, 0, testenv.Amman))
	gate := h.key(auth.RoleGate, "", nil)

	forged := b.Ticket[:len(b.Ticket)-4] + "AAAA"
	vc := OfflineBatch{Gate: "visitor-centre", Device: "vc-1", Scans: []OfflineRecord{
		{ScanID: "vc-1", Ticket: b.Ticket, Count: 12, At: "2026-12-01T09:05:00+03:00"},
		{ScanID: "vc-2", Ticket: forged, Count: 1, At: "2026-12-01T09:06:00+03:00"},
	}}
	lp := OfflineBatch{Gate: "little-petra", Device: "lp-1", Scans: []OfflineRecord{
		{ScanID: "lp-1", Booking: b.ID, Count: 2, At: "2026-12-01T09:10:00+03:00"},
	}}
	var rep scheduler.OfflineReport
	r := h.do("POST", "/v1/scans/offline", gate, vc)
	r.decode(t, &rep)
	if rep.Recorded != 1 || rep.Refused != 1 || rep.Scans[1].Reason != scheduler.ReasonInvalidSignature {
		t.Fatalf("visitor-centre upload: %s", r.body)
	}
	first := h.do("POST", "/v1/scans/offline", gate, lp)
	first.decode(t, &rep)
	if rep.Conflicts[scheduler.ConflictOverAdmission] != 1 || !strings.Contains(rep.Scans[0].Conflicts[0].Message.EN, "visitor-centre/vc-1") {
		t.Fatalf("little-petra upload did not report the over-admission: %s", first.body)
	}
	// Retried: the same answer, nothing counted twice.
	again := h.do("POST", "/v1/scans/offline", gate, lp)
	if again.code != 200 || !bytes.Equal(again.body, first.body) {
		t.Fatalf("retried upload answered\n%s\nfirst\n%s", again.body, first.body)
	}
	var got Booking
	h.do("GET", "/v1/bookings/"+b.ID, op, nil).decode(t, &got)
	if got.Admitted != 14 {
		t.Fatalf("booking admitted %d, want 14", got.Admitted)
	}
	var st Status
	h.do("GET", "/v1/status", h.opsKey, nil).decode(t, &st)
	if st.Evacuation.Inside != 14 {
		t.Fatalf("status counts %d inside, want 14 (everyone who entered)", st.Evacuation.Inside)
	}
	if st.Offline.Scans != 2 || st.Offline.Conflicts[scheduler.ConflictOverAdmission] != 1 || len(st.Offline.Devices) != 2 {
		t.Fatalf("status offline = %+v", st.Offline)
	}
	want := `
# HELP tafweej_offline_conflicts_total Conflicts found reconciling offline gate scans since the service started, by kind.
# TYPE tafweej_offline_conflicts_total counter
tafweej_offline_conflicts_total{kind="cancelled_admitted"} 0
tafweej_offline_conflicts_total{kind="closed_zone_entered"} 0
tafweej_offline_conflicts_total{kind="over_admission"} 1
# HELP tafweej_offline_scans_total Offline gate scans recorded by reconciliation since the service started.
# TYPE tafweej_offline_scans_total counter
tafweej_offline_scans_total 2
`
	if err := testutil.GatherAndCompare(h.reg, strings.NewReader(want), "tafweej_offline_scans_total", "tafweej_offline_conflicts_total"); err != nil {
		t.Error(err)
	}
}

func TestOfflineUploadRefusesAnotherGatesKeyAndBadBatches(t *testing.T) {
	h := newHarness(t, nil)
	vc := h.key(auth.RoleGate, "", []string{"visitor-centre"})
	for _, c := range []struct {
		name, body string
		code       int
		field      string
	}{
		{"other gate", `{"gate":"little-petra","device":"d","scans":[]}`, 403, "gate"},
		{"no device", `{"gate":"visitor-centre","scans":[]}`, 400, "device"},
		{"unknown field", `{"gate":"visitor-centre","device":"d","scans":[{"scan_id":"1","booking":"b","at":"2026-12-01T09:00:00+03:00","seat":1}]}`, 400, "seat"},
	} {
		r := h.do("POST", "/v1/scans/offline", vc, c.body)
		if r.code != c.code || r.errorBody(t).Field != c.field {
			t.Errorf("%s: %d %s, want %d on field %q", c.name, r.code, r.body, c.code, c.field)
		}
	}
}

// TestOfflineUploadRateHTTP measures POST /v1/scans/offline with batches
// of MaxOfflineBatch (TAFWEEJ_OFFLINE_RATE=N scans; skipped otherwise).
func TestOfflineUploadRateHTTP(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TAFWEEJ_OFFLINE_RATE"))
	if n <= 0 {
		t.Skip("set TAFWEEJ_OFFLINE_RATE=N to measure the upload of N offline scans")
	}
	h := newHarness(t, nil)
	op := h.key(auth.RoleOperator, "desert-tours", nil)
	b := h.book(op, BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 12, Window: Window{"09:00", "10:00"}})
	h.clock.Set(time.Date(2026, 12, 1, 9, 30, 0, 0, testenv.Amman))
	gate := h.key(auth.RoleGate, "", nil)
	start := time.Now()
	for i := 0; i < n; i += MaxOfflineBatch {
		batch := OfflineBatch{Gate: "visitor-centre", Device: "rate"}
		for j := i; j < min(n, i+MaxOfflineBatch); j++ {
			batch.Scans = append(batch.Scans, OfflineRecord{ScanID: strconv.Itoa(j), Ticket: b.Ticket, Count: 1, At: "2026-12-01T09:05:00+03:00"})
		}
		if r := h.do("POST", "/v1/scans/offline", gate, batch); r.code != 200 {
			t.Fatalf("batch at %d: %d %s", i, r.code, r.body)
		}
	}
	took := time.Since(start)
	t.Logf("%d offline scans over HTTP in batches of %d: %s, %.0f scans/s", n, MaxOfflineBatch, took, float64(n)/took.Seconds())
}
