package simulate

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/nats-io/nats.go"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// Options are what `tafweej simulate` plays. The zero value of Operators,
// Groups, Duration, AlertAt and Date means the default (see each field).
type Options struct {
	// Config is the site configuration the service runs.
	Config *scheduler.Config
	// API is the service's HTTP API, called with the ops key.
	API API
	// NATSURL is the NATS server of the service: scans and the alert go
	// there as requests, counter totals to JetStream.
	NATSURL string
	// Date is the day to play, YYYY-MM-DD; empty means the service's
	// current day.
	Date string
	// AlertAt is the time of the flood warning, HH:MM; empty means 14:30
	// (late in the run with Quick), "none" sends none.
	AlertAt string
	// Seed draws the plan: the same seed plays the same plan.
	Seed uint64
	// Speed is simulated seconds per real second, the service's clock
	// speed.
	Speed float64
	// Operators booking groups: 0 means 6 (3 with Quick).
	Operators int
	// Groups in the day, walk-ins included: 0 means 150 (36 with Quick).
	Groups int
	// Duration is the simulated time to play: 0 means until the site
	// closes (2h with Quick).
	Duration time.Duration
	// Quick is a short day for smoke tests: few groups arriving within
	// the hour, 2 simulated hours.
	Quick bool
	// JSON prints the summary as JSON.
	JSON bool
	// DwellFactor: visitors stay DwellFactor times the configured time
	// in each zone, with spread; nil means DefaultDwellFactor.
	DwellFactor *float64
	// LateShare is the share of groups that come late within their
	// grace; nil means DefaultLateShare.
	LateShare *float64
	// CounterNoise is the share of passages a counter miscounts by one;
	// nil means DefaultCounterNoise.
	CounterNoise *float64
	// LostBurst is how many counter messages the one burst of lost
	// messages loses (0: no burst); nil means DefaultLostBurst.
	LostBurst *int
	// NoReboot plays the day without the counter reboot.
	NoReboot bool
	// Connect connects one NATS device of the simulation: kind "gate",
	// "sensor" or "alerts" and its target (the gate, the sensor, the alert
	// source's name). It returns the connection and what ends it (for a
	// short-lived device the tool registered: close and revoke). nil
	// connects without credentials to NATSURL (an external server without
	// authentication).
	Connect func(ctx context.Context, kind, target string) (*nats.Conn, func(), error)
}

// API is the service's HTTP API as the simulation calls it (cmd/tafweej's
// client). Do sends a request with a JSON body (nil for none) and decodes
// the JSON answer into out (nil to discard); hdr are header name and value
// pairs. An error answer of the service is an error that implements
// APIError. WithKey is the same API called with another key.
type API interface {
	Do(ctx context.Context, method, path string, body, out any, hdr ...string) error
	WithKey(key string) API
}

// APIError is an error answer of the service, as API returns it.
type APIError interface {
	error
	HTTPStatus() int
	ErrorCode() string
	// AlternativeSlots are the waves with room the service proposed,
	// nearest first.
	AlternativeSlots() []time.Time
}

// UsageError is a figure of Options (a flag of the command) that cannot
// be played, with a hint.
type UsageError struct {
	Message string
	Hint    string
}

func (e *UsageError) Error() string {
	if e.Hint == "" {
		return e.Message
	}
	return e.Message + "\n  hint: " + e.Hint
}

func usagef(hint, format string, args ...any) error {
	return &UsageError{Message: fmt.Sprintf(format, args...), Hint: hint}
}

func randomKey() string {
	var b [12]byte
	crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// table prints rows under a header, aligned.
func table(w io.Writer, header string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// The world's deviations from the model and the devices' mishaps, with
// their defaults (Options' zero values).
const (
	// DefaultDwellFactor: visitors stay the configured time in each zone
	// (with spread).
	DefaultDwellFactor = 1.0
	// DefaultLateShare: 12% of the groups come late within their grace.
	DefaultLateShare = 0.12
	// DefaultCounterNoise: 6% of the passages a counter sees are
	// miscounted by one, half missed, half counted twice.
	DefaultCounterNoise = 0.06
	// DefaultLostBurst: one burst of 5 lost counter messages.
	DefaultLostBurst = 5
)

func (o *Options) dwellFactor() float64 {
	if o.DwellFactor == nil {
		return DefaultDwellFactor
	}
	return *o.DwellFactor
}

func (o *Options) lateShare() float64 {
	if o.LateShare == nil {
		return DefaultLateShare
	}
	return *o.LateShare
}

func (o *Options) counterNoise() float64 {
	if o.CounterNoise == nil {
		return DefaultCounterNoise
	}
	return *o.CounterNoise
}

func (o *Options) lostBurst() int {
	if o.LostBurst == nil {
		return DefaultLostBurst
	}
	return *o.LostBurst
}

// checkWorld checks the figures of the simulated world.
func (o *Options) checkWorld() error {
	if f := o.dwellFactor(); !(f > 0 && f <= 5) {
		return usagef("e.g. --dwell-factor 1.3: visitors stay 30% longer than configured", "--dwell-factor %v must be above 0 and at most 5", f)
	}
	if l := o.lateShare(); !(l >= 0 && l <= 0.8) {
		return usagef("e.g. --late-share 0.3; 5% never come, 7% come too early and 8% too late, so at most 0.8", "--late-share %v must be between 0 and 0.8", l)
	}
	if n := o.counterNoise(); !(n >= 0 && n <= 0.5) {
		return usagef("e.g. --counter-noise 0.06: 6% of passages miscounted by one", "--counter-noise %v must be between 0 and 0.5", n)
	}
	if b := o.lostBurst(); b < 0 || b > 1000 {
		return usagef("e.g. --lost-burst 5, or 0 for none", "--lost-burst %d must be between 0 and 1000", b)
	}
	return nil
}
