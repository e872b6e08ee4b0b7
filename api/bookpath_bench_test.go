package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/trace"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// A booking at one client is one synced write plus the service's own work
// (HTTP, the owner loop's turn, the answer). The disk's fsync time varies a
// lot on a shared machine, which hides that work in the bench's ratio; here
// the fsync is replaced by a steady stand-in, a blocking system call of
// fixed length (nanosleep, which like fsync holds its thread in the kernel),
// and Badger runs in memory, so that what is left is the service's work and
// its waits between goroutines:
//
//	go test -run X -bench BookingOneClientStandIn -count 6 ./api
//
// "limit" is the bench row's limit under the same stand-in: one in-memory
// transaction of one record plus the stand-in, one after the other;
// "booking" is POST /v1/bookings by one client, each waiting for its 201,
// with the stand-in in every commit. Their ns/op differ by what a booking
// costs beyond a synced write. "http-floor" is the same client against a
// handler that only answers a canned 201 (HTTP alone), "http-floor+stand-in"
// the same handler blocking in the stand-in first: the least an HTTP
// service durable before its answer can take. TAFWEEJ_STANDIN_US sets the
// stand-in's length (default 300 µs, a synced Badger write on the project
// machine). On a shared machine run them under `chrt -f 10` (a few
// seconds each) so that other processes' CPU time does not swamp the
// microseconds compared here.

// standIn is the fsync stand-in's length.
func standIn() time.Duration {
	us, _ := strconv.Atoi(os.Getenv("TAFWEEJ_STANDIN_US"))
	if us <= 0 {
		us = 300
	}
	return time.Duration(us) * time.Microsecond
}

// blockFor holds the thread in the kernel for d, as an fsync does.
func blockFor(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}

// syncStandIn commits to an in-memory store after the fsync stand-in.
type syncStandIn struct {
	store.Store
	d time.Duration
}

func (s *syncStandIn) Commit(effects []scheduler.Effect) error {
	blockFor(s.d)
	return s.Store.Commit(effects)
}

func BenchmarkBookingOneClientStandIn(b *testing.B) {
	d := standIn()
	b.Run("limit", func(b *testing.B) {
		st, err := store.Open(b.TempDir(), store.Options{InMemory: true})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		rec := scheduler.PutScan{Record: scheduler.ScanRecord{Gate: "g", At: storyNow}}
		b.ResetTimer()
		for i := range b.N {
			rec.Record.ScanID = "raw-" + strconv.Itoa(i)
			blockFor(d)
			if err := st.Commit([]scheduler.Effect{rec}); err != nil {
				b.Fatal(err)
			}
		}
	})
	httpFloor := func(b *testing.B, wait time.Duration) {
		// The same client and request against a handler that reads the
		// body and answers a canned 201 of a booking's size: HTTP alone;
		// with wait, the handler first blocks as long as the stand-in.
		answer := encodeAnswer(http.StatusCreated, Booking{ID: "bk_aaaaaaaaaaaaaaaa", Ticket: strings.Repeat("x", 160), Operator: "op-001", Date: "2026-12-01", Route: "main"})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			if wait > 0 {
				blockFor(wait)
			}
			answer.write(w)
		}))
		defer srv.Close()
		h := &harness{t: b, srv: srv}
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		defer client.CloseIdleConnections()
		first := time.Date(2026, 11, 30, 0, 0, 0, 0, testenv.Amman)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			date := first.AddDate(0, 0, (i/1000)%360).Format(time.DateOnly)
			req := BookingRequest{Date: date, Route: "main", PartySize: 1, Window: Window{"06:00", "15:00"}}
			r, err := h.try(client, "POST", "/v1/bookings", "tfw_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", req, fmt.Sprintf("Idempotency-Key: bench-%d", i))
			if err != nil || r.code != http.StatusCreated {
				b.Fatalf("request %d: %v %d %s", i, err, r.code, r.body)
			}
		}
	}
	b.Run("http-floor", func(b *testing.B) { httpFloor(b, 0) })
	b.Run("http-floor+stand-in", func(b *testing.B) { httpFloor(b, d) })
	b.Run("booking", func(b *testing.B) {
		st, err := store.Open(b.TempDir(), store.Options{InMemory: true})
		if err != nil {
			b.Fatal(err)
		}
		h := newBenchHarness(b, st, &syncStandIn{Store: st, d: d})
		const operators = 100
		keys := make([]string, operators)
		for i := range keys {
			keys[i] = h.key(auth.RoleOperator, fmt.Sprintf("op-%03d", i), nil)
		}
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		defer client.CloseIdleConnections()
		first := time.Date(2026, 11, 30, 0, 0, 0, 0, testenv.Amman)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			date := first.AddDate(0, 0, (i/1000)%360).Format(time.DateOnly)
			req := BookingRequest{Date: date, Route: "main", PartySize: 1, Window: Window{"06:00", "15:00"}}
			var r response
			trace.WithRegion(b.Context(), "booking", func() {
				r, err = h.try(client, "POST", "/v1/bookings", keys[i%operators], req, fmt.Sprintf("Idempotency-Key: bench-%d", i))
			})
			if err != nil || r.code != http.StatusCreated {
				b.Fatalf("booking %d: %v %d %s", i, err, r.code, r.body)
			}
		}
	})
}

// BenchmarkDecodeBooking is the strict decoding of a booking's body, as a
// client sends it (plain ASCII, "Content-Type: application/json").
func BenchmarkDecodeBooking(b *testing.B) {
	body := []byte(`{"date":"2026-12-01","route":"main","party_size":1,"window":{"from":"06:00","to":"15:00"}}`)
	b.ReportAllocs()
	for range b.N {
		r := httptest.NewRequest("POST", "/v1/bookings", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var in BookingRequest
		if _, e := decode(r, bookingBody, &in); e != nil {
			b.Fatal(e)
		}
	}
}
