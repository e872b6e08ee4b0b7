package engine

import (
	"strconv"
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
