package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/cluster"
	"github.com/tafweej/tafweej/sensors"
	"github.com/tafweej/tafweej/store"
	"github.com/tafweej/tafweej/tickets"
)

// ClusterParts are what an owner of a replicated site runs on
// (Options.Cluster): the instance's store, whose writes go through the
// site's log, and its NATS connection, both owned by RunCluster.
type ClusterParts struct {
	Store *store.Badger
	Conn  *nats.Conn
	// Replicas of the site's streams (counters, alerts, offline scans).
	Replicas int
	// SharedOpsKey: the site's first ops key was made by another instance
	// (its secret is in that instance's DATA/ops.key and in the cluster's
	// secrets bucket); this one makes none.
	SharedOpsKey bool
}

func (c *ClusterParts) replicas() int {
	if c == nil {
		return 0
	}
	return c.Replicas
}

// Handler is the HTTP API, console and metrics of the service.
func (s *Service) Handler() http.Handler { return s.hs.Handler }

// ClusterOptions are the cluster's part of RunCluster.
type ClusterOptions struct {
	// Replicas of the site's log, buckets and streams (--replicas).
	Replicas int
	// AdvertiseHTTP is the base URL other instances forward HTTP requests
	// to while this one owns the site (--advertise-http).
	AdvertiseHTTP string
	// LeaseTTL is the owner's lease; zero means cluster.DefaultLeaseTTL.
	LeaseTTL time.Duration
	// FenceOnly is cluster.Options.FenceOnly: tests of the fence only.
	FenceOnly bool
	// SnapshotRecords is cluster.Options.SnapshotRecords: log records
	// between two snapshots (zero: the default).
	SnapshotRecords int
	// Metrics are cluster.Options.Metrics, registered once for the
	// process by the caller (nil: unregistered ones).
	Metrics *cluster.Metrics
}

// RunCluster runs one instance of a site replicated on a NATS cluster
// (docs/cluster.md) until ctx ends: it waits for the cluster's JetStream,
// shares the ticket signing key with the site's other instances, serves
// HTTP on o.HTTPAddr (forwarding to the owner while a standby), applies
// the site's log as a standby, and when it takes the site over runs the
// service as in New and Run, every store write going through the log. It
// returns cluster.ErrDeposed if it owned the site and lost it.
func RunCluster(ctx context.Context, o Options, c ClusterOptions) error {
	if o.Config == nil || o.Data == "" {
		return errors.New("service: Options.Config and Options.Data are required")
	}
	if o.NATSURL == "" {
		return errors.New("service: a replicated site needs the NATS cluster's URLs (--nats)")
	}
	if c.AdvertiseHTTP == "" {
		return errors.New("service: a replicated site needs --advertise-http, the URL other instances forward requests to")
	}
	if o.HTTPAddr == "" {
		o.HTTPAddr = "127.0.0.1:8080"
	}
	log := o.Logger
	if log == nil {
		log = discardLogger()
		o.Logger = log
	}
	if err := os.MkdirAll(o.Data, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	site := o.Config.Site
	co := o.NATS
	co.Name, co.Logger = "tafweej-"+site, log
	nc, err := sensors.Connect(o.NATSURL, co)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", o.NATSURL, err)
	}
	defer nc.Close()
	st, err := store.Open(filepath.Join(o.Data, "badger"), store.Options{Logger: log})
	if err != nil {
		return fmt.Errorf("open store: %w\n  hint: is another 'tafweej serve' using %s?", err, o.Data)
	}
	// st is replaced when a snapshot is restored (restoreSnapshot); keys
	// with it, read by the HTTP handler's goroutines.
	defer func() { st.Close() }()
	var keys atomic.Pointer[auth.Keys]
	keys.Store(auth.NewKeys(st))
	// Each term as owner registers its service's metrics on a registry of
	// its own, gathered beside the process's while it lasts: a deposed
	// owner that runs again as a standby, and owns again later, registers
	// them anew.
	var term atomic.Pointer[prometheus.Registry]
	newNode := func() (*cluster.Node, error) {
		return cluster.New(cluster.Options{
			Site: site, Data: o.Data, Conn: nc, Store: st, Replicas: c.Replicas, AdvertiseHTTP: c.AdvertiseHTTP,
			LeaseTTL: c.LeaseTTL, Logger: log, FenceOnly: c.FenceOnly, SnapshotRecords: c.SnapshotRecords, Metrics: c.Metrics,
			IsOps: func(secret string) bool {
				k, err := keys.Load().Lookup(secret)
				return err == nil && k.Role == auth.RoleOps
			},
			Own: func(octx context.Context, serve func(http.Handler)) error {
				reg := prometheus.NewRegistry()
				term.Store(reg)
				defer term.Store(nil)
				to := o
				to.Registerer, to.Gatherer = reg, reg
				return own(octx, to, c, st, nc, serve)
			},
		})
	}
	node, err := newNode()
	if err != nil {
		return err
	}
	log.Info("replicated site: waiting for the cluster's JetStream", "site", site, "replicas", c.Replicas, "instance", node.ID())
	if err := node.WaitReady(ctx); err != nil {
		return nil // ctx ended
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	// The ticket signing key is the site's: shared through the cluster
	// (retried while the cluster settles; a local key that differs is
	// an error at once).
	for {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		secrets, err := cluster.OpenSecrets(sctx, js, site, c.Replicas)
		if err == nil {
			keyPath := filepath.Join(o.Data, "ticket.key")
			var shared bool
			shared, err = secrets.ShareFile(sctx, cluster.TicketKeySecret, keyPath, func() error {
				_, _, err := tickets.LoadOrCreateKey(keyPath)
				return err
			})
			if shared {
				log.Info("ticket signing key: the site's, from the cluster", "path", keyPath)
			}
		}
		cancel()
		if err == nil {
			break
		}
		if errors.Is(err, cluster.ErrSecretDiffers) || ctx.Err() != nil {
			return err
		}
		log.Warn("sharing the ticket signing key through the cluster; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}

	ln, err := net.Listen("tcp", o.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w\n  hint: choose another address with --http", o.HTTPAddr, err)
	}
	gatherer := o.Gatherer
	if gatherer == nil {
		gatherer = promhttpDefault(o)
	}
	metrics := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		gs := prometheus.Gatherers{gatherer}
		if r := term.Load(); r != nil {
			gs = append(gs, r)
		}
		return gs.Gather()
	})
	local := promhttp.HandlerFor(metrics, promhttp.HandlerOpts{})
	// The handler of the current node (a new one after a step-down).
	var front atomic.Pointer[http.Handler]
	setFront := func(n *cluster.Node) {
		h := n.Handler(local)
		front.Store(&h)
	}
	setFront(node)
	hs := api.NewHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*front.Load()).ServeHTTP(w, r) }), api.HTTPOptions{})
	herr := make(chan error, 1)
	go func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			herr <- err
		}
	}()
	log.Info("replicated site: HTTP listening", "http", ln.Addr().String(), "advertise", c.AdvertiseHTTP)
	nctx, ncancel := context.WithCancel(ctx)
	defer ncancel()
	nerr := make(chan error, 1)
	go func() {
		for {
			err := node.Run(nctx)
			switch {
			case nctx.Err() != nil:
				nerr <- err
				return
			case errors.Is(err, cluster.ErrDeposed):
				// Stepped down: what this instance wrote is a prefix of
				// the log; it applies the rest as a standby again.
				st.SetReplicator(nil)
				log.Warn("stepped down; running as a standby again", "err", err)
			case errors.Is(err, cluster.ErrCompacted):
				next, rerr := restoreSnapshot(nctx, nc, site, o.Data, st, log)
				if rerr != nil {
					nerr <- rerr
					return
				}
				st = next
				keys.Store(auth.NewKeys(st))
			default:
				nerr <- err
				return
			}
			if node, err = newNode(); err != nil {
				nerr <- err
				return
			}
			// Ready before it serves: its handler reads the lease and
			// buckets WaitReady opens.
			if err := node.WaitReady(nctx); err != nil {
				nerr <- nil // ctx ended
				return
			}
			setFront(node)
		}
	}()
	select {
	case err = <-nerr:
	case err = <-herr:
		ncancel()
		<-nerr
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	hs.Shutdown(sctx)
	cancel()
	return err
}

// own runs the service as the site's owner until ctx ends.
func own(ctx context.Context, o Options, c ClusterOptions, st *store.Badger, nc *nats.Conn, serve func(http.Handler)) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	secrets, err := cluster.OpenSecrets(sctx, js, o.Config.Site, c.Replicas)
	if err != nil {
		return err
	}
	shared, err := secrets.Has(sctx, cluster.OpsKeySecret)
	if err != nil {
		return err
	}
	o.Cluster = &ClusterParts{Store: st, Conn: nc, Replicas: c.Replicas, SharedOpsKey: shared}
	svc, err := New(ctx, o)
	if err != nil {
		return err
	}
	if !shared {
		if err := secrets.Offer(sctx, cluster.OpsKeySecret, svc.OpsKeyPath()); err != nil {
			svc.Close()
			return err
		}
	}
	serve(svc.Handler())
	return svc.Run(ctx)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// promhttpDefault is the gatherer of o's registerer when it gathers.
func promhttpDefault(o Options) prometheus.Gatherer {
	if g, ok := o.Registerer.(prometheus.Gatherer); ok {
		return g
	}
	return prometheus.NewRegistry()
}

// restoreSnapshot replaces the store, which the log was compacted past,
// with the site's latest snapshot: the old store is closed and moved
// aside (DATA/badger.behind-<time>, removed once the new one is open), the
// snapshot restored into DATA/badger and opened. The new Node applies the
// log from the snapshot's sequence on.
func restoreSnapshot(ctx context.Context, nc *nats.Conn, site, data string, old *store.Badger, log *slog.Logger) (*store.Badger, error) {
	start := time.Now()
	file := filepath.Join(data, "snapshot.restore")
	seq, err := cluster.FetchSnapshot(ctx, nc, site, file)
	if err != nil {
		return nil, err
	}
	defer os.Remove(file)
	old.Close()
	dir := filepath.Join(data, "badger")
	aside := fmt.Sprintf("%s.behind-%d", dir, time.Now().Unix())
	if err := os.Rename(dir, aside); err != nil {
		return nil, fmt.Errorf("move the store aside for the snapshot: %w", err)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	err = store.Restore(dir, f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("restore the site's snapshot: %w (the old store is in %s)", err, aside)
	}
	st, err := store.Open(dir, store.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open the restored store: %w (the old store is in %s)", err, aside)
	}
	os.RemoveAll(aside)
	applied, _ := st.LogSeq()
	log.Info("restored the site's latest snapshot", "snapshot_sequence", seq, "applied", applied, "took", time.Since(start).Round(time.Millisecond))
	return st, nil
}
