package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/sensors"
	"github.com/tafweej/tafweej/store"
	"github.com/tafweej/tafweej/tickets"
	"github.com/tafweej/tafweej/web"
)

type serveFlags struct {
	config     string
	data       string
	httpAddr   string
	natsURL    string
	natsListen string
	clockStart string
	clockSpeed float64
	logLevel   string
	natsCreds  string
	natsUser   string
	natsPass   string
	natsToken  string
	natsCA     string
	natsCert   string
	natsKey    string
	minFree    sizeFlag
	// webhookAllowPrivate lets webhook endpoints be on private addresses.
	webhookAllowPrivate bool
}

func newServeCmd() *cobra.Command {
	f := &serveFlags{minFree: sizeFlag{store.DefaultMinFree}}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the scheduler service: HTTP API, NATS gate and counter adapters, metrics",
		Long: `Run the service. By default it starts an embedded NATS server (JetStream on,
data under --data) on --nats-listen; with --nats URL it connects to an external
server or cluster instead. Badger, the JetStream store, the ticket signing key
and the first ops key (DIR/ops.key) live under --data.`,
		Example: `  tafweej serve
  tafweej serve --config configs/petra.yaml --data ./data --http 127.0.0.1:8080
  tafweej serve --nats nats://10.0.0.5:4222,nats://10.0.0.6:4222 --nats-creds ops.creds
  tafweej serve --clock-start 2026-12-01T06:00:00+03:00 --clock-speed 60   # demo: one hour a minute`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return serve(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "configs/petra.yaml", "site configuration file")
	fl.StringVar(&f.data, "data", "./data", "data directory: Badger, JetStream store, ticket key, ops key")
	fl.StringVar(&f.httpAddr, "http", "127.0.0.1:8080", "HTTP listen address")
	fl.StringVar(&f.natsURL, "nats", "", "external NATS server or cluster URL(s), comma-separated; empty starts an embedded server")
	fl.StringVar(&f.natsListen, "nats-listen", "127.0.0.1:4222", "listen address of the embedded NATS server")
	fl.StringVar(&f.clockStart, "clock-start", "", "run on a simulated clock starting at this RFC 3339 time (demos, simulate, tests)")
	fl.Float64Var(&f.clockSpeed, "clock-speed", 1, "speed of the simulated clock (60 = one hour a minute)")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fl.StringVar(&f.natsCreds, "nats-creds", "", "external NATS: credentials file")
	fl.StringVar(&f.natsUser, "nats-user", "", "external NATS: user")
	secretFlag(fl, &f.natsPass, "nats-password", "TAFWEEJ_NATS_PASSWORD", "external NATS: password (env TAFWEEJ_NATS_PASSWORD)")
	secretFlag(fl, &f.natsToken, "nats-token", "TAFWEEJ_NATS_TOKEN", "external NATS: token (env TAFWEEJ_NATS_TOKEN)")
	fl.StringVar(&f.natsCA, "nats-tls-ca", "", "external NATS: CA certificate for TLS")
	fl.StringVar(&f.natsCert, "nats-tls-cert", "", "external NATS: client certificate for TLS")
	fl.StringVar(&f.natsKey, "nats-tls-key", "", "external NATS: client key for TLS")
	fl.Var(&f.minFree, "min-free", "free-space reserve of the data's filesystems (e.g. 64MiB, 1GiB): under it new bookings and requests are refused (HTTP 507), under a quarter of it scans and counter readings too")
	fl.BoolVar(&f.webhookAllowPrivate, "webhook-allow-private", false, "let webhook endpoints be on loopback, private and link-local addresses (refused by default: no request forgery into the reserve's network)")
	return cmd
}

func loadConfig(path string) (*scheduler.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("pass --config FILE; the Petra configuration is configs/petra.yaml", "read configuration: %v", err)
	}
	cfg, err := scheduler.ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("use debug, info, warn or error", "--log-level %q is not a level", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

func serve(ctx context.Context, f *serveFlags) error {
	log, err := newLogger(f.logLevel)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(f.config)
	if err != nil {
		return err
	}
	var clock engine.Clock = engine.WallClock{}
	if f.clockStart != "" {
		start, err := time.Parse(time.RFC3339, f.clockStart)
		if err != nil {
			return usagef("e.g. --clock-start 2026-12-01T06:00:00+03:00", "--clock-start %q is not an RFC 3339 time", f.clockStart)
		}
		if f.clockSpeed <= 0 || f.clockSpeed > 10000 {
			return usagef("e.g. --clock-speed 60", "--clock-speed %v must be above 0 and at most 10000", f.clockSpeed)
		}
		clock = engine.NewSimClock(start, f.clockSpeed)
	}
	if err := os.MkdirAll(f.data, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	reg := prometheus.DefaultRegisterer
	reg.MustRegister(collectors.NewBuildInfoCollector())

	// Disk space is checked before the store is opened (space.go).
	badgerDir := filepath.Join(f.data, "badger")
	spaceDirs := []string{badgerDir, f.data}
	if f.natsURL == "" {
		spaceDirs = append(spaceDirs, filepath.Join(f.data, "jetstream"))
	}
	spaceEv := &spaceEvents{}
	space, err := openSpace(ctx, log, reg, f.minFree.n, badgerDir, spaceDirs, spaceEv)
	if err != nil {
		return err
	}
	st, err := store.Open(badgerDir, store.Options{Logger: log})
	if err != nil {
		return fmt.Errorf("open store: %w\n  hint: is another 'tafweej serve' using %s?", err, f.data)
	}
	defer st.Close()

	key, created, err := tickets.LoadOrCreateKey(filepath.Join(f.data, "ticket.key"))
	if err != nil {
		return err
	}
	if created {
		log.Info("created the ticket signing key", "path", filepath.Join(f.data, "ticket.key"))
	}
	signer := tickets.NewSigner(key)

	// NATS: embedded by default, external on request.
	natsURL := f.natsURL
	if natsURL == "" {
		host, portS, err := net.SplitHostPort(f.natsListen)
		if err != nil {
			return usagef("e.g. --nats-listen 127.0.0.1:4222", "--nats-listen %q: %v", f.natsListen, err)
		}
		port, err := strconv.Atoi(portS)
		if err != nil {
			return usagef("e.g. --nats-listen 127.0.0.1:4222", "--nats-listen %q: port %q is not a number", f.natsListen, portS)
		}
		ns, err := sensors.StartEmbedded(sensors.EmbeddedOptions{Host: host, Port: port, StoreDir: filepath.Join(f.data, "jetstream"), NoLog: true})
		if err != nil {
			return fmt.Errorf("start embedded NATS on %s: %w\n  hint: is the port taken? choose another with --nats-listen", f.natsListen, err)
		}
		defer ns.Shutdown()
		natsURL = ns.ClientURL()
		log.Info("embedded NATS server started", "url", natsURL, "jetstream", filepath.Join(f.data, "jetstream"))
	}
	nc, err := sensors.Connect(natsURL, sensors.ConnectOptions{
		Name: "tafweej-" + cfg.Site, CredsFile: f.natsCreds, User: f.natsUser, Password: f.natsPass, Token: f.natsToken,
		TLSCA: f.natsCA, TLSCert: f.natsCert, TLSKey: f.natsKey, Logger: log})
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", natsURL, err)
	}
	defer nc.Close()

	events := sensors.NewEvents(nc, cfg.Site, log)
	hooks, err := newWebhooks(st, cfg, log, reg, f.webhookAllowPrivate)
	if err != nil {
		return err
	}
	eng, err := engine.New(engine.Options{Config: cfg, Store: st, Clock: clock, Publish: events.Publish, Logger: log, Registerer: reg,
		Space: space, Outbox: hooks})
	if err != nil {
		return err
	}
	spaceEv.set(events.Publish, eng.Now)

	opsKeyPath := filepath.Join(f.data, "ops.key")
	// A missing ops.key gets a new ops key, and the one it held before is
	// revoked: a lost or deleted file never leaves its secret working.
	if made, revoked, err := api.EnsureOpsKey(st, opsKeyPath, eng.Now()); err != nil {
		return err
	} else if made {
		log.Info("created an ops API key; keep it safe", "path", opsKeyPath)
		for _, k := range revoked {
			log.Warn("ops.key was missing: revoked the ops key it held before", "id", k.ID(), "prefix", k.Prefix)
		}
	}
	keys := api.NewKeys(st) // one key lookup for the API and the console

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g run.Group
	svc, err := sensors.Start(ctx, sensors.Options{Conn: nc, Site: cfg.Site, Engine: eng, Public: signer.Public(), Store: st, Logger: log, Registerer: reg})
	if err != nil {
		return fmt.Errorf("start NATS adapters: %w", err)
	}
	offline, err := sensors.StartOffline(ctx, sensors.OfflineOptions{Conn: nc, Site: cfg.Site, Engine: eng, Public: signer.Public(), Logger: log})
	if err != nil {
		svc.Stop()
		return fmt.Errorf("start NATS offline gates: %w", err)
	}
	defer events.Close()
	{
		// The adapters stop before the engine, so that nothing in flight is
		// left without an answer or an ack.
		ectx, ecancel := context.WithCancel(ctx)
		g.Add(func() error { return eng.Run(ectx) }, func(error) { svc.Stop(); offline.Stop(); ecancel() })
	}
	{
		sctx, scancel := context.WithCancel(ctx)
		g.Add(func() error { return space.Run(sctx) }, func(error) { scancel() })
	}
	{
		wctx, wcancel := context.WithCancel(ctx)
		g.Add(func() error { return hooks.Run(wctx) }, func(error) { wcancel() })
	}

	console, err := web.New(web.Options{Store: st, Keys: keys, Conn: nc, Config: cfg, Now: eng.Now, Logger: log})
	if err != nil {
		return err
	}
	srv, err := api.New(api.Options{
		Engine: eng, Store: st, Keys: keys, OpsKeyFile: opsKeyPath, Signer: signer, Gate: sensors.APIGate{Gate: sensors.NewGate(eng, signer.Public())},
		Logger: log, Registerer: reg, Webhooks: hooks,
		Ready: func() error {
			if !nc.IsConnected() {
				return errors.New("NATS is not connected")
			}
			return space.Status().Refusal()
		},
		Extra: map[string]http.Handler{
			"/metrics": promhttp.HandlerFor(prometheus.DefaultGatherer, promhttp.HandlerOpts{Registry: reg}),
			"/gate":    console, "/ops": console, "/web/": console,
		},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w\n  hint: choose another address with --http", f.httpAddr, err)
	}
	// Requests (event streams among them) end when the server shuts down.
	hctx, hcancel := context.WithCancel(context.Background())
	defer hcancel()
	// Header and body deadlines and a limit on connections that have not
	// sent a request yet: slow clients without a key cannot hold the server.
	hs := api.NewHTTPServer(srv, api.HTTPOptions{BaseContext: func(net.Listener) context.Context { return hctx }})
	g.Add(func() error {
		log.Info("tafweej serving", "site", cfg.Site, "http", "http://"+ln.Addr().String(), "nats", natsURL, "clock", clock.Name(), "data", f.data)
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, func(error) {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		hcancel()
		hs.Shutdown(sctx)
	})
	{
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		stop := make(chan struct{})
		g.Add(func() error {
			select {
			case s := <-sig:
				log.Info("shutting down", "signal", s.String())
			case <-stop:
			}
			return nil
		}, func(error) { close(stop); signal.Stop(sig) })
	}
	return g.Run()
}
