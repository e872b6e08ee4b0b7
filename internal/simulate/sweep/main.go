// Command sweep runs `tafweej simulate --json` over seeds, demands and
// dwell factors, each run against a fresh service on a simulated clock,
// one run at a time, and prints the aggregate as Markdown tables
// (docs/closed-loop.md). `make sim-sweep` runs it.
//
//	go run ./internal/simulate/sweep --bin bin/tafweej --groups 220,450 --seeds 10 --dwell 1.0,1.3 --out sweep
//
// Each run's report is kept in --out as <groups>-<dwell>-<late>-x<speed>-<seed>.json;
// a run whose report is there already is not played again, so an
// interrupted sweep resumes. --aggregate only prints the tables of the
// reports in --out.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tafweej/tafweej/internal/simulate"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sweep:", err)
		os.Exit(1)
	}
}

type options struct {
	bin, config, out, clockStart string
	groups                       []int
	dwell, late                  []float64
	seeds, firstSeed             int
	speed                        float64
	aggregate, jsonOut           bool
	extra                        []string
}

func run() error {
	var o options
	var groups, dwell, late string
	flag.StringVar(&o.bin, "bin", "bin/tafweej", "the tafweej binary (make build)")
	flag.StringVar(&o.config, "config", "configs/petra.yaml", "site configuration")
	flag.StringVar(&o.out, "out", "sweep", "directory for each run's JSON report and logs")
	flag.StringVar(&o.clockStart, "clock-start", "2026-12-01T05:00:00+03:00", "the service's simulated clock start (the day played)")
	flag.StringVar(&groups, "groups", "220,450", "demands to play: --groups of simulate, comma-separated")
	flag.StringVar(&dwell, "dwell", "1.0,1.3", "dwell factors, comma-separated")
	flag.StringVar(&late, "late", "0.12", "late shares, comma-separated")
	flag.IntVar(&o.seeds, "seeds", 10, "seeds per setting")
	flag.IntVar(&o.firstSeed, "first-seed", 1, "first seed")
	flag.Float64Var(&o.speed, "speed", 400, "simulated seconds per real second (on a loaded machine a high speed makes the simulation play moves and scans late: see move_lag_seconds)")
	flag.BoolVar(&o.aggregate, "aggregate", false, "only print the tables of the reports already in --out")
	flag.BoolVar(&o.jsonOut, "json", false, "print the aggregate as JSON")
	flag.Parse()
	o.extra = flag.Args() // passed on to simulate
	var err error
	if o.groups, err = ints("--groups", groups); err != nil {
		return err
	}
	if o.dwell, err = floats("--dwell", dwell); err != nil {
		return err
	}
	if o.late, err = floats("--late", late); err != nil {
		return err
	}
	if o.seeds < 1 {
		return fmt.Errorf("--seeds %d must be at least 1", o.seeds)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var reports []simulate.Report
	// Seeds outermost: a sweep cut short has as many seeds of every
	// setting.
	for seed := o.firstSeed; seed < o.firstSeed+o.seeds; seed++ {
		for _, g := range o.groups {
			for _, d := range o.dwell {
				for _, l := range o.late {
					name := filepath.Join(o.out, fmt.Sprintf("%d-%.2f-%.2f-x%g-%d.json", g, d, l, o.speed, seed))
					if _, err := os.Stat(name); err != nil && !o.aggregate {
						start := time.Now()
						fmt.Fprintf(os.Stderr, "run --groups %d --dwell-factor %.2f --late-share %.2f --seed %d ... ", g, d, l, seed)
						if err := playOne(ctx, o, g, d, l, seed, name); err != nil {
							fmt.Fprintln(os.Stderr, "failed")
							return err
						}
						fmt.Fprintf(os.Stderr, "%v\n", time.Since(start).Round(time.Second))
					}
					r, err := readReport(name)
					if errors.Is(err, os.ErrNotExist) && o.aggregate {
						continue
					}
					if err != nil {
						return err
					}
					reports = append(reports, r)
				}
			}
		}
	}
	rows := simulate.Aggregate(reports)
	if o.jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	simulate.PrintSweep(os.Stdout, rows)
	return nil
}

func readReport(name string) (simulate.Report, error) {
	var r simulate.Report
	b, err := os.ReadFile(name)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

// playOne starts a fresh service, plays one day against it and keeps the
// report in name.
func playOne(ctx context.Context, o options, groups int, dwell, late float64, seed int, name string) error {
	dir, err := os.MkdirTemp("", "tafweej-sweep-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	httpAddr, natsAddr := freeAddr(), freeAddr()
	base := strings.TrimSuffix(name, ".json")
	slog, err := os.Create(base + ".serve.log")
	if err != nil {
		return err
	}
	defer slog.Close()
	serve := exec.Command(o.bin, "serve", "--config", o.config, "--data", dir, "--http", httpAddr, "--nats-listen", natsAddr,
		"--clock-start", o.clockStart, "--clock-speed", strconv.FormatFloat(o.speed, 'f', -1, 64), "--log-level", "warn")
	serve.Stdout, serve.Stderr = slog, slog
	if err := serve.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	defer func() {
		serve.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			serve.Process.Kill()
			<-exited
		}
	}()
	key, err := waitReady(ctx, "http://"+httpAddr, filepath.Join(dir, "ops.key"), exited)
	if err != nil {
		return fmt.Errorf("start the service (log in %s.serve.log): %w", base, err)
	}
	operators := max(6, (groups*12+225)/450) // 12 for twice the record day, as in issue 16
	args := append([]string{"simulate", "--server", "http://" + httpAddr, "--key", key, "--nats", "nats://" + natsAddr,
		"--config", o.config, "--speed", strconv.FormatFloat(o.speed, 'f', -1, 64), "--seed", strconv.Itoa(seed),
		"--groups", strconv.Itoa(groups), "--operators", strconv.Itoa(operators),
		"--dwell-factor", strconv.FormatFloat(dwell, 'f', -1, 64), "--late-share", strconv.FormatFloat(late, 'f', -1, 64), "--json"}, o.extra...)
	sim := exec.CommandContext(ctx, o.bin, args...)
	elog, err := os.Create(base + ".simulate.log")
	if err != nil {
		return err
	}
	defer elog.Close()
	out, err := os.Create(name + ".tmp")
	if err != nil {
		return err
	}
	sim.Stdout, sim.Stderr = out, elog
	err = sim.Run()
	out.Close()
	if err != nil {
		os.Remove(name + ".tmp")
		return fmt.Errorf("%s %s: %w (log in %s.simulate.log)", o.bin, strings.Join(args[:1], " "), err, base)
	}
	return os.Rename(name+".tmp", name)
}

// waitReady waits for the service's /healthz and its ops key.
func waitReady(ctx context.Context, base, keyFile string, exited <-chan error) (string, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return "", fmt.Errorf("the service exited: %v", err)
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		key, err := os.ReadFile(keyFile)
		if err != nil || len(strings.TrimSpace(string(key))) == 0 {
			continue
		}
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return strings.TrimSpace(string(key)), nil
		}
	}
	return "", errors.New("not ready within 60 s")
}

// freeAddr is a loopback address with a port free now.
func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:0"
	}
	defer l.Close()
	return l.Addr().String()
}

func ints(flagName, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s %q: want positive whole numbers, comma-separated (e.g. 220,450)", flagName, s)
		}
		out = append(out, n)
	}
	return out, nil
}

func floats(flagName, s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || x < 0 {
			return nil, fmt.Errorf("%s %q: want numbers, comma-separated (e.g. 1.0,1.3)", flagName, s)
		}
		out = append(out, x)
	}
	return out, nil
}
