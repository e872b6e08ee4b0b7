package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/api"
)

// The replicated site's rows (docs/cluster.md): durable bookings through
// two `tafweej serve --replicas 3` processes on a three-node NATS cluster
// on loopback, next to the raw R3 JetStream publish rate of the same
// cluster, and the time from SIGKILL of the owner to the first booking
// acknowledged by the new one.

// clusterNATS starts three routed JetStream servers on loopback with
// their stores under dir.
func clusterNATS(dir string) ([]*server.Server, string, error) {
	ports := make([]int, 3)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, "", err
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	var routes []*url.URL
	for _, p := range ports {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	var servers []*server.Server
	var urls []string
	for i := range 3 {
		s, err := server.NewServer(&server.Options{ServerName: fmt.Sprintf("bench-n%d", i+1), Host: "127.0.0.1", Port: -1,
			NoLog: true, NoSigs: true, JetStream: true, StoreDir: filepath.Join(dir, fmt.Sprintf("nats%d", i+1)),
			Cluster: server.ClusterOpts{Name: "tafweej-bench", Host: "127.0.0.1", Port: ports[i]}, Routes: routes})
		if err != nil {
			return servers, "", err
		}
		s.Start()
		if !s.ReadyForConnections(10 * time.Second) {
			return servers, "", errors.New("bench: a NATS cluster node did not start")
		}
		servers = append(servers, s)
		urls = append(urls, s.ClientURL())
	}
	return servers, strings.Join(urls, ","), nil
}

// rawR3Publish publishes n 512-byte messages from workers clients to an
// R3 file stream, each waiting for its acknowledgement, and returns the
// rate.
func rawR3Publish(ctx context.Context, urls string, workers, n int) (float64, error) {
	nc, err := nats.Connect(urls)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	name := fmt.Sprintf("BENCH_RAW_%d", time.Now().UnixNano())
	deadline := time.Now().Add(30 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = js.CreateStream(cctx, jetstream.StreamConfig{Name: name, Subjects: []string{"bench.raw." + name}, Replicas: 3, Storage: jetstream.FileStorage})
		cancel()
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		return 0, fmt.Errorf("bench: R3 stream: %w", err)
	}
	defer js.DeleteStream(context.Background(), name)
	payload := bytes.Repeat([]byte("x"), 512)
	perSec, _, err := requestBench(workers, make([][]byte, n), func([]byte) error {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := js.Publish(cctx, "bench.raw."+name, payload)
		return err
	})
	return perSec, err
}

// rowCPU is the CPU time used so far by each process of the replicated
// rows: this one (the three NATS servers and the clients), the owner and
// the standby.
type rowCPU struct{ self, owner, standby time.Duration }

func cpuOf(ins []*benchInstance) rowCPU {
	return rowCPU{self: processCPU(), owner: childCPU(ins[0].cmd.Process.Pid), standby: childCPU(ins[1].cmd.Process.Pid)}
}

// since is the CPU used from c0 to c.
func (c rowCPU) since(c0 rowCPU) rowCPU {
	return rowCPU{self: c.self - c0.self, owner: c.owner - c0.owner, standby: c.standby - c0.standby}
}

func (c rowCPU) total() time.Duration { return c.self + c.owner + c.standby }

// benchInstance is one `tafweej serve --replicas 3` process.
type benchInstance struct {
	url  string
	data string
	cmd  *exec.Cmd
	done chan struct{}
	log  bytes.Buffer
}

func startBenchInstance(bin, config, data, urls string, clock time.Time, pipeline int) (*benchInstance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	in := &benchInstance{url: "http://" + addr, data: data, done: make(chan struct{})}
	in.cmd = exec.Command(bin, "serve", "--config", config, "--data", data, "--http", addr, "--nats", urls, "--replicas", "3",
		"--advertise-http", in.url, "--log-level", "warn", "--clock-start", clock.Format(time.RFC3339))
	if pipeline > 0 {
		in.cmd.Args = append(in.cmd.Args, "--pipeline", fmt.Sprint(pipeline))
	}
	in.cmd.Stdout, in.cmd.Stderr = &in.log, &in.log
	if err := in.cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start %s serve: %w", bin, err)
	}
	go func() { in.cmd.Wait(); close(in.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(in.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in, nil
			}
		}
		select {
		case <-in.done:
			return nil, fmt.Errorf("bench: tafweej serve --replicas 3 exited: %s", in.log.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			in.kill()
			return nil, errors.New("bench: tafweej serve --replicas 3 did not answer /healthz within 60 s")
		}
	}
}

func (in *benchInstance) kill() {
	in.cmd.Process.Signal(syscall.SIGKILL)
	<-in.done
}

func (in *benchInstance) stop() {
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(10 * time.Second):
		in.kill()
	}
}

// postBooking books one visitor through url; it returns the status.
func postBooking(ctx context.Context, client *http.Client, url, key, date, idem string) (int, error) {
	body, _ := json.Marshal(api.BookingRequest{Date: date, Route: "main", PartySize: 1, Window: api.Window{From: "06:00", To: "15:00"}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/bookings", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", idem)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// benchCluster measures the replicated site's rows.
func benchCluster(ctx context.Context, f Options, dir string, n, reps int, logf func(string, ...any)) ([]Row, error) {
	bin := f.Binary
	if bin == "" {
		return nil, errors.New("bench: the replicated rows need the tafweej binary (Options.Binary)")
	}
	cdir := filepath.Join(dir, "cluster")
	logf("replicated site: starting a three-node NATS cluster on loopback and two 'tafweej serve --replicas 3'")
	servers, urls, err := clusterNATS(cdir)
	defer func() {
		for _, s := range servers {
			s.Shutdown()
		}
	}()
	if err != nil {
		return nil, err
	}
	const workers = 64
	var raw []float64
	rawCPU := processCPU() // the three NATS servers and the clients
	for r := range reps {
		perSec, err := rawR3Publish(ctx, urls, workers, n)
		if err != nil {
			return nil, err
		}
		raw = append(raw, perSec)
		logf("raw JetStream R3 publish, %d clients, rep %d/%d: %.0f/s", workers, r+1, reps, perSec)
	}
	rawCPU = processCPU() - rawCPU
	clock := benchBase(f.Config.Location()).Add(7 * time.Hour)
	var ins [2]*benchInstance
	for i := range ins {
		if ins[i], err = startBenchInstance(bin, f.ConfigPath, filepath.Join(cdir, fmt.Sprintf("instance%d", i)), urls, clock, f.Pipeline); err != nil {
			return nil, err
		}
		defer ins[i].stop()
		if i == 0 { // the first owns the site and makes the ops key
			if err := waitFile(filepath.Join(ins[0].data, "ops.key"), 30*time.Second); err != nil {
				return nil, err
			}
		}
	}
	opsKey, err := os.ReadFile(filepath.Join(ins[0].data, "ops.key"))
	if err != nil {
		return nil, err
	}
	if err := waitReady(ins[0].url, 30*time.Second); err != nil {
		return nil, err
	}
	// 200 operators: the API's per-key rate limit (20/s) is not the bound.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	keys := make([]string, 200)
	for i := 0; i < len(keys); i++ {
		b, _ := json.Marshal(api.KeyRequest{Role: "operator", Operator: fmt.Sprintf("rop-%03d", i)})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ins[0].url+"/v1/keys", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(opsKey)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusTooManyRequests { // the ops key's rate limit
			resp.Body.Close()
			time.Sleep(60 * time.Millisecond)
			i--
			continue
		}
		var k api.KeyCreated
		err = json.NewDecoder(resp.Body).Decode(&k)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusCreated {
			return nil, fmt.Errorf("bench: create an operator key on the replicated site: HTTP %d %v", resp.StatusCode, err)
		}
		keys[i] = k.Key
	}
	first := benchBase(f.Config.Location()).AddDate(0, 0, 20)
	var seq atomic.Int64
	book := func(url string) func([]byte) error {
		return func([]byte) error {
			i := seq.Add(1)
			date := first.AddDate(0, 0, int(i/1000)).Format(time.DateOnly)
			for {
				code, err := postBooking(ctx, client, url, keys[i%int64(len(keys))], date, fmt.Sprintf("rbench-%d", i))
				if err != nil {
					return err
				}
				switch code {
				case http.StatusCreated:
					return nil
				case http.StatusTooManyRequests:
					time.Sleep(10 * time.Millisecond)
				default:
					return fmt.Errorf("bench: replicated booking %d: HTTP %d", i, code)
				}
			}
		}
	}
	var tf []float64
	var lat []time.Duration
	cpu := cpuOf(ins[:])
	for r := range reps {
		perSec, l, err := requestBench(workers, make([][]byte, n), book(ins[0].url))
		if err != nil {
			return nil, err
		}
		tf = append(tf, perSec)
		lat = append(lat, l...)
		logf("bookings on the replicated site (R3), %d clients, rep %d/%d: %.0f/s", workers, r+1, reps, perSec)
	}
	// How the owner's turns went: records per commit and time per commit
	// (log append and Badger write), from its metrics.
	extra := ownerCommits(ctx, client, ins[0].url)
	// What a booking and a raw publish cost in CPU, every process of the
	// row counted: on a machine whose cores the row uses up, this bounds
	// the ratio whatever the log does.
	// Off Linux the serve processes' CPU is not read (0): nothing is said.
	if used := cpuOf(ins[:]).since(cpu); rawCPU > 0 && used.owner > 0 {
		if extra == nil {
			extra = map[string]float64{}
		}
		per := func(d time.Duration, count int) float64 { return float64(d.Microseconds()) / float64(count) }
		extra["cpu_us_per_raw_publish"] = per(rawCPU, n*reps)
		extra["cpu_us_per_booking"] = per(used.total(), n*reps)
		extra["cpu_us_per_booking_owner"] = per(used.owner, n*reps)
		extra["cpu_us_per_booking_standby"] = per(used.standby, n*reps)
		extra["cpu_us_per_booking_nats_and_clients"] = per(used.self, n*reps)
		logf("CPU: %.0f µs a booking (owner %.0f, standby %.0f, NATS servers and clients %.0f), %.0f µs a raw R3 publish",
			extra["cpu_us_per_booking"], extra["cpu_us_per_booking_owner"], extra["cpu_us_per_booking_standby"],
			extra["cpu_us_per_booking_nats_and_clients"], extra["cpu_us_per_raw_publish"])
	}
	rows := []Row{ratioRow(fmt.Sprintf("bookings, replicated R3, %d clients", workers),
		Figure{What: fmt.Sprintf("POST /v1/bookings answered 201 by the owner of a site replicated with --replicas 3 on a three-node loopback NATS cluster (each turn appended to the R3 log, then synced to Badger, before the answer), %d clients, 200 operators", workers),
			Value: median(tf), Unit: "bookings/s", N: n, Reps: reps, Concurrency: workers, P50Ms: quantileMs(lat, 0.5), P99Ms: quantileMs(lat, 0.99)},
		Figure{What: fmt.Sprintf("raw JetStream: 512-byte publishes to an R3 file stream of the same cluster, each awaiting its ack, %d clients", workers),
			Value: median(raw), Unit: "msgs/s", N: n, Reps: reps, Concurrency: workers, Durable: true})}
	rows[0].Extra = extra
	if len(extra) > 0 {
		logf("replicated owner: %.1f records per commit, %.2f ms per commit (log append and Badger write)", extra["records_per_commit"], extra["ms_per_commit"])
	}

	took, err := benchTakeover(ctx, client, ins[:], keys, first.AddDate(0, 1, 0), logf)
	if err != nil {
		return nil, err
	}
	rows = append(rows, Row{Name: "takeover after SIGKILL of the owner",
		Tafweej: Figure{What: "time from SIGKILL of the owner, mid-traffic, to the first booking answered 201 by the new owner (lease TTL 2 s)",
			Value: took.Seconds(), Unit: "s", N: 1, Reps: 1}})
	return rows, nil
}

// benchTakeover books from 8 clients through both instances, kills the
// owner (the first) and returns the time to the first 201 of a request
// sent after the kill.
func benchTakeover(ctx context.Context, client *http.Client, ins []*benchInstance, keys []string, date time.Time, logf func(string, ...any)) (time.Duration, error) {
	var (
		mu     sync.Mutex // guards killed and first
		killed time.Time
		first  time.Time
	)
	stop := make(chan struct{})
	var created atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				in := ins[(w+n)%len(ins)]
				sent := time.Now()
				code, err := postBooking(ctx, client, in.url, keys[w], date.Format(time.DateOnly), fmt.Sprintf("takeover-%d-%d", w, n))
				if err != nil || code != http.StatusCreated {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				created.Add(1)
				mu.Lock()
				if !killed.IsZero() && sent.After(killed) && first.IsZero() {
					first = time.Now()
				}
				mu.Unlock()
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	for created.Load() < 50 {
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	killed = time.Now()
	mu.Unlock()
	ins[0].kill()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		f, k := first, killed
		mu.Unlock()
		if !f.IsZero() {
			logf("takeover: the first booking after SIGKILL of the owner came %v later", f.Sub(k).Round(time.Millisecond))
			return f.Sub(k), nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, errors.New("bench: no booking acknowledged within 30 s of killing the owner")
}

func waitFile(path string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: %s did not appear within %v", path, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitReady waits until url's /readyz answers 200 (the owner serves).
func waitReady(url string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: %s/readyz did not answer 200 within %v", url, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ownerCommits reads the owner's tafweej_store_batch_records and
// tafweej_store_write_duration_seconds: the mean records and milliseconds
// per commit (nil if they cannot be read).
func ownerCommits(ctx context.Context, client *http.Client, url string) map[string]float64 {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	resp, err := client.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	v := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		var x float64
		if _, err := fmt.Sscan(f[1], &x); err == nil {
			v[f[0]] = x
		}
	}
	n := v["tafweej_store_batch_records_count"]
	if n == 0 {
		return nil
	}
	out := map[string]float64{"records_per_commit": v["tafweej_store_batch_records_sum"] / n,
		"ms_per_commit": 1000 * v["tafweej_store_write_duration_seconds_sum"] / v["tafweej_store_write_duration_seconds_count"]}
	// Where a turn's time goes: applying it, and its log append (the rest
	// of a commit is Badger's synced write, and waiting for the commits
	// before it when turns are pipelined).
	if c := v["tafweej_engine_turn_apply_duration_seconds_count"]; c > 0 {
		out["ms_apply_per_turn"] = 1000 * v["tafweej_engine_turn_apply_duration_seconds_sum"] / c
	}
	if c := v["tafweej_cluster_append_duration_seconds_count"]; c > 0 {
		out["ms_append"] = 1000 * v["tafweej_cluster_append_duration_seconds_sum"] / c
	}
	return out
}
