package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/cluster"
	"github.com/tafweej/tafweej/internal/service"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/sensors"
	"github.com/tafweej/tafweej/store"
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
	archive    archiveFlag
	// webhookAllowPrivate lets webhook endpoints be on private addresses.
	webhookAllowPrivate bool
	// the embedded server's own TLS (not the --nats-tls-* client side)
	listenCert, listenKey, listenCA string
	insecureNATS                    bool
	// a site replicated on a NATS cluster (docs/cluster.md)
	replicas      int
	advertiseHTTP string
	leaseTTL      time.Duration
	fenceOnly     bool // tests only: no lease check before answering (serve --cluster-fence-only)
	snapshotRecs  int
	pipeline      int // turns written at once (engine.Options.Pipeline)
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
	fl.Var(&f.archive, "archive-after", "live horizon: bookings of dates more than this many days before today move to the archive (still listed by GET /v1/bookings?date=, kept in backups) and are not loaded at start; e.g. 30d, 90d, or off")
	fl.IntVar(&f.pipeline, "pipeline", 0, "turns of the owner loop written at once: the next turn is applied while the last ones are written (default 1: each turn written before the next is applied; more overlaps the next turns' apply with the write and group-commits them together)")
	fl.BoolVar(&f.webhookAllowPrivate, "webhook-allow-private", false, "let webhook endpoints be on loopback, private and link-local addresses (refused by default: no request forgery into the reserve's network)")
	fl.StringVar(&f.listenCert, "nats-listen-cert", "", "embedded NATS: TLS certificate of the listener (PEM); required off loopback")
	fl.StringVar(&f.listenKey, "nats-listen-key", "", "embedded NATS: TLS key of the listener (PEM)")
	fl.StringVar(&f.listenCA, "nats-listen-ca", "", "embedded NATS: CA whose client certificates devices must present (optional)")
	fl.BoolVar(&f.insecureNATS, "insecure-nats", false, "allow --nats-listen off loopback without TLS (logged as a warning)")
	fl.IntVar(&f.replicas, "replicas", 0, "replicate the site on the NATS cluster of --nats with this many copies (e.g. 3): one instance owns the site, the others are standbys that take over (docs/cluster.md); 0 runs one process alone")
	fl.StringVar(&f.advertiseHTTP, "advertise-http", "", "with --replicas: this instance's HTTP base URL as the other instances reach it (e.g. http://n1:8080); standbys forward requests there while it owns the site")
	fl.DurationVar(&f.leaseTTL, "lease-ttl", 0, "with --replicas: the owner's lease; a standby takes over about this long after the owner stops renewing it (default 2s)")
	fl.MarkHidden("lease-ttl")
	fl.BoolVar(&f.fenceOnly, "cluster-fence-only", false, "tests only: the owner answers without checking its lease, as if its clock lied; only the log's fence stops a deposed owner")
	fl.MarkHidden("cluster-fence-only")
	fl.IntVar(&f.snapshotRecs, "snapshot-records", 0, "with --replicas: log records between two snapshots of the owner's store, after which the log is compacted (default 100000; negative: never)")
	fl.MarkHidden("snapshot-records")
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
	if err := checkClusterFlags(f); err != nil {
		return err
	}
	warnings, err := listenRule(f.natsListen, f.natsURL == "", f.listenCert != "", f.insecureNATS, f.httpAddr)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		log.Warn(w)
	}
	siteMap, _, err := loadSiteMap(f.config, cfg)
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
	var natsHost string
	var natsPort int
	if f.natsURL == "" {
		host, portS, err := net.SplitHostPort(f.natsListen)
		if err != nil {
			return usagef("e.g. --nats-listen 127.0.0.1:4222", "--nats-listen %q: %v", f.natsListen, err)
		}
		port, err := strconv.Atoi(portS)
		if err != nil {
			return usagef("e.g. --nats-listen 127.0.0.1:4222", "--nats-listen %q: port %q is not a number", f.natsListen, portS)
		}
		natsHost, natsPort = host, port
	}
	reg := prometheus.DefaultRegisterer
	reg.MustRegister(collectors.NewBuildInfoCollector())

	// SIGINT and SIGTERM stop the service, and a start still waiting for
	// disk space.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		select {
		case s := <-sig:
			log.Info("shutting down", "signal", s.String())
			cancel()
		case <-ctx.Done():
		}
	}()

	opts := service.Options{
		Config: cfg, Data: f.data, HTTPAddr: f.httpAddr,
		NATSURL: f.natsURL, NATSHost: natsHost, NATSPort: natsPort,
		NATS: sensors.ConnectOptions{CredsFile: f.natsCreds, User: f.natsUser, Password: f.natsPass, Token: f.natsToken,
			TLSCA: f.natsCA, TLSCert: f.natsCert, TLSKey: f.natsKey},
		NATSListenCert: f.listenCert, NATSListenKey: f.listenKey, NATSListenCA: f.listenCA, Map: siteMap,
		Clock: clock, MinFree: f.minFree.n, WebhookAllowPrivate: f.webhookAllowPrivate, ArchiveAfterDays: f.archive.days,
		Pipeline: f.pipeline, Logger: log, Registerer: reg, Gatherer: prometheus.DefaultGatherer,
	}
	// The cluster metrics, for the process's life; alone, its role is
	// "single" (docs/cluster.md, "Metrics").
	cm := cluster.NewMetrics(reg)
	if f.replicas > 0 {
		return service.RunCluster(ctx, opts, service.ClusterOptions{Replicas: f.replicas, AdvertiseHTTP: f.advertiseHTTP, LeaseTTL: f.leaseTTL,
			FenceOnly: f.fenceOnly, SnapshotRecords: f.snapshotRecs, Metrics: cm})
	}
	cm.SetRole("single")
	svc, err := service.New(ctx, opts)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}

// checkClusterFlags checks --replicas and what it needs.
func checkClusterFlags(f *serveFlags) error {
	switch {
	case f.pipeline < 0 || f.pipeline > 64:
		return usagef("e.g. --pipeline 4, or 1 to write each turn before the next", "--pipeline %d must be from 1 to 64 (0: the default, 1)", f.pipeline)
	case f.replicas < 0 || f.replicas > 5:
		return usagef("e.g. --replicas 3 on a three-node NATS cluster", "--replicas %d must be from 1 to 5 (JetStream's limit), or 0 for one process alone", f.replicas)
	case f.replicas == 0 && f.advertiseHTTP != "":
		return usagef("add --replicas N, or drop --advertise-http", "--advertise-http %q needs --replicas", f.advertiseHTTP)
	case f.replicas == 0:
		return nil
	case f.natsURL == "":
		return usagef("e.g. --nats nats://n1:4222,nats://n2:4222,nats://n3:4222", "--replicas %d needs --nats, the URLs of the NATS cluster", f.replicas)
	case f.advertiseHTTP == "":
		return usagef("e.g. --advertise-http http://this-host:8080", "--replicas %d needs --advertise-http, this instance's HTTP URL as the others reach it", f.replicas)
	}
	if u, err := url.Parse(f.advertiseHTTP); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("e.g. --advertise-http http://this-host:8080", "--advertise-http %q is not an http(s) URL", f.advertiseHTTP)
	}
	return nil
}
