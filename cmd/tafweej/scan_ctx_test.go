package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/tafweej/tafweej/internal/testenv/stack"
)

// TestScanWithAnEndedContextFailsWithoutPanic: a scan whose context has
// ended (an embedding caller gave up) before its request is sent returns
// the context's error; it never reads an answer that was not received.
func TestScanWithAnEndedContextFailsWithoutPanic(t *testing.T) {
	url, seedFile := nkeyNATS(t)
	root := newRoot()
	root.SetArgs([]string{"scan", "TFW1.x", "--gate", "visitor-centre", "--nats", url,
		"--nkey", seedFile, "--inbox-prefix", "_INBOX_test"})
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := root.ExecuteContext(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("scan with an ended context: %v, want context.Canceled\n%s", err, out.String())
	}
}

// TestScanRejectExitCodesAreTheDocumentedOnes: a rejected scan printed for
// people exits 1 (errSilent); with --json it prints the service's answer
// and exits 0, the decision being in the JSON, as scripts written against
// it expect (README, docs/wire-contract.md).
func TestScanRejectExitCodesAreTheDocumentedOnes(t *testing.T) {
	url, seedFile := nkeyNATS(t)
	// The service's part: every scan at the gate is rejected.
	nk, err := nats.NkeyOptionFromSeed(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := nats.Connect(url, nk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	reject := []byte(`{"decision":"reject","reason":"unknown_ticket","admitted":0,"message":{"en":"Ticket not recognised","ar":"التذكرة غير معروفة"}}`)
	if _, err := svc.Subscribe("tafweej.petra.gate.visitor-centre.scan", func(m *nats.Msg) { _ = m.Respond(reject) }); err != nil {
		t.Fatal(err)
	}
	if err := svc.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, json := range []bool{false, true} {
		args := []string{"scan", "TFW1.x", "--gate", "visitor-centre", "--nats", url,
			"--nkey", seedFile, "--inbox-prefix", "_INBOX_test"}
		want := "REJECT"
		if json {
			args = append([]string{"--json"}, args...)
			want = `"decision": "reject"`
		}
		out, err := cli(t, args...)
		if !strings.Contains(out, want) {
			t.Errorf("a rejected scan (--json %v) printed no %s:\n%s", json, want, out)
		}
		switch {
		case !json && !errors.Is(err, errSilent):
			t.Errorf("a rejected scan: %v, want exit 1 (errSilent)", err)
		case json && err != nil:
			t.Errorf("a rejected scan with --json: %v, want exit 0 (the decision is in the JSON)", err)
		}
	}
}

// nkeyNATS starts an embedded NATS server (no JetStream) that admits one
// NKey user with every permission, and returns its URL and the user's
// seed file, as 'tafweej devices add' writes it.
func nkeyNATS(t *testing.T) (url, seedFile string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	seed, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	s := stack.NATSWith(t, server.Options{Nkeys: []*server.NkeyUser{{Nkey: pub}}})
	seedFile = filepath.Join(t.TempDir(), "device.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	return s.ClientURL(), seedFile
}
