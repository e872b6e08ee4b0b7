package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// TestScanWithAnEndedContextFailsWithoutPanic: a scan whose context has
// ended (an embedding caller gave up) before its request is sent returns
// the context's error; it never reads an answer that was not received.
func TestScanWithAnEndedContextFailsWithoutPanic(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
		Nkeys: []*server.NkeyUser{{Nkey: pub}}})
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(s.Shutdown)
	seed, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	seedFile := filepath.Join(t.TempDir(), "vc1.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	root := newRoot()
	root.SetArgs([]string{"scan", "TFW1.x", "--gate", "visitor-centre", "--nats", s.ClientURL(),
		"--nkey", seedFile, "--inbox-prefix", "_INBOX_test"})
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = root.ExecuteContext(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("scan with an ended context: %v, want context.Canceled\n%s", err, out.String())
	}
}
