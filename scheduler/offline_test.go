package scheduler

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// bookAt books a party of n on 1 December 2026 and returns the booking.
func bookAt(t *testing.T, r *recorder, id string, n int) *Booking {
	t.Helper()
	res := r.do(t, testNow(r.s.cfg), Book{ID: id, Operator: "op-a", Request: BookingRequest{
		Date: "2026-12-01", Route: "main", PartySize: n, Window: Window{hm(8, 0), hm(8, 10)}}})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	return res.Booking
}

func TestTwoOfflineGatesOverAdmitOneParty(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	b := bookAt(t, r, "bk_1", 10)
	at := time.Date(2026, 12, 1, 8, 5, 0, 0, cfg.Location())
	now := at.Add(30 * time.Minute)

	vc := OfflineScans{Gate: "visitor-centre", Device: "vc-1", Scans: []OfflineScan{{ScanID: "a1", Booking: b.ID, Count: 10, At: at}}}
	lp := OfflineScans{Gate: "little-petra", Device: "lp-1", Scans: []OfflineScan{{ScanID: "b1", Booking: b.ID, Count: 2, At: at.Add(time.Minute)}}}
	r1 := r.do(t, now, vc)
	if r1.Err != nil || r1.Offline.Recorded != 1 || r1.Offline.Conflicts[ConflictOverAdmission] != 0 {
		t.Fatalf("first gate: %+v %v", r1.Offline, r1.Err)
	}
	r2 := r.do(t, now, lp)
	if r2.Err != nil || r2.Offline.Conflicts[ConflictOverAdmission] != 1 {
		t.Fatalf("second gate: over-admission not reported: %+v %v", r2.Offline, r2.Err)
	}
	cf := r2.Offline.Scans[0].Conflicts[0]
	if cf.Excess != 2 || !reflect.DeepEqual(cf.Others, []string{"visitor-centre/vc-1"}) {
		t.Fatalf("conflict = %+v, want 2 beyond the party, also admitted by visitor-centre/vc-1", cf)
	}
	if got := r.s.bookings.at(b.ID).Admitted; got != 12 {
		t.Fatalf("admitted = %d, want 12 (every visitor who entered)", got)
	}
	inside := 0
	for _, z := range r.s.Occupancy(now) {
		inside += z.Inside
	}
	if inside != 12 {
		t.Fatalf("occupancy counts %d inside, want 12", inside)
	}

	// A retried upload answers the same and changes nothing.
	n := len(r.effects)
	again := r.do(t, now.Add(time.Minute), lp)
	if !reflect.DeepEqual(again.Offline.Scans, r2.Offline.Scans) {
		t.Fatalf("retry answered %+v, first %+v", again.Offline.Scans, r2.Offline.Scans)
	}
	if got := r.s.bookings.at(b.ID).Admitted; got != 12 {
		t.Fatalf("after a retried upload admitted = %d, want 12", got)
	}
	for _, e := range r.effects[n:] {
		if _, ok := e.(PutBooking); ok {
			t.Fatal("a retried upload wrote the booking again")
		}
	}
	if st := r.s.OfflineStatus(); st.Scans != 2 || st.Conflicts[ConflictOverAdmission] != 1 {
		t.Fatalf("status = %+v, want 2 scans and 1 over-admission", st)
	}
}

func TestOfflineScanSurvivesRestoreIdempotent(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	b := bookAt(t, r, "bk_1", 4)
	at := time.Date(2026, 12, 1, 8, 5, 0, 0, cfg.Location())
	up := OfflineScans{Gate: "visitor-centre", Device: "vc-1", Scans: []OfflineScan{{ScanID: "a1", Booking: b.ID, Count: 3, At: at}}}
	first := r.do(t, at.Add(time.Hour), up)
	s2, err := Restore(cfg, r.s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	res, eff := s2.Apply(at.Add(2*time.Hour), up)
	if len(eff) != 0 || !reflect.DeepEqual(res.Offline.Scans, first.Offline.Scans) {
		t.Fatalf("after a restart the retry answered %+v with %d effects, want the first answer and none", res.Offline.Scans, len(eff))
	}
	if s2.bookings.at(b.ID).Admitted != 3 {
		t.Fatalf("admitted = %d, want 3", s2.bookings.at(b.ID).Admitted)
	}
}

func TestOfflineScanAfterOnlineAdmissionIsNotCountedTwice(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	b := bookAt(t, r, "bk_1", 4)
	at := time.Date(2026, 12, 1, 8, 5, 0, 0, cfg.Location())
	// The online answer was lost; the gate decided offline with the same scan id.
	r.do(t, at, Scan{Gate: "visitor-centre", Ticket: Ticket{Booking: b.ID}, Count: 4, ScanID: "a1", Device: "vc-1"})
	res := r.do(t, at.Add(time.Minute), OfflineScans{Gate: "visitor-centre", Device: "vc-1",
		Scans: []OfflineScan{{ScanID: "a1", Booking: b.ID, Count: 4, At: at}}})
	if res.Offline.Duplicates != 1 || r.s.bookings.at(b.ID).Admitted != 4 {
		t.Fatalf("report %+v, admitted %d; want a duplicate and 4 admitted", res.Offline, r.s.bookings.at(b.ID).Admitted)
	}
}

func TestOfflineConflictsCancelledAndClosed(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	b1 := bookAt(t, r, "bk_1", 4)
	b2 := bookAt(t, r, "bk_2", 4)
	r.do(t, testNow(cfg), Cancel{ID: b1.ID, Reason: "operator"})
	at := time.Date(2026, 12, 1, 8, 5, 0, 0, cfg.Location())
	r.do(t, at.Add(-time.Minute), Close{ID: "cl1", Zones: []string{"siq"}, Reason: "flood"})
	res := r.do(t, at.Add(time.Minute), OfflineScans{Gate: "visitor-centre", Device: "vc-1", Scans: []OfflineScan{
		{ScanID: "1", Booking: b1.ID, Count: 1, At: at},
		{ScanID: "2", Booking: b2.ID, Count: 1, At: at},
		{ScanID: "3", Booking: "bk_nope", Count: 1, At: at},
		{ScanID: "4", Booking: b2.ID, Count: 1, At: at.Add(time.Hour)},
		{ScanID: "5", Booking: b2.ID, Count: 1, At: at.Add(-10 * time.Minute)},
	}})
	// The closure cancelled bk_2 too (no room elsewhere): its two scans
	// admitted a cancelled booking; only the one after the closure began
	// entered a closed zone.
	want := map[string]int{ConflictOverAdmission: 0, ConflictCancelledAdmitted: 3, ConflictClosedZoneEntered: 2}
	if !reflect.DeepEqual(res.Offline.Conflicts, want) || res.Offline.Refused != 2 {
		t.Fatalf("report %+v, want conflicts %v and 2 refused (unknown booking, time in the future)", res.Offline, want)
	}
}

func TestGateDeviceGoesOfflineWhenSilentAndBack(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	at := time.Date(2026, 12, 1, 8, 5, 0, 0, cfg.Location())
	r.do(t, at, GateSeen{Gate: "visitor-centre", Device: "vc-1"})
	r.effects = nil
	r.do(t, at.Add(DeviceSilence+time.Second), Tick{})
	if d := r.s.OfflineStatus().Devices[0]; d.State != DeviceOffline || !d.OfflineSince.Equal(at) {
		t.Fatalf("device = %+v, want offline since %s", d, at)
	}
	r.do(t, at.Add(time.Minute), GateSeen{Gate: "visitor-centre", Device: "vc-1", Waiting: 3})
	var kinds []string
	for _, e := range r.effects {
		if ev, ok := e.(Event); ok && (ev.Kind == EventGateOffline || ev.Kind == EventGateOnline) {
			kinds = append(kinds, ev.Kind)
		}
	}
	if !reflect.DeepEqual(kinds, []string{EventGateOffline, EventGateOnline}) {
		t.Fatalf("events %v, want gate.offline then gate.online", kinds)
	}
	if d := r.s.OfflineStatus().Devices[0]; d.State != DeviceOnline || d.Waiting != 3 {
		t.Fatalf("device = %+v, want online with 3 waiting", d)
	}
}

func TestManifestVersionChangesWithAdmissions(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	b := bookAt(t, r, "bk_1", 4)
	at := time.Date(2026, 12, 1, 8, 5, 0, 0, cfg.Location())
	m1, err := r.s.Manifest(at, "visitor-centre", "2026-12-01")
	if err != nil || len(m1.Bookings) != 1 || m1.Bookings[0].PartySize != 4 {
		t.Fatalf("manifest %+v, %v", m1, err)
	}
	m2, _ := r.s.Manifest(at, "visitor-centre", "2026-12-01")
	if m1.Version != m2.Version {
		t.Fatal("the version changed with nothing else")
	}
	r.do(t, at, Scan{Gate: "visitor-centre", Ticket: Ticket{Booking: b.ID}, Count: 1, ScanID: "x", Device: "d"})
	m3, _ := r.s.Manifest(at, "visitor-centre", "2026-12-01")
	if m3.Version == m1.Version || m3.Bookings[0].Admitted != 1 {
		t.Fatalf("after an admission: %+v (version %s, was %s)", m3.Bookings, m3.Version, m1.Version)
	}
	lp, _ := r.s.Manifest(at, "little-petra", "2026-12-01")
	if len(lp.Bookings) != 0 || !reflect.DeepEqual(lp.Elsewhere, []string{b.ID}) {
		t.Fatalf("little-petra manifest %+v, want the booking elsewhere only", lp)
	}
}

// TestManifestFiguresFullDay measures the manifest of the busiest gate on
// a fully booked Petra day (TAFWEEJ_FIGURES=1; skipped otherwise).
func TestManifestFiguresFullDay(t *testing.T) {
	if os.Getenv("TAFWEEJ_FIGURES") == "" {
		t.Skip("set TAFWEEJ_FIGURES=1 to measure")
	}
	cfg := petra(t)
	s := New(cfg)
	now := testNow(cfg)
	rng := rand.New(rand.NewPCG(1, 2))
	routes := []string{"main", "monastery", "high-place"}
	maxParty := 30
	if v, err := strconv.Atoi(os.Getenv("TAFWEEJ_FIGURES_PARTY")); err == nil && v > 0 {
		maxParty = v // smaller parties: more bookings in the same day
	}
	refused, n := 0, 0
	for refused < 500 {
		from := hm(6, 0) + rng.IntN(40)*15
		res, _ := s.Apply(now, Book{ID: fmt.Sprintf("bk_%08x%08x", rng.Uint32(), n), Operator: fmt.Sprintf("op-%d", rng.IntN(40)),
			Request: BookingRequest{Date: "2026-12-01", Route: routes[rng.IntN(3)], PartySize: 1 + rng.IntN(maxParty), Window: Window{from, from + 120}}})
		if res.Err != nil {
			refused++
			continue
		}
		n++
	}
	start := time.Now()
	const rounds = 20
	var m Manifest
	for range rounds {
		m, _ = s.Manifest(now, "visitor-centre", "2026-12-01")
	}
	took := time.Since(start) / rounds
	data, _ := json.Marshal(m)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	visitors := 0
	for _, b := range m.Bookings {
		visitors += b.PartySize
	}
	t.Logf("full day: %d bookings, %d at visitor-centre (%d visitors); manifest built in %s, %d bytes of JSON (%d gzipped)",
		n, len(m.Bookings), visitors, took, len(data), gz.Len())
}
