package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/internal/simulate"
)

// simFlags are the flags of `tafweej simulate`.
type simFlags struct {
	natsURL   string
	site      string
	date      string
	config    string
	alertAt   string
	seed      uint64
	speed     float64
	operators int
	groups    int
	duration  time.Duration
	quick     bool
	// the world deviating from the model, and the devices' mishaps
	dwellFactor  float64
	lateShare    float64
	counterNoise float64
	lostBurst    int
	reboot       bool
}

func newSimulateCmd(g *globals) *cobra.Command {
	f := &simFlags{}
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Play a realistic day against a running service, through HTTP and NATS",
		Long: `Play a day at the site against a running service: operators book tour groups
(10 to 60 visitors, mostly for 08:00-11:00 as the coaches arrive 09:00-10:00),
the ticket office sells walk-ins, groups arrive early, on time or late (some
never come, some pass the gate in several batches, some devices retry a scan),
the gates scan their tickets over NATS, every people counter of the
configuration publishes cumulative totals to JetStream as the admitted groups
walk their routes (with miscounts, one burst of lost messages and one counter
reboot), and a flood warning comes in the afternoon: the closed zones are
evacuated.

The simulator keeps its own truth: where each admitted visitor really is. The
report gives, per zone, the true peak occupancy against capacity and the
minutes over the hold threshold and over capacity, the same for the service's
estimate (GET /v1/occupancy read every simulated minute) and its largest error
against the truth; the flood warning's effect at the gates (admissions into
closed zones after it); the groups held and the minutes they waited; the
visitors admitted. --dwell-factor and --late-share make the world deviate from
the model the service plans with.

The simulation follows the service's clock (GET /healthz). Run the service on a
simulated clock at the speed given here, or the day takes a day. The plan is
deterministic for a --seed; the service's answers decide the rest.`,
		Example: `  tafweej serve --clock-start 2026-12-01T06:00:00+03:00 --clock-speed 120
  tafweej simulate --speed 120                       # the whole day in about five minutes
  tafweej simulate --speed 120 --seed 7 --groups 200 --operators 8 --alert-at 13:30
  tafweej simulate --quick --speed 600               # a short day for a smoke test
  tafweej simulate --speed 1000 --groups 450 --operators 12 --dwell-factor 1.3 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runSimulation(ctx, g, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	envFlag(fl, &f.natsURL, "nats", "TAFWEEJ_NATS", nats.DefaultURL, "NATS URL of the service (env TAFWEEJ_NATS)")
	fl.StringVar(&f.site, "site", "petra", "site id (the configuration's site)")
	fl.StringVar(&f.date, "date", "", "day to play, YYYY-MM-DD (default: the service's current day)")
	fl.StringVar(&f.config, "config", "configs/petra.yaml", "site configuration file, the one the service runs")
	fl.StringVar(&f.alertAt, "alert-at", "", "time of the flood warning, HH:MM (default 14:30, or late in a --quick run); \"none\" sends none")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed: the same seed plays the same plan")
	fl.Float64Var(&f.speed, "speed", 1, "simulated seconds per real second; match the service's --clock-speed")
	fl.IntVar(&f.operators, "operators", 0, "tour operators booking groups (default 6, 3 with --quick)")
	fl.IntVar(&f.groups, "groups", 0, "groups in the day, walk-ins included (default 150, 36 with --quick)")
	fl.DurationVar(&f.duration, "duration", 0, "simulated time to play (default: until the site closes, 2h with --quick)")
	fl.BoolVar(&f.quick, "quick", false, "a short day for smoke tests: few groups arriving within the hour, 2 simulated hours")
	fl.Float64Var(&f.dwellFactor, "dwell-factor", simulate.DefaultDwellFactor, "visitors stay this many times the configured time in each zone (with spread of a third either way)")
	fl.Float64Var(&f.lateShare, "late-share", simulate.DefaultLateShare, "share of groups that come late within their grace (0 to 0.8)")
	fl.Float64Var(&f.counterNoise, "counter-noise", simulate.DefaultCounterNoise, "share of passages a people counter miscounts by one (0 to 0.5)")
	fl.IntVar(&f.lostBurst, "lost-burst", simulate.DefaultLostBurst, "counter messages lost in the one burst of lost messages (0: none)")
	fl.BoolVar(&f.reboot, "counter-reboot", true, "reboot one Treasury counter at midday (--counter-reboot=false: none)")
	return cmd
}

// runSimulation turns the flags into simulate.Options and plays the day.
func runSimulation(ctx context.Context, g *globals, f *simFlags, out, errw io.Writer) error {
	o := simulate.Options{NATSURL: f.natsURL, Date: f.date, AlertAt: f.alertAt, Seed: f.seed, Speed: f.speed,
		Operators: f.operators, Groups: f.groups, Duration: f.duration, Quick: f.quick, JSON: g.json,
		DwellFactor: &f.dwellFactor, LateShare: &f.lateShare, CounterNoise: &f.counterNoise, LostBurst: &f.lostBurst, NoReboot: !f.reboot}
	if err := simUsage(o.Check()); err != nil {
		return err
	}
	cfg, err := loadConfig(f.config)
	if err != nil {
		return err
	}
	if cfg.Site != f.site {
		return usagef("pass the configuration the service runs with --config", "--site %q is not the site of %s (%q)", f.site, f.config, cfg.Site)
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	if c.key == "" {
		return usagef("pass the ops key with --key or TAFWEEJ_KEY (DATA/ops.key)", "simulate needs an ops key to create operator keys and sell walk-ins")
	}
	o.Config, o.API = cfg, simAPI{c}
	// Every gate, counter and the alert source is a short-lived device
	// registered with the ops key (devices.go), revoked at the end.
	name := "tafweej simulate"
	o.Connect = func(ctx context.Context, kind, target string) (*nats.Conn, func(), error) {
		d, err := connectDevice(ctx, c, f.natsURL, kind, target, name, nats.Name("tafweej-simulate-"+target))
		if err != nil {
			return nil, nil, err
		}
		return d.Conn, d.Close, nil
	}
	return simUsage(simulate.Run(ctx, o, out, errw))
}

// simUsage turns the simulation's usage errors into the command's.
func simUsage(err error) error {
	var ue *simulate.UsageError
	if errors.As(err, &ue) {
		return &usageError{message: ue.Message, hint: ue.Hint}
	}
	return err
}

// simAPI is the client as the simulation's API.
type simAPI struct{ c *client }

func (a simAPI) Do(ctx context.Context, method, path string, body, out any, hdr ...string) error {
	return a.c.do(ctx, method, path, body, out, hdr...)
}

func (a simAPI) WithKey(key string) simulate.API {
	return simAPI{&client{base: a.c.base, key: key, http: a.c.http}}
}

// The service's error answers, as the simulation reads them.
func (e *apiError) HTTPStatus() int   { return e.Status }
func (e *apiError) ErrorCode() string { return e.Code }
func (e *apiError) AlternativeSlots() []time.Time {
	var out []time.Time
	for _, a := range e.Alternatives {
		out = append(out, a.Slot)
	}
	return out
}
