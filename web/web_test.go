package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/web"
)

func TestNewRequiresParts(t *testing.T) {
	if _, err := web.New(web.Options{}); err == nil || !strings.Contains(err.Error(), "required") {
		t.Fatalf("web.New without parts: %v, want an error naming the required options", err)
	}
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPagesAssetsAndContentTypes(t *testing.T) {
	s := newStack(t)
	cases := []struct {
		path, ctype, contains string
	}{
		{"/gate", "text/html; charset=utf-8", `dir="rtl"`},
		{"/ops", "text/html; charset=utf-8", `dir="rtl"`},
		{"/web/app.css", "text/css; charset=utf-8", ".decision"},
		{"/web/common.js", "text/javascript; charset=utf-8", "EventSource"},
		{"/web/gate.js", "text/javascript; charset=utf-8", "/v1/scans"},
		{"/web/ops.js", "text/javascript; charset=utf-8", "/v1/closures"},
		{"/web/ops.js#cuts", "text/javascript; charset=utf-8", "/v1/cuts"},
		{"/web/site.json", "application/json", `"visitor-centre"`},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			resp, body := get(t, s.srv.URL+c.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d %s", c.path, resp.StatusCode, body)
			}
			if got := resp.Header.Get("Content-Type"); got != c.ctype {
				t.Errorf("GET %s: Content-Type %q, want %q", c.path, got, c.ctype)
			}
			if !strings.Contains(body, c.contains) {
				t.Errorf("GET %s: body lacks %q", c.path, c.contains)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
				t.Errorf("GET %s: security headers missing: %v", c.path, resp.Header)
			}
		})
	}
	// No CDN: the pages load only their own assets.
	for _, p := range []string{"/gate", "/ops"} {
		_, body := get(t, s.srv.URL+p)
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "//cdn") {
			t.Errorf("GET %s refers to another origin", p)
		}
	}
	var site web.Site
	_, body := get(t, s.srv.URL+"/web/site.json")
	if err := json.Unmarshal([]byte(body), &site); err != nil {
		t.Fatal(err)
	}
	if site.Site != "petra" || site.SlotMinutes != 15 || len(site.Gates) != len(s.cfg.Gates) || len(site.Zones) != len(s.cfg.Zones) ||
		!site.Now.Equal(bookingNow) || site.Today == nil || site.Today.Open != "06:00" {
		t.Errorf("site.json = %+v", site)
	}
	// 29 November: autumn's planned days are closed to requests; the next
	// planned day is the first of spring.
	if rw := site.RequestWindow; rw == nil || len(rw.Periods) != 2 || rw.CutoffTime != "18:00" || rw.Next == nil ||
		rw.Next.Date != "2027-03-15" || !rw.Next.Cutoff.Equal(time.Date(2027, 3, 12, 18, 0, 0, 0, testenv.Amman)) {
		t.Errorf("site.json request_window = %+v", rw)
	}
	if resp, _ := get(t, s.srv.URL+"/web/nothing.js"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /web/nothing.js: %d, want 404", resp.StatusCode)
	}
	resp, err := http.Post(s.srv.URL+"/gate", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /gate: %d, want 405", resp.StatusCode)
	}
}

func TestEventsAuth(t *testing.T) {
	s := newStack(t)
	gateKey := s.key(auth.RoleGate, "")
	opKey := s.key(auth.RoleOperator, "wadi-tours")
	cases := []struct {
		name, query string
		code        int
		errCode     string
	}{
		{"no key", "", 401, "unauthorized"},
		{"unknown key", "?key=tfw_nope", 401, "unauthorized"},
		{"operator key", "?key=" + opKey, 403, "forbidden"},
		{"gate key check", "?check=1&key=" + gateKey, 204, ""},
		{"ops key check", "?check=1&key=" + s.opsKey, 204, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := get(t, s.srv.URL+"/web/events"+c.query)
			if resp.StatusCode != c.code {
				t.Fatalf("GET /web/events%s: %d %s, want %d", c.query, resp.StatusCode, body, c.code)
			}
			if c.errCode != "" {
				var e api.ErrorResponse
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != c.errCode || e.Error.Field != "key" {
					t.Errorf("error body %s, want code %q on field key", body, c.errCode)
				}
			}
		})
	}
	// A Bearer header works too (for tools; pages use ?key=).
	req, _ := http.NewRequest("GET", s.srv.URL+"/web/events?check=1", nil)
	req.Header.Set("Authorization", "Bearer "+gateKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("Bearer check: %d, want 204", resp.StatusCode)
	}
}

// sse reads one event stream's data lines.
type sse struct {
	resp  *http.Response
	lines chan string
}

func openStream(t *testing.T, url string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sse{resp: resp, lines: make(chan string, 64)}
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	return s
}

// next waits for a data line whose event has the kind.
func (s *sse) next(t *testing.T, kind string) map[string]any {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatalf("stream ended before a %s event", kind)
			}
			data, ok := strings.CutPrefix(l, "data: ")
			if !ok {
				continue
			}
			var f map[string]any
			if err := json.Unmarshal([]byte(data), &f); err != nil {
				t.Fatalf("data line %q: %v", data, err)
			}
			if k, _ := f["kind"].(string); k == kind {
				return f
			}
		case <-timeout:
			t.Fatalf("no %s event within 10s", kind)
		}
	}
}

func TestEventsRelay(t *testing.T) {
	s := newStack(t)
	gateKey := s.key(auth.RoleGate, "")
	gs := openStream(t, s.srv.URL+"/web/events?key="+gateKey)
	opsStream := openStream(t, s.srv.URL+"/web/events?key="+s.opsKey)
	for _, st := range []*sse{gs, opsStream} {
		st.next(t, "") // skip to the first data line: the "ready" event has no kind
	}
	if _, err := s.eng.Do(context.Background(), scheduler.SetHold{Zone: "siq", On: true}); err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]*sse{"gate": gs, "ops": opsStream} {
		f := st.next(t, scheduler.EventWaveHeld)
		if d, _ := f["data"].(map[string]any); d["zone"] != "siq" {
			t.Errorf("%s stream: wave.held %v, want zone siq", name, f)
		}
	}
	// A dead letter reaches the ops stream as a sensor problem.
	m := &nats.Msg{Subject: "tafweej.petra.deadletter.counter", Data: []byte("{bad"), Header: nats.Header{}}
	m.Header.Set("Tafweej-Reason", "unknown_sensor")
	m.Header.Set("Tafweej-Error", "unknown sensor \"x\"")
	if err := s.nc.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	f := opsStream.next(t, web.EventSensorProblem)
	if d, _ := f["data"].(map[string]any); d["reason"] != "unknown_sensor" || d["kind"] != "counter" {
		t.Errorf("sensor.problem %v", f)
	}
	// Nothing but JSON passes: a malformed event on the subject is dropped
	// and the stream carries on.
	if err := s.nc.Publish("tafweej.petra.events.admission", []byte("not json\n\ndata: x")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.eng.Do(context.Background(), scheduler.SetHold{Zone: "siq", On: false}); err != nil {
		t.Fatal(err)
	}
	f = gs.next(t, scheduler.EventWaveReleased)
	if fmt.Sprint(f["kind"]) != scheduler.EventWaveReleased {
		t.Errorf("got %v", f)
	}
}
