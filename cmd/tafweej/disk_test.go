package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// TestFullDiskRefusesWritesAndNeverFaults fills a real small filesystem (a
// tmpfs; it needs root) through the running service: new bookings are
// refused with 507 insufficient_storage while scans go on, then scans are
// refused too (a bilingual reject), /readyz says why and /healthz stays
// up. Killed with SIGKILL and restarted on the full disk, the service
// starts read-only instead of dying of SIGBUS; once a file is deleted,
// writes resume without a restart and every acknowledged booking is there.
func TestFullDiskRefusesWritesAndNeverFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs and runs the real service; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (run as root, as CI does)")
	}
	const fsSize, minFree = 32 << 20, 8 << 20
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", fsSize), "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s); this test needs root and mount", err, out)
	}
	// Registered first, so it runs after the servers have stopped.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	data := filepath.Join(mnt, "data")
	badgerDir := filepath.Join(data, "badger")
	flags := []string{"--clock-start", "2026-12-01T10:00:00+03:00", "--clock-speed", "1", "--min-free", "8MiB"}
	srv := startServer(t, data, flags...)

	// The changes of level are events on the events subject, relayed to
	// the control room's event stream (nobody subscribes to NATS
	// anonymously: the embedded server admits registered devices only).
	storageEvents := sseEvents(t, srv.httpURL+"/web/events", srv.opsKey, "storage.")

	// room is what the service compares with the reserve: free space less
	// what Badger needs to flush its write-ahead log.
	room := func() int64 {
		free, err := store.FreeSpace(mnt)
		if err != nil {
			t.Fatal(err)
		}
		return free - store.FlushDebt(badgerDir)
	}
	// A file of another program on the same disk takes most of the room
	// (it is deleted at the end to free space), so that the service fills
	// the rest quickly.
	filler := filepath.Join(mnt, "filler")
	fill(t, filler, room()-minFree-(2<<20))

	// Bookings from many operators (each key has its own rate limit) until
	// the first 507; each one answered 201 is kept.
	const workers = 24
	keys := make([]string, workers)
	for i := range keys {
		var k api.KeyCreated
		mustHTTP(t, "POST", srv.httpURL+"/v1/keys", srv.opsKey,
			api.KeyRequest{Role: "operator", Operator: fmt.Sprintf("disk-op-%d", i)}, &k, http.StatusCreated)
		keys[i] = k.Key
	}
	var (
		mu      sync.Mutex // guards acked, dates, refusal, codes
		acked   []api.Booking
		dates   = map[string]bool{}
		refusal api.ErrorResponse
		codes   = map[int]int{}
	)
	var full, gone atomic.Bool
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 2000 && !full.Load(); n++ {
				date := time.Date(2026, 12, 2+(n+w)%20, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
				from := 8*60 + 15*((n/20+w)%24)
				req := api.BookingRequest{Date: date, Route: "main", PartySize: 1,
					Window: api.Window{From: hhmm(from), To: hhmm(from + 60)}, Reference: fmt.Sprintf("disk-%d-%06d", w, n)}
				code, body, err := sendJSON("POST", srv.httpURL+"/v1/bookings", keys[w], req, "Idempotency-Key", fmt.Sprintf("disk-%d-%d", w, n))
				if err != nil {
					full.Store(true)
					gone.Store(true)
					return // the service is gone: checked below
				}
				mu.Lock()
				codes[code]++
				switch code {
				case http.StatusInsufficientStorage:
					if !full.Swap(true) {
						if err := json.Unmarshal(body, &refusal); err != nil {
							t.Errorf("507 body %s: %v", body, err)
						}
					}
				case http.StatusCreated:
					var b api.Booking
					if err := json.Unmarshal(body, &b); err != nil {
						t.Error(err)
					}
					acked = append(acked, b)
					dates[date] = true
				case http.StatusTooManyRequests:
					mu.Unlock()
					time.Sleep(20 * time.Millisecond)
					continue
				case http.StatusConflict, http.StatusUnprocessableEntity:
				default:
					t.Errorf("POST /v1/bookings: HTTP %d: %s", code, body)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if gone.Load() {
		select {
		case <-srv.done:
		case <-time.After(10 * time.Second):
		}
		log := srv.log.String()
		t.Fatalf("the service stopped answering while the disk filled (exit: %v) after %d bookings answered 201:\n%s",
			srv.waitErr, len(acked), log[:min(len(log), 2000)])
	}
	if !full.Load() {
		t.Fatalf("no 507 (%s of room left); answers: %v", store.FormatSize(room()), codes)
	}
	t.Logf("507 after %d bookings answered 201 (answers %v): %s", len(acked), codes, refusal.Error.Message)
	if refusal.Error.Code != "insufficient_storage" || !strings.Contains(refusal.Error.Message, badgerDir) ||
		!strings.Contains(refusal.Error.Message, "MiB free") {
		t.Errorf("507 answer %+v: want code insufficient_storage and a message naming %s and its free space", refusal.Error, badgerDir)
	}
	if len(acked) < 100 {
		t.Errorf("only %d bookings before the 507: the disk was not filled by the service", len(acked))
	}
	expectReady(t, srv, http.StatusServiceUnavailable, "insufficient storage")
	expectReady(t, srv, http.StatusOK, "") // on /healthz, below
	// A request (planned days) is refused the same way.
	code, body := rawHTTP(t, "POST", srv.httpURL+"/v1/requests", srv.opsKey,
		api.BookingRequest{Date: "2027-04-06", Route: "main", PartySize: 10, Window: api.Window{From: "08:00", To: "11:00"}})
	if code != http.StatusInsufficientStorage {
		t.Errorf("POST /v1/requests under the reserve: HTTP %d %s, want 507", code, body)
	}

	// Under the reserve, scans are still decided (and written).
	scan := func(i int) scheduler.ScanResult {
		t.Helper()
		var res scheduler.ScanResult
		b := acked[i%len(acked)]
		mustHTTP(t, "POST", srv.httpURL+"/v1/scans", srv.opsKey, api.ScanBody{Gate: b.Gate,
			ScanRequest: scheduler.ScanRequest{Ticket: b.Ticket, Count: 1, ScanID: fmt.Sprintf("disk-scan-%d", i), Device: "dev1"}}, &res, http.StatusOK)
		return res
	}
	for i := range 50 {
		if r := scan(i); r.Reason == scheduler.ReasonInsufficientStorage {
			t.Fatalf("scan %d refused for lack of space while above a quarter of the reserve (%s of room)", i, store.FormatSize(room()))
		}
	}
	// Something else on the disk takes it under a quarter of the reserve:
	// scans are refused, with a reason the gate can show.
	fill(t, filepath.Join(mnt, "filler2"), room()-minFree/4+(256<<10))
	var refused scheduler.ScanResult
	checkFor(t, 5*time.Second, func() error {
		refused = scan(1000)
		if refused.Reason != scheduler.ReasonInsufficientStorage {
			return fmt.Errorf("scan decided %s/%s with %s of room", refused.Decision, refused.Reason, store.FormatSize(room()))
		}
		return nil
	})
	if refused.Decision != scheduler.DecisionReject || refused.Message.EN == "" || refused.Message.AR == "" || refused.Message.EN == refused.Reason {
		t.Errorf("scan refused for lack of space: %+v, want a reject with an English and an Arabic message", refused)
	}
	expectReady(t, srv, http.StatusServiceUnavailable, "scans")
	for _, want := range []string{"storage.low", "storage.critical"} {
		var data string
		select {
		case data = <-storageEvents:
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s event on the console's event stream", want)
		}
		if !strings.Contains(data, `"`+want+`"`) || !strings.Contains(data, `"free_bytes"`) {
			t.Errorf("event %s, want %s with the free space", data, want)
		}
	}

	// Power cut on the full disk, then a restart: no SIGBUS, read-only.
	srv.kill()
	srv = startServerWhen(t, data, func(s *testServer) error { return getStatus(s.httpURL+"/healthz", http.StatusOK) }, flags...)
	checkFor(t, 10*time.Second, func() error {
		if !strings.Contains(srv.log.String(), "starting read-only") {
			return fmt.Errorf("no 'starting read-only' in the log:\n%s", srv.log.String())
		}
		return nil
	})
	expectReady(t, srv, http.StatusServiceUnavailable, "insufficient storage")
	code, body = rawHTTP(t, "POST", srv.httpURL+"/v1/bookings", srv.opsKey, api.BookingRequest{Date: "2026-12-05", Route: "main", PartySize: 1,
		Window: api.Window{From: "08:00", To: "12:00"}}, "Idempotency-Key", "disk-after-restart")
	if code != http.StatusInsufficientStorage {
		t.Errorf("booking on the full disk after the restart: HTTP %d %s, want 507", code, body)
	}
	checkAcked(t, srv, acked, dates)

	// Space comes back: writes resume within seconds, without a restart.
	for _, f := range []string{filler, filepath.Join(mnt, "filler2")} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	checkFor(t, 10*time.Second, func() error { return getStatus(srv.httpURL+"/readyz", http.StatusOK) })
	var b api.Booking
	mustHTTP(t, "POST", srv.httpURL+"/v1/bookings", srv.opsKey, api.BookingRequest{Date: "2026-12-05", Route: "main", PartySize: 1,
		Window: api.Window{From: "08:00", To: "12:00"}}, &b, http.StatusCreated)
	t.Logf("writes resumed %v after space was freed", time.Since(start).Round(time.Millisecond))
	if r := scan(2000); r.Reason == scheduler.ReasonInsufficientStorage {
		t.Errorf("scan still refused after space was freed: %+v", r)
	}
	checkAcked(t, srv, append(acked, b), dates)
	if strings.Contains(srv.log.String(), "SIGBUS") || strings.Contains(srv.log.String(), "unexpected fault") {
		t.Errorf("the service faulted:\n%s", srv.log.String())
	}
}

// checkAcked checks that every acknowledged booking is listed, unchanged.
func checkAcked(t *testing.T, srv *testServer, acked []api.Booking, dates map[string]bool) {
	t.Helper()
	listed := map[string]api.Booking{}
	dates["2026-12-05"] = true
	for d := range dates {
		var list api.BookingList
		mustHTTP(t, "GET", srv.httpURL+"/v1/bookings?date="+d, srv.opsKey, nil, &list, http.StatusOK)
		for _, b := range list.Bookings {
			listed[b.ID] = b
		}
	}
	lost := 0
	for _, b := range acked {
		got, ok := listed[b.ID]
		if !ok || got.PartySize != b.PartySize || !got.Slot.Equal(b.Slot) {
			lost++
			if lost <= 5 {
				t.Errorf("booking %s was answered 201 but is lost or changed: %+v", b.ID, got)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged bookings lost or changed", lost, len(acked))
	}
}

// fill writes a file of n bytes (nothing if n ≤ 0).
func fill(t *testing.T, path string, n int64) {
	t.Helper()
	if n <= 0 {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i*7 + 1)
	}
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := f.Write(buf[:k]); err != nil {
			t.Fatalf("fill %s: %v", path, err)
		}
		n -= k
	}
}

// expectReady checks /readyz (or, for 200 with no text, /healthz).
func expectReady(t *testing.T, srv *testServer, want int, text string) {
	t.Helper()
	url := srv.httpURL + "/readyz"
	if want == http.StatusOK && text == "" {
		url = srv.httpURL + "/healthz"
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want || !strings.Contains(string(body), text) {
		t.Errorf("GET %s: HTTP %d %s, want %d naming %q", url, resp.StatusCode, body, want, text)
	}
}

func getStatus(url string, want int) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("%s answered %d: %s", url, resp.StatusCode, body)
	}
	return nil
}

// rawHTTP sends a JSON request and returns the status and the raw body.
func rawHTTP(t *testing.T, method, url, key string, body any, hdr ...string) (int, []byte) {
	t.Helper()
	code, data, err := sendJSON(method, url, key, body, hdr...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return code, data
}

// sendJSON sends a JSON request and returns the status and the raw body.
func sendJSON(method, url, key string, body any, hdr ...string) (int, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// sseEvents reads the server-sent events of url with key until the test
// ends, and sends the data of each event that holds substr.
func sseEvents(t *testing.T, url, key, substr string) <-chan string {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("event stream: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("event stream: %s", resp.Status)
	}
	t.Cleanup(func() { resp.Body.Close() })
	out := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok && strings.Contains(line, substr) {
				select {
				case out <- line:
				default:
				}
			}
		}
	}()
	return out
}
