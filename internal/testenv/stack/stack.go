// Package stack builds the real parts a test runs against: the Petra config
// parsed, Badger in a temp dir, a store whose commits can be made to fail,
// an engine on a manual clock running until the test ends, and an embedded
// NATS server with JetStream on a random loopback port.
//
// The core (scheduler/) cannot use it in its internal tests (stack imports
// scheduler); it uses package testenv.
package stack

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// Petra is configs/petra.yaml parsed; each call parses anew, so a test may
// change its copy.
func Petra(t testing.TB) *scheduler.Config {
	t.Helper()
	cfg, err := scheduler.ParseConfig(testenv.PetraYAML(t))
	if err != nil {
		t.Fatalf("configs/petra.yaml: %v", err)
	}
	return cfg
}

// Badger opens a real Badger store in a temp dir, closed when the test ends.
func Badger(t testing.TB) *store.Badger {
	t.Helper()
	return BadgerAt(t, t.TempDir())
}

// BadgerAt opens a real Badger store in dir, closed when the test ends
// (a second Close by the test is harmless).
func BadgerAt(t testing.TB, dir string) *store.Badger {
	t.Helper()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// ErrInjected is what a FailingStore's Commit returns while failing.
var ErrInjected = errors.New("stack: injected commit failure (disk full)")

// FailingStore is a real store whose commits fail while Fail is set; it
// counts what it committed and what it refused.
type FailingStore struct {
	store.Store
	Fail      atomic.Bool
	Commits   atomic.Int64 // commits written
	Refused   atomic.Int64 // commits refused while failing
	OnRefused func(effects []scheduler.Effect)
}

// Commit fails with ErrInjected while Fail is set, else commits.
func (s *FailingStore) Commit(effects []scheduler.Effect) error {
	if s.Fail.Load() {
		s.Refused.Add(1)
		if s.OnRefused != nil {
			s.OnRefused(effects)
		}
		return ErrInjected
	}
	if err := s.Store.Commit(effects); err != nil {
		return err
	}
	s.Commits.Add(1)
	return nil
}

// Engine is an engine that runs until the test ends. Zero fields of opts
// get: the Petra config, Badger in a temp dir, and a manual clock at
// 29 November 2026 10:00 in Amman (two days before the story's day). The
// clock is returned so that the test can move it.
func Engine(t testing.TB, opts engine.Options) (*engine.Engine, *engine.ManualClock) {
	t.Helper()
	if opts.Config == nil {
		opts.Config = Petra(t)
	}
	if opts.Store == nil {
		opts.Store = Badger(t)
	}
	clock, _ := opts.Clock.(*engine.ManualClock)
	if opts.Clock == nil {
		clock = engine.NewManualClock(time.Date(2026, 11, 29, 10, 0, 0, 0, testenv.Amman))
		opts.Clock = clock
	}
	e, err := engine.New(opts)
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return e, clock
}

// NATS starts an embedded NATS server with JetStream on a random loopback
// port and a temp store dir, shut down when the test ends.
func NATS(t testing.TB) *server.Server {
	t.Helper()
	return NATSWith(t, server.Options{JetStream: true, StoreDir: t.TempDir()})
}

// NATSWith starts an embedded NATS server with opts (e.g. its users) on a
// random loopback port, without logs or signal handlers, shut down when
// the test ends.
func NATSWith(t testing.TB, opts server.Options) *server.Server {
	t.Helper()
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", -1, true, true
	s, err := server.NewServer(&opts)
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s
}
