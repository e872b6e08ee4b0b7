package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/scheduler"
)

// TestBrowserGateGoesOfflineAndReconciles: the gate page scans online; the
// service's API stops answering (connections dropped) mid-session; the
// page goes offline by itself within its timeout, admits a valid ticket,
// refuses a forged one and one already used up; a reload keeps the queue;
// when the API is back the queue uploads by itself, the page returns
// online and the service has the admissions with their times and device.
func TestBrowserGateGoesOfflineAndReconciles(t *testing.T) {
	ctx := newBrowser(t, 1000, 900)
	s := newStack(t)
	gateKey := s.key(auth.RoleGate, "")
	opKey := s.key(auth.RoleOperator, "wadi-tours")
	first := s.book(opKey, 4)
	second := s.book(opKey, 3)
	s.clock.Set(first.Slot.Add(5 * time.Minute))

	// The API behind a switch: when down, every /v1 request and event
	// stream has its connection dropped (the pages still load, as from a
	// tablet's cache).
	var down atomic.Bool
	target, _ := url.Parse(s.srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorLog = nil
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() && (strings.HasPrefix(r.URL.Path, "/v1/") || r.URL.Path == "/web/events") {
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				c.Close()
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { front.CloseClientConnections(); front.Close() })

	setUpGate(t, ctx, front.URL, gateKey)
	run(t, ctx, "console", chromedp.WaitVisible(chromedp.ID("ticket")))
	device := attr(t, ctx, `localStorage.getItem("tafweej.device")`)
	scan(t, ctx, first.Ticket, 4)
	waitText(t, ctx, "#decision", "دخول")
	if off := attr(t, ctx, `document.getElementById("result").dataset.offline`); off != "" {
		t.Fatal("the online scan was decided offline")
	}
	// The manifest is fetched (and the online admission known to it).
	waitFor(t, 10*time.Second, func() error {
		if n := eval[int](t, ctx, `TFOffline.manifest ? TFOffline.manifest.bookings.length : 0`); n < 2 {
			return fmt.Errorf("manifest has %d bookings", n)
		}
		return nil
	})

	down.Store(true)
	began := time.Now()
	scan(t, ctx, second.Ticket, 2)
	if took := time.Since(began); took > 4*time.Second {
		t.Errorf("the offline decision took %s; the timeout is 1.5 s", took)
	}
	waitText(t, ctx, "#decision", "دخول")
	if off := attr(t, ctx, `document.getElementById("result").dataset.offline`); off != "1" {
		t.Fatal("with the API down, the scan was not decided offline")
	}
	banner := waitText(t, ctx, "#offline", "Offline")
	if !strings.Contains(banner, "غير متصل") || !strings.Contains(banner, "waiting: 1") {
		t.Errorf("offline banner %q, want Arabic and English and 1 scan waiting", banner)
	}

	forged := second.Ticket[:len(second.Ticket)-6] + "AAAAAA"
	scan(t, ctx, forged, 1)
	if r := attr(t, ctx, `document.getElementById("result").dataset.reason`); r != scheduler.ReasonInvalidSignature {
		t.Errorf("forged ticket offline: reason %q, want invalid_signature", r)
	}
	scan(t, ctx, first.Ticket, 1)
	if r := attr(t, ctx, `document.getElementById("result").dataset.reason`); r != scheduler.ReasonAlreadyUsed {
		t.Errorf("used-up ticket offline: reason %q, want already_used", r)
	}
	scan(t, ctx, second.Ticket, 1)
	if d := attr(t, ctx, `document.getElementById("result").dataset.decision`); d != scheduler.DecisionAdmit {
		t.Errorf("the last of the second party offline: %q, want admit", d)
	}

	// Reload while offline: the queue survives.
	run(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("ticket")))
	waitText(t, ctx, "#offline", "waiting: 2")
	scan(t, ctx, second.Ticket, 1)
	if r := attr(t, ctx, `document.getElementById("result").dataset.reason`); r != scheduler.ReasonAlreadyUsed {
		t.Errorf("after the reload, the used-up second party: reason %q, want already_used", r)
	}

	admissions := make(chan *nats.Msg, 16)
	sub, err := s.nc.ChanSubscribe("tafweej."+s.cfg.Site+".events."+scheduler.EventAdmission, admissions)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	down.Store(false)
	waitText(t, ctx, "#offline-report", "Reconciled 2 offline scans (3 visitors)")
	gone(t, ctx, "#offline:not([hidden])")

	var b api.Booking
	if code := s.do("GET", "/v1/bookings/"+second.ID, opKey, nil, &b); code != 200 || b.Admitted != 3 {
		t.Fatalf("after reconciliation the second booking: %d, admitted %d, want 3", code, b.Admitted)
	}
	var st api.Status
	s.do("GET", "/v1/status", s.opsKey, nil, &st)
	if st.Offline.Scans != 2 {
		t.Errorf("status: %d offline scans, want 2", st.Offline.Scans)
	}
	var dev *scheduler.GateDevice
	for i := range st.Offline.Devices {
		if st.Offline.Devices[i].Device == device {
			dev = &st.Offline.Devices[i]
		}
	}
	if dev == nil || dev.Uploaded != 2 || dev.State != scheduler.DeviceOnline {
		t.Errorf("status devices %+v, want %s online with 2 uploaded", st.Offline.Devices, device)
	}
	// The control room shows the device and what was reconciled.
	openOps(t, ctx, front.URL, s.opsKey, "en")
	waitText(t, ctx, "#gates-offline", device)
	waitText(t, ctx, "#gates-offline", "0 over-admission")

	// The admissions as they happened: by this device, at the page's
	// (service-clock) time of the scan, not at the upload.
	offlineAt := first.Slot.Add(5 * time.Minute)
	for range 2 {
		select {
		case m := <-admissions:
			var ev struct {
				At   time.Time           `json:"at"`
				Data scheduler.Admission `json:"data"`
			}
			if err := json.Unmarshal(m.Data, &ev); err != nil {
				t.Fatal(err)
			}
			if !ev.Data.Offline || ev.Data.Device != device || ev.Data.Booking != second.ID || ev.At.Sub(offlineAt).Abs() > 2*time.Minute {
				t.Errorf("admission event %+v at %s, want offline by %s of %s near %s", ev.Data, ev.At, device, second.ID, offlineAt)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no admission event for the uploaded scans")
		}
	}
}
