package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/testenv"
)

// Helpers for the tests that run the real binary: it is built once per test
// run into a temporary directory removed by TestMain.

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// raceEnabled reports whether this test binary was built with -race: the
// binary under test is then built with -race too (its packages are already
// compiled that way, so it costs a link).
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

// tafweejBinary builds the command once and returns its path.
func tafweejBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "tafweej-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "tafweej")
		args := []string{"build", "-o", binPath}
		if raceEnabled() {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, ".")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build tafweej: %v", buildErr)
	}
	return binPath
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// hhmm writes minutes of the day as HH:MM, as the API's windows are.
func hhmm(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// syncBuffer is a bytes.Buffer safe for a process writing and a test
// reading.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testServer is a `tafweej serve` process.
type testServer struct {
	t       *testing.T
	data    string
	httpURL string
	natsURL string
	opsKey  string
	cmd     *exec.Cmd
	log     *syncBuffer
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed
}

// startServer starts `tafweej serve` (log level warn) on free loopback
// ports with data in dir, waits until /readyz answers 200 and reads
// DIR/ops.key. extra flags are added (e.g. --clock-start). It is stopped at
// the end of the test.
func startServer(t *testing.T, dir string, extra ...string) *testServer {
	t.Helper()
	return launchServer(t, dir, "warn", func(s *testServer) error {
		resp, err := http.Get(s.httpURL + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz answered %d", resp.StatusCode)
		}
		return nil
	}, extra...)
}

// startServerWhen is startServer (log level info) waiting for ready(s)
// instead of /readyz 200 (a service that starts read-only is not ready).
func startServerWhen(t *testing.T, dir string, ready func(*testServer) error, extra ...string) *testServer {
	t.Helper()
	return launchServer(t, dir, "info", ready, extra...)
}

func launchServer(t *testing.T, dir, logLevel string, ready func(*testServer) error, extra ...string) *testServer {
	t.Helper()
	bin := tafweejBinary(t)
	httpAddr, natsAddr := freeAddr(t), freeAddr(t)
	args := append([]string{"serve", "--config", testenv.PetraPath(), "--data", dir, "--http", httpAddr,
		"--nats-listen", natsAddr, "--log-level", logLevel}, extra...)
	s := &testServer{t: t, data: dir, httpURL: "http://" + httpAddr, natsURL: "nats://" + natsAddr,
		cmd: exec.Command(bin, args...), log: &syncBuffer{}, done: make(chan struct{})}
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start tafweej serve: %v", err)
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.stop)
	checkFor(t, 60*time.Second, func() error {
		select {
		case <-s.done:
			t.Fatalf("tafweej serve exited before it was ready (%v):\n%s", s.waitErr, s.log.String())
		default:
		}
		return ready(s)
	})
	key, err := os.ReadFile(filepath.Join(dir, "ops.key"))
	if err != nil {
		t.Fatalf("read the ops key: %v", err)
	}
	s.opsKey = strings.TrimSpace(string(key))
	return s
}

// kill ends the process with SIGKILL, as a power cut would, and waits.
func (s *testServer) kill() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.t.Fatalf("tafweej serve did not die of SIGKILL")
	}
}

// stop ends the process with SIGTERM, then SIGKILL after ten seconds.
func (s *testServer) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		if strings.Contains(s.log.String(), "WARNING: DATA RACE") {
			s.t.Errorf("the race detector found a race in tafweej serve:\n%s", s.log.String())
		}
	case <-time.After(10 * time.Second):
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.done
		s.t.Errorf("tafweej serve did not stop on SIGTERM within 10 s; log:\n%s", s.log.String())
	}
}

// httpCall sends a request with a JSON body (nil for none) and decodes a JSON
// answer into out (nil to discard); it returns the status code.
func httpCall(ctx context.Context, hc *http.Client, method, url, key string, body, out any, hdr ...string) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s %s: %w: %s", method, url, err, data)
		}
	}
	return resp.StatusCode, nil
}

// mustHTTP is httpCall failing the test on a transport error or another status
// than want; a rate-limited request (429) is retried.
func mustHTTP(t *testing.T, method, url, key string, body, out any, want int) {
	t.Helper()
	code, err := httpCall(context.Background(), http.DefaultClient, method, url, key, body, out)
	for tries := 0; err == nil && code == http.StatusTooManyRequests && tries < 200; tries++ {
		time.Sleep(50 * time.Millisecond) // the key's rate limit: wait for its bucket
		code, err = httpCall(context.Background(), http.DefaultClient, method, url, key, body, out)
	}
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if code != want {
		t.Fatalf("%s %s: HTTP %d, want %d", method, url, code, want)
	}
}

// checkFor polls cond every 50 ms until it returns nil or the timeout
// passes (testenv.Eventually).
func checkFor(t *testing.T, timeout time.Duration, cond func() error) {
	t.Helper()
	testenv.Eventually(t, timeout, 50*time.Millisecond, cond)
}
