package engine

import (
	"strconv"
	"sync"
	"time"
)

// Clock is the engine's only source of time.
type Clock interface {
	Now() time.Time
	// NewTicker ticks every d of this clock's time.
	NewTicker(d time.Duration) Ticker
	// Name says which clock is in use ("wall" or "simulated ×N from T").
	Name() string
}

// Ticker is a time.Ticker behind an interface.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// WallClock is the real clock.
type WallClock struct{}

func (WallClock) Now() time.Time                   { return time.Now() }
func (WallClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }
func (WallClock) Name() string                     { return "wall" }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time { return r.t.C }
func (r realTicker) Stop()               { r.t.Stop() }

// SimClock runs from Start at Speed times the wall clock's pace, counted
// from the moment it was made. It is for demos, simulations and tests.
type SimClock struct {
	Start time.Time
	Speed float64
	wall  time.Time
}

// NewSimClock starts a simulated clock at start running speed× faster than
// the wall clock.
func NewSimClock(start time.Time, speed float64) *SimClock {
	if speed <= 0 {
		speed = 1
	}
	return &SimClock{Start: start, Speed: speed, wall: time.Now()}
}

func (s *SimClock) Now() time.Time {
	el := time.Since(s.wall)
	return s.Start.Add(time.Duration(float64(el) * s.Speed))
}

func (s *SimClock) NewTicker(d time.Duration) Ticker {
	w := time.Duration(float64(d) / s.Speed)
	if w < 10*time.Millisecond {
		w = 10 * time.Millisecond
	}
	return realTicker{time.NewTicker(w)}
}

func (s *SimClock) Name() string {
	return "simulated ×" + strconv.FormatFloat(s.Speed, 'g', -1, 64) + " from " + s.Start.Format(time.RFC3339)
}

// ManualClock stands still until it is Set or Advanced; its tickers never
// tick. It is for tests and tools that drive time themselves.
type ManualClock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

// NewManualClock returns a clock standing at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *ManualClock) NewTicker(time.Duration) Ticker { return idleTicker{} }
func (c *ManualClock) Name() string                   { return "manual" }

type idleTicker struct{}

func (idleTicker) C() <-chan time.Time { return nil }
func (idleTicker) Stop()               {}
