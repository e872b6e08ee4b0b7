package api

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
)

// slowHarness serves the harness's API through NewHTTPServer, as serve
// does.
func slowHarness(t *testing.T, adjust func(*Options), ho HTTPOptions) *harness {
	h := newHarness(t, adjust)
	h.srv.Close()
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = NewHTTPServer(h.api, ho)
	srv.Start()
	t.Cleanup(srv.Close)
	h.srv = srv
	return h
}

// bookingLatency books n times and returns the slowest answer.
func bookingLatency(t *testing.T, h *harness, key string, n int) time.Duration {
	t.Helper()
	var worst time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		h.book(key, BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 2, Window: Window{From: "08:00", To: "16:00"}})
		worst = max(worst, time.Since(start))
	}
	return worst
}

// trickle opens a connection, sends a request's headers and then one byte
// of its body every interval until stop is closed. It reports on done when
// the server answered (the status line) and closed the connection, or
// nothing if stop came first.
func trickle(t *testing.T, addr, head string, bodyLen int, every time.Duration, stop <-chan struct{}, done chan<- string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close()
	fmt.Fprintf(c, "%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", head, bodyLen)
	answer := make(chan string, 1)
	go func() {
		br := bufio.NewReader(c)
		line, _ := br.ReadString('\n')
		io.Copy(io.Discard, br) // until the server closes
		answer <- strings.TrimSpace(line)
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case a := <-answer:
			done <- a
			return
		case <-stop:
			return
		case <-tick.C:
			c.Write([]byte(" "))
		}
	}
}

// TestSlowKeylessClientsCannotDelayBookings: 300 connections without a key
// trickling request bodies (the issue: 320 of them made real bookings time
// out) are each answered 401 and closed at once, without the server waiting
// for their bodies, and a real booking's latency stays under 2 s.
func TestSlowKeylessClientsCannotDelayBookings(t *testing.T) {
	h := slowHarness(t, nil, HTTPOptions{})
	op := h.key(auth.RoleOperator, "desert-tours", nil)
	before := bookingLatency(t, h, op, 5)

	const attackers = 300
	addr := h.srv.Listener.Addr().String()
	stop := make(chan struct{})
	done := make(chan string, attackers)
	var wg sync.WaitGroup
	for i := 0; i < attackers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			trickle(t, addr, "POST /v1/bookings HTTP/1.1\r\nHost: x\r\n", 4000, 100*time.Millisecond, stop, done)
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	during := bookingLatency(t, h, op, 5)
	t.Logf("booking latency (worst of 5): %v without, %v with %d slow key-less connections", before, during, attackers)
	if during > 2*time.Second {
		t.Errorf("a booking took %v with %d slow key-less connections open", during, attackers)
	}
	// Each attacker was answered 401 and closed, without its 4000-byte body
	// (400 s at this pace) being waited for.
	deadline := time.After(3 * time.Second)
	var answers []string
	for len(answers) < attackers {
		select {
		case a := <-done:
			answers = append(answers, a)
		case <-deadline:
			t.Fatalf("after 3 s only %d of %d slow key-less requests were answered and closed; the server waits for their bodies", len(answers), attackers)
		}
	}
	// The status line may be lost when the client's next byte meets the
	// closed connection (a reset discards what was unread): an empty answer
	// is a connection closed, which is what matters.
	if i := slices.IndexFunc(answers, func(a string) bool { return a != "" && !strings.Contains(a, " 401 ") }); i >= 0 {
		t.Errorf("a slow key-less request was answered %q, want 401", answers[i])
	}
	closed := 0
	for _, a := range answers {
		if a == "" {
			closed++
		}
	}
	t.Logf("%d slow key-less requests answered 401 and closed, %d closed (status line lost or shed as pending)", attackers-closed, closed)
}

// TestSlowBodiesAndHeadersAreCut: a request with a valid key whose body
// does not arrive within the body deadline gets 408; headers that do not
// arrive within the header deadline close the connection; and past the
// limit of connections that have sent no request, the oldest are closed
// while a real booking still gets in.
func TestSlowBodiesAndHeadersAreCut(t *testing.T) {
	h := slowHarness(t, func(o *Options) { o.BodyTimeout = 300 * time.Millisecond },
		HTTPOptions{ReadHeaderTimeout: 300 * time.Millisecond, MaxPendingConns: 20})
	op := h.key(auth.RoleOperator, "desert-tours", nil)
	addr := h.srv.Listener.Addr().String()

	t.Run("body deadline", func(t *testing.T) {
		stop := make(chan struct{})
		defer close(stop)
		done := make(chan string, 1)
		start := time.Now()
		go trickle(t, addr, "POST /v1/bookings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+op+"\r\n", 4000, 50*time.Millisecond, stop, done)
		select {
		case a := <-done:
			if !strings.Contains(a, " 408 ") {
				t.Errorf("slow body answered %q, want 408", a)
			}
			t.Logf("slow body cut after %v", time.Since(start))
		case <-time.After(3 * time.Second):
			t.Fatal("a body trickled past its deadline is still being read after 3 s")
		}
	})
	t.Run("header deadline", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprint(c, "POST /v1/bookings HTTP/1.1\r\nHost: x\r\n")
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Errorf("a connection with unfinished headers is still open after 3 s: %v", err)
		}
	})
	t.Run("pending connections", func(t *testing.T) {
		var conns []net.Conn
		for i := 0; i < 100; i++ {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			conns = append(conns, c)
		}
		if d := bookingLatency(t, h, op, 3); d > 2*time.Second {
			t.Errorf("a booking took %v with 100 silent connections", d)
		}
		// Of the 100 silent connections, at most 20 are still open.
		waitFor(t, 2*time.Second, func() error {
			open := 0
			for _, c := range conns {
				c.SetReadDeadline(time.Now().Add(time.Millisecond))
				if _, err := c.Read(make([]byte, 1)); err != nil && isTimeout(err) {
					open++
				}
			}
			if open > 20 {
				return fmt.Errorf("%d silent connections open, limit 20", open)
			}
			return nil
		})
	})
	_ = http.StatusOK
}
