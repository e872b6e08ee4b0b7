package sensors

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// buildNATSServer builds the nats-server binary from the module this
// repository requires, once per test run.
var buildNATSServer = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tafweej-nats-server")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "nats-server")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race") // reuses the packages the test binary was built from
	}
	args = append(args, "github.com/nats-io/nats-server/v2")
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build nats-server: %v\n%s", err, out)
	}
	return bin, nil
})

// natsProcess is a nats-server in its own process, with JetStream on a
// store directory that survives its restarts.
type natsProcess struct {
	t        *testing.T
	bin, dir string
	port     int
	cmd      *exec.Cmd
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (p *natsProcess) url() string { return "nats://127.0.0.1:" + strconv.Itoa(p.port) }

func (p *natsProcess) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, "-a", "127.0.0.1", "-p", strconv.Itoa(p.port), "-js", "-sd", p.dir)
	if testing.Verbose() {
		p.cmd.Stdout, p.cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	checkFor(p.t, 20*time.Second, 20*time.Millisecond, func() error {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p.port))
		if err != nil {
			return err
		}
		return c.Close()
	})
}

func (p *natsProcess) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	p.cmd = nil
}

// proxy forwards TCP connections to a target while it is up; down closes
// the listener and every connection, so that the service is away while the
// server and the devices are not.
type proxy struct {
	t      *testing.T
	addr   string
	target string

	mu    sync.Mutex // guards ln and conns
	ln    net.Listener
	conns []net.Conn
}

func (p *proxy) up() {
	p.t.Helper()
	var ln net.Listener
	var err error
	checkFor(p.t, 5*time.Second, 20*time.Millisecond, func() error {
		ln, err = net.Listen("tcp", p.addr)
		return err
	})
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(d, c); d.Close() }()
			go func() { _, _ = io.Copy(c, d); c.Close() }()
		}
	}()
}

func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// The service runs against a separate nats-server process, which is
// stopped and started again while the service is away; counter messages
// published meanwhile are applied once it is back.
func TestExternalServerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs nats-server")
	}
	bin, err := buildNATSServer()
	if err != nil {
		t.Skipf("cannot build nats-server from the nats-server/v2 module, so this test cannot run: %v", err)
	}
	srv := &natsProcess{t: t, bin: bin, dir: t.TempDir(), port: freePort(t)}
	srv.start()
	t.Cleanup(srv.stop)
	px := &proxy{t: t, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), target: fmt.Sprintf("127.0.0.1:%d", srv.port)}
	px.up()
	t.Cleanup(px.down)

	// The devices connect to the server directly, the service through the
	// proxy.
	h := newHarness(t, harnessOptions{url: srv.url(), noSvc: true})
	h.stop()
	h.url = "nats://" + px.addr
	h.start(true)
	h.at("09:00")

	c := h.counter("siq-n1", "siq", "b1")
	for range 20 {
		c.Add(5, 1)
		publish(t, c)
	}
	h.waitSensor("siq-n1", "b1", 20)
	if live := h.occupancy("siq").Live; live != 80 {
		t.Fatalf("live %d, want 80", live)
	}

	// The service goes away; the server restarts behind it.
	px.down()
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if h.nc.IsConnected() {
			return fmt.Errorf("service still connected")
		}
		return nil
	})
	srv.stop()
	srv.start()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 30 {
		c.Add(3, 1)
		if i == 10 {
			c.Lose()
			continue
		}
		// The devices' connection reconnects by itself; a publish before
		// it has is retried.
		for {
			err := c.Publish(ctx)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("publish while the service is away: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if h.nc.IsConnected() {
		t.Fatal("the service reconnected before the proxy was up: the test proves nothing")
	}
	if st := h.sensor("siq-n1"); st.Seq != 20 {
		t.Fatalf("applied up to seq %d while away", st.Seq)
	}

	// Back: it reconnects and catches up.
	px.up()
	h.waitSensor("siq-n1", "b1", c.Seq())
	if live := h.occupancy("siq").Live; live != 80+60 {
		t.Errorf("live %d after catching up, want %d", live, 80+60)
	}
	for _, want := range []string{"NATS disconnected; reconnecting", "NATS reconnected"} {
		if !strings.Contains(h.logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, h.logs.String())
		}
	}
	if v := h.metric("tafweej_nats_connected"); v != 1 {
		t.Errorf("tafweej_nats_connected = %v", v)
	}
	// And gates are answered again.
	b := h.book("op-wadi", "main", "", 5, "09:00", "09:15")
	if r := h.scan("visitor-centre", scheduler.ScanRequest{Ticket: h.signer.Code(b), Count: 5}); r.Admitted != 5 {
		t.Errorf("scan after the reconnect: %+v", r)
	}
}
