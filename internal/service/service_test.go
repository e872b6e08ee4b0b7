package service

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/internal/testenv/stack"
)

// TestServiceServesAndStops starts the whole service in the test's process
// on free ports: its addresses and ops key are known after New, /readyz,
// /metrics and the console answer, NATS takes connections, and cancelling
// Run's context stops it cleanly, releasing the store (it opens again).
func TestServiceServesAndStops(t *testing.T) {
	data := t.TempDir()
	start := func() (*Service, context.CancelFunc, chan error) {
		svc, err := New(context.Background(), Options{Config: stack.Petra(t), Data: data, HTTPAddr: "127.0.0.1:0", NATSPort: -1})
		if err != nil {
			t.Fatalf("new: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- svc.Run(ctx) }()
		return svc, cancel, done
	}
	svc, cancel, done := start()
	if _, err := os.Stat(svc.OpsKeyPath()); err != nil {
		t.Errorf("ops key: %v", err)
	}
	for _, path := range []string{"/readyz", "/metrics", "/gate"} {
		testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
			resp, err := http.Get(svc.URL() + path)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s answered %d", path, resp.StatusCode)
			}
			return nil
		})
	}
	// Nobody connects anonymously: the service's own user, in process.
	if nc, err := nats.Connect(svc.NATSURL(), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("an anonymous client connected to the embedded NATS server")
	}
	nc, err := svc.ServiceConn("test")
	if err != nil {
		t.Fatalf("nats: %v", err)
	}
	nc.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return after its context was cancelled")
	}
	// The store was closed: a second service opens the same data.
	_, cancel, done = start()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("second run: %v", err)
	}
}

// TestNewClosesWhatItOpenedOnError: a New that fails (here on a taken HTTP
// address, its last step) closes what it opened: the data opens again.
func TestNewClosesWhatItOpenedOnError(t *testing.T) {
	data := t.TempDir()
	first, err := New(context.Background(), Options{Config: stack.Petra(t), Data: t.TempDir(), HTTPAddr: "127.0.0.1:0", NATSPort: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, err = New(context.Background(), Options{Config: stack.Petra(t), Data: data, HTTPAddr: first.HTTPAddr(), NATSPort: -1})
	if err == nil {
		t.Fatal("a taken HTTP address was not an error")
	}
	second, err := New(context.Background(), Options{Config: stack.Petra(t), Data: data, HTTPAddr: "127.0.0.1:0", NATSPort: -1})
	if err != nil {
		t.Fatalf("the data of a failed New does not open again: %v", err)
	}
	second.Close()
}
