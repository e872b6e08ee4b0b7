package dashboards

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/scheduler"
	tsensors "github.com/tafweej/tafweej/sensors"
)

// Values the end-to-end test gives Grafana's variables. The scrape interval
// is 1 s, so 10 s windows hold several samples.
var e2eVars = map[string]string{
	"job": "tafweej", "site": "petra", "zone": "siq", "gate": "visitor-centre",
	"__rate_interval": "10s", "__interval": "2s", "__interval_ms": "2000", "__range": "2m", "__range_s": "120",
}

// TestE2EPrometheus runs the service on a simulated clock, drives a little
// of everything through it (bookings, changes, refusals, admissions,
// rejections, counter readings, duplicates, invalid messages, a closure and
// a hold), lets a real Prometheus scrape it every second with the shipped
// configs/prometheus.yml and alert rules, and then evaluates every query of
// every dashboard (panels, variables, annotations) and every alert rule
// through Prometheus's HTTP API. Every query must parse; every dashboard
// query must return data, so a panel on a metric the service does not
// export fails, naming the panel and the expression.
func TestE2EPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with a real Prometheus: skipped under -short")
	}
	promBin := lookTool(t, "prometheus")
	began := time.Now()
	dir := t.TempDir()
	lap := func(what string, since time.Time) { t.Logf("%-42s %6.1f s", what, time.Since(since).Seconds()) }

	// Prometheus first: it takes a few seconds to start scraping a new
	// target, which overlap with building and starting the service.
	httpAddr := freeAddr(t)
	t0 := time.Now()
	prom := startPrometheus(t, promBin, dir, httpAddr)
	lap("start prometheus (until /-/ready)", t0)

	t0 = time.Now()
	bin := buildTafweej(t, dir)
	lap("build tafweej", t0)

	t0 = time.Now()
	svc := startService(t, bin, dir, httpAddr)
	lap("start tafweej serve (until /readyz)", t0)

	t0 = time.Now()
	want := driveLoad(t, svc)
	lap("drive bookings, scans and counters", t0)

	// Collect the queries and the metric names they need.
	var dashQs []query
	for _, d := range readDashboards(t) {
		dashQs = append(dashQs, dashboardQueries(t, d)...)
	}
	ruleQs := alertQueries(t)
	var names []string
	for _, q := range dashQs {
		names = append(names, metricNames(q.expr)...)
	}
	slices.Sort(names)
	names = slices.Compact(names)

	t0 = time.Now()
	missing := prom.waitForMetrics(t, names, 30*time.Second)
	for _, n := range missing {
		t.Errorf("metric %s, referenced by the dashboards, never appeared in Prometheus: the service does not export it (or the load did not make it)", n)
	}
	prom.waitScrapes(t, 3)
	prom.waitRulesEvaluated(t, 20*time.Second)
	lap("wait for every metric and 3 more scrapes", t0)

	t0 = time.Now()
	withData := 0
	for _, q := range dashQs {
		expr, unknown := expand(q.expr, e2eVars)
		if len(unknown) > 0 {
			t.Errorf("%s: no value for variables %v in %s", q.where, unknown, q.expr)
			continue
		}
		if q.annotation {
			// The drill holds and closes other zones than the one the
			// panels are given: ask for every zone.
			all := maps.Clone(e2eVars)
			all["zone"] = ".*"
			expr, _ = expand(q.expr, all)
		}
		n, err := prom.query(expr)
		switch {
		case err != nil:
			t.Errorf("%s: %v\n\texpr: %s", q.where, err, expr)
		case n == 0 && q.needData:
			t.Errorf("%s: returned no data\n\texpr: %s", q.where, expr)
		default:
			withData++
			t.Logf("ok %3d series  %s", n, q.where)
		}
	}
	for _, q := range ruleQs {
		if _, err := prom.query(q.expr); err != nil {
			t.Errorf("%s: %v\n\texpr: %s", q.where, err, q.expr)
		}
	}
	prom.checkRules(t, len(ruleQs))
	checkValues(t, prom, want)
	lap("evaluate queries", t0)
	t.Logf("%d of %d dashboard queries returned data; %d alert rules parsed and evaluated; whole test %.1f s",
		withData, len(dashQs), len(ruleQs), time.Since(began).Seconds())
}

// goTool is the go command that runs this test.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

// raceEnabled is set when the test runs with the race detector.
var raceEnabled bool

// binEnv names a prebuilt tafweej binary to test instead of building one.
const binEnv = "TAFWEEJ_BIN"

// buildTafweej builds cmd/tafweej (with -race when the test has it), or
// returns $TAFWEEJ_BIN.
func buildTafweej(t *testing.T, dir string) string {
	t.Helper()
	if bin := os.Getenv(binEnv); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(abs); err != nil {
			t.Fatalf("%s=%s: %v", binEnv, bin, err)
		}
		return abs
	}
	bin := filepath.Join(dir, "tafweej")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command(goTool(), append(args, "../cmd/tafweej")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(cmd.Args[1:], " "), err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProcess starts a command with its output in a log file, stops it
// with SIGTERM (then SIGKILL) at cleanup, and shows the log's tail when the
// test failed. The function it returns reports whether the process exited.
func startProcess(t *testing.T, name, logPath string, cmd *exec.Cmd) (exited func() error) {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	var waitErr error // written before done is closed
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		stopping := time.Now()
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
			t.Logf("%s stopped %.1f s after SIGTERM", name, time.Since(stopping).Seconds())
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not stop within 10 s of SIGTERM; killed", name)
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if log, _ := os.ReadFile(logPath); bytes.Contains(log, []byte("WARNING: DATA RACE")) {
			t.Errorf("the race detector found a data race in %s; see %s", name, logPath)
		}
		if t.Failed() {
			t.Logf("last lines of the %s log (%s):\n%s", name, logPath, tail(logPath, 40))
		}
	})
	return func() error {
		select {
		case <-done:
			return fmt.Errorf("%s exited: %v", name, waitErr)
		default:
			return nil
		}
	}
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitFor polls cond every 100 ms until it returns nil or the time is up.
func waitFor(t *testing.T, total time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not after %s: %v", what, total, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// service is a running tafweej serve.
type service struct {
	httpAddr, natsURL, key string
	http                   *http.Client
}

func startService(t *testing.T, bin, dir, httpAddr string) *service {
	t.Helper()
	s := &service{httpAddr: httpAddr, http: &http.Client{Timeout: 10 * time.Second}}
	natsAddr := freeAddr(t)
	s.natsURL = "nats://" + natsAddr
	// A day at the reserve from 08:00 site time (UTC+3 all year), tomorrow
	// so that the waves of the day are still ahead; one minute a second.
	amman := time.FixedZone("+03", 3*3600)
	now := time.Now().In(amman)
	start := time.Date(now.Year(), now.Month(), now.Day()+1, 8, 0, 0, 0, amman)
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "serve", "--config", "../configs/petra.yaml", "--data", data,
		"--http", s.httpAddr, "--nats-listen", natsAddr,
		"--clock-start", start.Format(time.RFC3339), "--clock-speed", "60", "--log-level", "warn",
		"--webhook-allow-private") // the test's webhook receiver is on loopback
	exited := startProcess(t, "tafweej serve", filepath.Join(dir, "tafweej.log"), cmd)
	waitFor(t, 30*time.Second, "tafweej serve ready on "+s.httpAddr, func() error {
		if err := exited(); err != nil {
			t.Fatalf("%v; its log is below", err)
		}
		resp, err := s.http.Get("http://" + s.httpAddr + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %s", resp.Status)
		}
		return nil
	})
	key, err := os.ReadFile(filepath.Join(data, "ops.key"))
	if err != nil {
		t.Fatalf("the service wrote no ops key: %v", err)
	}
	s.key = strings.TrimSpace(string(key))
	return s
}

// call sends an authenticated JSON request and decodes the answer into out
// (when not nil); it returns the status code.
func (s *service) call(t *testing.T, method, path string, body, out any, hdr ...string) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+s.httpAddr+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	if resp.StatusCode >= 300 {
		t.Logf("%s %s: %s %s", method, path, resp.Status, bytes.TrimSpace(raw))
	}
	return resp.StatusCode
}

// now is the service's (simulated) clock.
func (s *service) now(t *testing.T) time.Time {
	t.Helper()
	var h struct {
		Time time.Time `json:"time"`
	}
	s.call(t, http.MethodGet, "/healthz", nil, &h)
	if h.Time.IsZero() {
		t.Fatal("/healthz gave no time")
	}
	return h.Time
}

type booking struct {
	ID        string    `json:"id"`
	Gate      string    `json:"gate"`
	Slot      time.Time `json:"slot"`
	PartySize int       `json:"party_size"`
	Ticket    string    `json:"ticket"`
}

// expected is what the load should show in the metrics.
type expected struct {
	confirmed, admitted, booked int
	offline                     int            // visitors admitted by offline scans (one scan each here)
	applied                     int            // counter readings the scheduler should apply
	live                        map[string]int // zone -> in minus out of its applied readings
}

// checkValues compares a few sums with what the load did, so the panels
// show the right numbers and not only some numbers.
func checkValues(t *testing.T, p *promServer, want expected) {
	t.Helper()
	checks := []struct {
		expr string
		want float64
	}{
		{`sum(tafweej_bookings_total{job="tafweej", result="confirmed"})`, float64(want.confirmed)},
		{`sum(tafweej_bookings_total{job="tafweej", result="modified"})`, 1},
		{`sum(tafweej_bookings_total{job="tafweej", result="cancelled"})`, 1},
		{`sum(tafweej_admitted_visitors_total{job="tafweej"})`, float64(want.admitted)},
		{`sum(tafweej_wave_admitted_visitors{job="tafweej"})`, float64(want.admitted + want.offline)},
		{`sum(tafweej_offline_scans_total{job="tafweej"})`, float64(want.offline)},
		{`sum(tafweej_offline_conflicts_total{job="tafweej", kind="over_admission"})`, float64(want.offline)},
		{`sum(tafweej_wave_booked_visitors{job="tafweej"})`, float64(want.booked)},
		{`sum(tafweej_zone_closed{job="tafweej"})`, 1},
		{`sum(tafweej_zone_closed{job="tafweej", zone="high-place"})`, 1},
		{`sum(tafweej_zone_held{job="tafweej", zone="monastery"})`, 1},
		{`sum(tafweej_closures_active{job="tafweej"})`, 1},
		{`sum(tafweej_sensor_messages_total{job="tafweej", result="applied"})`, float64(want.applied)},
		{`count(tafweej_sensor_last_reading_timestamp_seconds{job="tafweej"})`, 20},
		{`sum(tafweej_nats_connected{job="tafweej"})`, 1},
		{`sum(tafweej_store_write_errors_total{job="tafweej"})`, 0},
	}
	for zone, n := range want.live {
		checks = append(checks, struct {
			expr string
			want float64
		}{fmt.Sprintf(`sum(tafweej_zone_live_occupancy_visitors{job="tafweej", zone=%q})`, zone), float64(n)})
	}
	// The counter consumer and the scrapes are asynchronous: poll a while.
	deadline := time.Now().Add(15 * time.Second)
	for _, c := range checks {
		for {
			got, err := p.value(c.expr)
			if err == nil && got == c.want {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s = %v (%v), want %v", c.expr, got, err, c.want)
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	// op-a's webhook endpoint: its admissions are delivered (asynchronously,
	// from the outbox).
	for _, expr := range []string{
		`sum(tafweej_webhook_endpoints{job="tafweej"})`,
		`sum(tafweej_webhook_deliveries_total{job="tafweej", outcome="delivered"})`,
		`sum(tafweej_webhook_delivery_latency_seconds_count{job="tafweej"})`,
	} {
		for {
			got, err := p.value(expr)
			if err == nil && got >= 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s = %v (%v), want at least 1", expr, got, err)
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	for _, expr := range []string{
		`sum(tafweej_sensor_messages_total{job="tafweej", result="duplicate"})`,
		`sum(tafweej_sensor_invalid_messages_total{job="tafweej", kind="counter"})`,
		`sum(tafweej_scans_total{job="tafweej", decision="reject"})`,
		`sum(tafweej_sensor_invalid_messages_total{job="tafweej", kind="scan"})`,
	} {
		if got, err := p.value(expr); err != nil || got < 1 {
			t.Errorf("%s = %v (%v), want at least 1", expr, got, err)
		}
	}
}

// driveLoad makes every kind of event the dashboards show, with the real
// wire: HTTP for bookings and operations, NATS request/reply for gate
// scans, JetStream for counter readings.
func driveLoad(t *testing.T, s *service) expected {
	want := expected{live: map[string]int{}}
	t.Helper()
	now := s.now(t)
	date := now.Format("2006-01-02")
	from := now.Truncate(15 * time.Minute).Add(15 * time.Minute)
	window := map[string]string{"from": from.Format("15:04"), "to": from.Add(2 * time.Hour).Format("15:04")}

	// Webhooks: op-a registers an endpoint (a receiver in the test) with
	// its own operator key, so that its groups' admissions are delivered.
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)
	var opKey struct {
		Key string `json:"key"`
	}
	if code := s.call(t, http.MethodPost, "/v1/keys", map[string]any{"role": "operator", "operator": "op-a", "name": "e2e"}, &opKey); code != http.StatusCreated {
		t.Errorf("operator key for op-a: HTTP %d", code)
	} else if code := s.call(t, http.MethodPost, "/v1/webhooks", map[string]any{"url": recv.URL}, nil,
		"Authorization", "Bearer "+opKey.Key); code != http.StatusCreated {
		t.Errorf("webhook endpoint of op-a: HTTP %d", code)
	}

	// Bookings: confirmed for several operators and the ticket office, a
	// replay, a change, a cancellation and a refusal.
	var booked []booking
	book := func(operator, route string, party int, idem string) (booking, int) {
		var b booking
		path := "/v1/bookings"
		if operator != "" {
			path += "?operator=" + url.QueryEscape(operator)
		}
		code := s.call(t, http.MethodPost, path, map[string]any{
			"date": date, "route": route, "party_size": party, "window": window, "language": "en", "reference": idem,
		}, &b, "Idempotency-Key", idem)
		return b, code
	}
	for i, op := range []string{"op-a", "op-b", "op-c", "op-a", "op-b", "op-c", ""} {
		b, code := book(op, "main", 8+2*i, fmt.Sprintf("e2e-main-%d", i))
		if code != http.StatusCreated || b.Ticket == "" {
			t.Fatalf("booking %d for %q: HTTP %d, ticket %q", i, op, code, b.Ticket)
		}
		booked = append(booked, b)
	}
	back, code := book("op-d", "back-trail", 10, "e2e-back-1")
	if code != http.StatusCreated {
		t.Fatalf("back-trail booking: HTTP %d", code)
	}
	booked = append(booked, back)
	if _, code := book("op-a", "main", 8, "e2e-main-0"); code >= 300 {
		t.Errorf("replayed booking (same Idempotency-Key): HTTP %d", code)
	}
	// One operator may bring at most half of Little Petra's operator
	// places in a wave: 35 fits no wave.
	if _, code := book("op-e", "back-trail", 35, "e2e-too-big"); code < 400 {
		t.Errorf("a party of 35 on the back trail: HTTP %d, want a refusal", code)
	}
	if code := s.call(t, http.MethodPatch, "/v1/bookings/"+booked[1].ID, map[string]any{"party_size": booked[1].PartySize + 1}, nil); code != http.StatusOK {
		t.Errorf("change booking: HTTP %d", code)
	} else {
		booked[1].PartySize++
	}
	cancelled := booked[5]
	booked = slices.Delete(booked, 5, 6)
	if code := s.call(t, http.MethodDelete, "/v1/bookings/"+cancelled.ID, nil, nil); code >= 300 {
		t.Errorf("cancel booking: HTTP %d", code)
	}
	s.call(t, http.MethodGet, "/v1/occupancy", nil, nil)
	s.call(t, http.MethodGet, "/v1/availability?date="+date+"&route=main", nil, nil)
	s.call(t, http.MethodGet, "/v1/bookings?date="+date, nil, nil)
	s.call(t, http.MethodGet, "/v1/bookings/bk_doesnotexist", nil, nil) // a 404

	// Operations: close the High Place (a rockfall drill) and hold the
	// Monastery, so the closure and hold panels and annotations show them.
	if code := s.call(t, http.MethodPost, "/v1/closures", map[string]any{"zones": []string{"high-place"}, "reason": "e2e: rockfall drill"}, nil); code != http.StatusCreated {
		t.Errorf("close high-place: HTTP %d", code)
	}
	if code := s.call(t, http.MethodPost, "/v1/holds", map[string]any{"zone": "monastery", "on": true}, nil); code >= 300 {
		t.Errorf("hold monastery: HTTP %d", code)
	}

	// Every gate and counter is a device registered with the ops key: the
	// service's NATS admits no one else.
	conns := map[string]*nats.Conn{}
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	device := func(kind, target string) *nats.Conn {
		t.Helper()
		if nc := conns[kind+"/"+target]; nc != nil {
			return nc
		}
		var d struct {
			Seed        string `json:"seed"`
			InboxPrefix string `json:"inbox_prefix"`
		}
		if code := s.call(t, http.MethodPost, "/v1/devices", map[string]any{"kind": kind, "target": target, "ttl": "1h"}, &d); code != http.StatusCreated {
			t.Fatalf("register a %s device for %s: HTTP %d", kind, target, code)
		}
		opts, err := tsensors.DeviceOptions([]byte(d.Seed), d.InboxPrefix)
		if err != nil {
			t.Fatal(err)
		}
		nc, err := nats.Connect(s.natsURL, append(opts, nats.Name("e2e-"+target), nats.Timeout(5*time.Second))...)
		if err != nil {
			t.Fatalf("connect to the service's NATS as a %s device: %v", kind, err)
		}
		conns[kind+"/"+target] = nc
		return nc
	}

	// Gate scans: every group admitted at its gate, then a second scan of a
	// used ticket, a ticket at the wrong gate, a cancelled ticket, a forged
	// ticket and a malformed request.
	at := s.now(t).Format(time.RFC3339)
	scan := func(gate string, req any) map[string]any {
		t.Helper()
		var data []byte
		if raw, ok := req.([]byte); ok {
			data = raw
		} else {
			data, _ = json.Marshal(req)
		}
		msg, err := device("gate", gate).Request("tafweej.petra.gate."+gate+".scan", data, 5*time.Second)
		if err != nil {
			t.Fatalf("scan at %s: %v", gate, err)
		}
		var reply map[string]any
		if err := json.Unmarshal(msg.Data, &reply); err != nil {
			t.Fatalf("scan reply %s: %v", msg.Data, err)
		}
		return reply
	}
	admitted := 0
	for i, b := range booked {
		r := scan(b.Gate, map[string]any{"ticket": b.Ticket, "count": b.PartySize, "scan_id": fmt.Sprintf("e2e-%d", i), "device": "e2e", "at": at})
		if r["decision"] != "admit" {
			t.Errorf("scan of booking %s (%s, slot %s) at %s: %v", b.ID, b.Gate, b.Slot.Format("15:04"), at, r)
		} else {
			admitted++
			want.admitted += b.PartySize
		}
	}
	for _, c := range []struct {
		gate string
		req  any
	}{
		{booked[0].Gate, map[string]any{"ticket": booked[0].Ticket, "count": 1, "scan_id": "e2e-again", "device": "e2e", "at": at}},
		{"little-petra", map[string]any{"ticket": booked[2].Ticket, "count": 1, "scan_id": "e2e-wrong-gate", "device": "e2e", "at": at}},
		{cancelled.Gate, map[string]any{"ticket": cancelled.Ticket, "count": 1, "scan_id": "e2e-cancelled", "device": "e2e", "at": at}},
		{"visitor-centre", map[string]any{"ticket": "TFW1.forged", "count": 1, "scan_id": "e2e-forged", "device": "e2e", "at": at}},
		{"visitor-centre", []byte(`{"ticket": `)},
	} {
		if r := scan(c.gate, c.req); r["decision"] != "reject" {
			t.Errorf("scan %v at %s: %v, want a rejection", c.req, c.gate, r)
		}
	}
	t.Logf("%d bookings admitted at the gates", admitted)

	// Offline gates: a device at Little Petra, back from a link loss,
	// uploads one scan it made from its manifest: a ticket already admitted
	// online at its own gate, so reconciliation records an over-admission.
	var rep struct {
		Recorded  int            `json:"recorded"`
		Conflicts map[string]int `json:"conflicts"`
	}
	off := booked[0]
	if off.Gate == "little-petra" {
		t.Fatalf("booking %s enters at little-petra: the offline upload needs another gate", off.ID)
	}
	if code := s.call(t, http.MethodPost, "/v1/scans/offline", map[string]any{
		"gate": "little-petra", "device": "e2e-offline",
		"scans": []map[string]any{{"scan_id": "e2e-offline-1", "ticket": off.Ticket, "count": 1, "at": s.now(t).Format(time.RFC3339)}},
	}, &rep); code != http.StatusOK {
		t.Errorf("offline upload: HTTP %d", code)
	} else if rep.Recorded != 1 || rep.Conflicts["over_admission"] != 1 {
		t.Errorf("offline upload of a ticket admitted online at %s: recorded %d, conflicts %v; want 1 recorded and 1 over_admission",
			off.Gate, rep.Recorded, rep.Conflicts)
	}
	// Offline admissions count in the waves, not in
	// tafweej_admitted_visitors_total (online scans only).
	want.offline = 1
	want.confirmed = 8 // 7 on the main trail, 1 on the back trail
	for _, b := range booked {
		want.booked += b.PartySize
	}

	// Counter readings over JetStream, as the devices send them: one
	// reading from every counter, then a newer one, an older one (a
	// duplicate by sequence), a replay of a message id (dropped by
	// JetStream), an unknown sensor, a body that is not JSON and totals
	// going down within a boot.
	cfgRaw, err := os.ReadFile("../configs/petra.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := scheduler.ParseConfig(cfgRaw)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	at = s.now(t).Format(time.RFC3339)
	publish := func(zone, sensor, msgID string, body any) {
		t.Helper()
		data, ok := body.([]byte)
		if !ok {
			data, _ = json.Marshal(body)
		}
		m := nats.NewMsg("tafweej.petra.counter." + zone + "." + sensor)
		m.Data = data
		m.Header.Set("Nats-Msg-Id", msgID)
		js, err := jetstream.New(device("sensor", sensor))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatalf("publish counter %s/%s %s: %v", zone, sensor, msgID, err)
		}
	}
	reading := func(sensor, zone string, seq, in, out int) map[string]any {
		return map[string]any{"sensor": sensor, "zone": zone, "boot": "e2e1", "seq": seq, "in_total": in, "out_total": out, "at": at}
	}
	// in minus out of each sensor's last applied reading, by zone.
	net := map[string]int{}
	zoneOf := map[string]string{}
	for i, sc := range cfg.Sensors {
		publish(sc.Zone, sc.ID, sc.ID+":e2e1:1", reading(sc.ID, sc.Zone, 1, 20+i, 5))
		net[sc.ID], zoneOf[sc.ID] = 20+i-5, sc.Zone
	}
	publish("siq", "siq-n1", "siq-n1:e2e1:3", reading("siq-n1", "siq", 3, 60, 10))
	net["siq-n1"] = 60 - 10
	want.applied = len(cfg.Sensors) + 1
	publish("siq", "siq-n1", "siq-n1:e2e1:2", reading("siq-n1", "siq", 2, 40, 8))  // duplicate by seq
	publish("siq", "siq-n1", "siq-n1:e2e1:3", reading("siq-n1", "siq", 3, 60, 10)) // duplicate msg id
	publish("siq", "siq-n1", "siq-x9:e2e1:1", reading("siq-x9", "siq", 1, 1, 0))   // another sensor's reading on siq-n1's subject
	publish("siq", "siq-m1", "siq-m1:e2e1:7", []byte(`not json`))                  // invalid body
	publish("siq", "siq-m1", "siq-m1:e2e1:4", reading("siq-m1", "siq", 4, 1, 0))   // totals going down
	for sensor, n := range net {
		want.live[zoneOf[sensor]] += n
	}
	return want
}

// promServer is a running Prometheus.
type promServer struct {
	base string
	http *http.Client
}

// startPrometheus runs Prometheus with the shipped configs/prometheus.yml
// and alert rules, changed only to scrape the test's service every second.
func startPrometheus(t *testing.T, bin, dir, target string) *promServer {
	t.Helper()
	raw, err := os.ReadFile("../configs/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(raw)
	for _, r := range [][2]string{
		{"127.0.0.1:8080", target},
		{"scrape_interval: 15s", "scrape_interval: 1s"},
		{"evaluation_interval: 15s", "evaluation_interval: 1s"},
		{"scrape_timeout: 10s", "scrape_timeout: 1s"},
	} {
		if !strings.Contains(conf, r[0]) {
			t.Fatalf("configs/prometheus.yml no longer contains %q; adapt the end-to-end test", r[0])
		}
		conf = strings.ReplaceAll(conf, r[0], r[1])
	}
	pdir := filepath.Join(dir, "prometheus")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	rules, err := os.ReadFile("../configs/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pdir, "alerts.yml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(pdir, "prometheus.yml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--config.file="+confPath, "--storage.tsdb.path="+filepath.Join(pdir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	exited := startProcess(t, "prometheus", filepath.Join(pdir, "prometheus.log"), cmd)
	p := &promServer{base: "http://" + addr, http: &http.Client{Timeout: 10 * time.Second}}
	waitFor(t, 30*time.Second, "prometheus ready on "+addr, func() error {
		if err := exited(); err != nil {
			t.Fatalf("%v; its log is below", err)
		}
		resp, err := p.http.Get(p.base + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/-/ready: %s", resp.Status)
		}
		return nil
	})
	return p
}

// api calls a Prometheus HTTP API endpoint and decodes its data.
func (p *promServer) api(path string, params url.Values, data any) error {
	resp, err := p.http.PostForm(p.base+path, params)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(bufio.NewReader(resp.Body)).Decode(&env); err != nil {
		return fmt.Errorf("%s: HTTP %s, undecodable answer: %v", path, resp.Status, err)
	}
	if env.Status != "success" {
		return fmt.Errorf("prometheus says %s: %s", env.ErrorType, env.Error)
	}
	return json.Unmarshal(env.Data, data)
}

// query evaluates an instant query and returns how many series (or 1 for a
// scalar) it gave.
func (p *promServer) query(expr string) (int, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.api("/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return 0, err
	}
	switch data.ResultType {
	case "scalar", "string":
		return 1, nil
	}
	var series []json.RawMessage
	if err := json.Unmarshal(data.Result, &series); err != nil {
		return 0, err
	}
	return len(series), nil
}

// value evaluates an instant query that gives one series and returns its
// value.
func (p *promServer) value(expr string) (float64, error) {
	var data struct {
		Result []struct {
			Value [2]any `json:"value"`
		} `json:"result"`
	}
	if err := p.api("/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return 0, err
	}
	if len(data.Result) != 1 {
		return 0, fmt.Errorf("%d series, want 1", len(data.Result))
	}
	var v float64
	if _, err := fmt.Sscan(fmt.Sprint(data.Result[0].Value[1]), &v); err != nil {
		return 0, err
	}
	return v, nil
}

// waitForMetrics waits until every name has a series scraped from the
// service, and returns those that never came.
func (p *promServer) waitForMetrics(t *testing.T, names []string, total time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(total)
	pending := slices.Clone(names)
	for {
		var still []string
		for _, n := range pending {
			c, err := p.query(fmt.Sprintf(`count({__name__=%q, job="tafweej"})`, n))
			if err != nil || c == 0 {
				still = append(still, n)
			}
		}
		pending = still
		if len(pending) == 0 || time.Now().After(deadline) {
			return pending
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitScrapes waits until n more scrapes of the service have happened.
func (p *promServer) waitScrapes(t *testing.T, n int) {
	t.Helper()
	from := float64(time.Now().Unix())
	waitFor(t, 30*time.Second, fmt.Sprintf("%d more scrapes", n), func() error {
		var data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		}
		if err := p.api("/api/v1/query", url.Values{"query": {`timestamp(up{job="tafweej"})`}}, &data); err != nil {
			return err
		}
		if len(data.Result) == 0 {
			return fmt.Errorf("no up series for job tafweej")
		}
		var ts float64
		fmt.Sscan(fmt.Sprint(data.Result[0].Value[1]), &ts)
		if ts < from+float64(n) {
			return fmt.Errorf("last scrape at %.0f, waiting for %.0f", ts, from+float64(n))
		}
		return nil
	})
}

type ruleState struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Health    string `json:"health"`
	LastError string `json:"lastError"`
	State     string `json:"state"`
}

func (p *promServer) rules() ([]ruleState, error) {
	var data struct {
		Groups []struct {
			Rules []ruleState `json:"rules"`
		} `json:"groups"`
	}
	resp, err := p.http.Get(p.base + "/api/v1/rules")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(env.Data, &data); err != nil {
		return nil, err
	}
	var out []ruleState
	for _, g := range data.Groups {
		out = append(out, g.Rules...)
	}
	return out, nil
}

// waitRulesEvaluated waits until Prometheus has evaluated every rule once.
func (p *promServer) waitRulesEvaluated(t *testing.T, total time.Duration) {
	t.Helper()
	waitFor(t, total, "every alert rule evaluated", func() error {
		rs, err := p.rules()
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			return fmt.Errorf("no rules loaded")
		}
		for _, r := range rs {
			if r.Health == "unknown" || r.Health == "" {
				return fmt.Errorf("rule %s not evaluated yet", r.Name)
			}
		}
		return nil
	})
}

// checkRules checks that Prometheus loaded every alert rule and evaluates
// each without error, and logs which fire.
func (p *promServer) checkRules(t *testing.T, want int) {
	t.Helper()
	rs, err := p.rules()
	if err != nil {
		t.Fatalf("GET /api/v1/rules: %v", err)
	}
	if len(rs) != want {
		t.Errorf("prometheus loaded %d rules from configs/alerts.yml, want %d", len(rs), want)
	}
	for _, r := range rs {
		if r.Health != "ok" {
			t.Errorf("alert %s: health %q: %s", r.Name, r.Health, r.LastError)
		}
		t.Logf("alert %-28s health %s, state %s", r.Name, r.Health, r.State)
	}
}
