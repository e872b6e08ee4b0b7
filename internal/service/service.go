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
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/webhooks"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/sensors"
	"github.com/tafweej/tafweej/store"
	"github.com/tafweej/tafweej/tickets"
	"github.com/tafweej/tafweej/web"
)

// Options configure a service. Config and Data are required; the zero
// value of every other field is the default.
type Options struct {
	// Config is the site configuration.
	Config *scheduler.Config
	// Data is the data directory: Badger (DATA/badger), the embedded
	// server's JetStream store (DATA/jetstream), the ticket signing key
	// (DATA/ticket.key) and the first ops key (DATA/ops.key). It is
	// created if missing.
	Data string
	// HTTPAddr is the HTTP listen address; empty means 127.0.0.1:8080,
	// port 0 a free port (see Service.HTTPAddr).
	HTTPAddr string

	// NATSURL is an external NATS server or cluster (comma-separated URLs);
	// empty starts an embedded server on NATSHost:NATSPort.
	NATSURL string
	// NATSHost is the embedded server's listen host; empty means 127.0.0.1.
	NATSHost string
	// NATSPort is the embedded server's port: -1 picks a free port, 0
	// means NATS's 4222 (as in nats-server).
	NATSPort int
	// NATS are the options of the connection to an external server
	// (credentials, TLS); Name and Logger are set by the service.
	NATS sensors.ConnectOptions
	// NATSListenCert and NATSListenKey (PEM files) make the embedded
	// server's listener TLS only; NATSListenCA, if set, also requires
	// device certificates it signed (not the NATS client-side TLS above).
	NATSListenCert, NATSListenKey, NATSListenCA string
	// Map is where the zones lie (GET /v1/zones.geojson); nil serves the
	// zones without geometry.
	Map *scheduler.SiteMap

	// Clock is the owner loop's clock; nil means the wall clock.
	Clock engine.Clock
	// MinFree is the free-space reserve of the data's filesystems; zero
	// means store.DefaultMinFree.
	MinFree int64
	// WebhookAllowPrivate lets webhook endpoints be on loopback, private
	// and link-local addresses.
	WebhookAllowPrivate bool
	// ArchiveAfterDays is the live horizon: dates more than this many days
	// before today move to the store's archive (engine.Archiver); zero
	// means engine.DefaultArchiveAfterDays, negative never archives.
	ArchiveAfterDays int
	// ReplanBudget is engine.Options.ReplanBudget: the planner's budget for
	// a closure's or cut's re-plan, off the owner loop; zero means the
	// default, -1 re-plans in the loop (the bench's comparison).
	ReplanBudget int
	// Pipeline is engine.Options.Pipeline: the turns written at once;
	// zero means the engine's default.
	Pipeline int
	// RatePerSecond is the API's request rate per key (api.Options); zero
	// means the API's default, -1 no limit (the bench's load generator).
	RatePerSecond float64

	// Cluster, if set, runs the service as the owner of a replicated site
	// (cluster.go): the store and the NATS connection are the caller's,
	// and no HTTP listener is opened (Handler serves).
	Cluster *ClusterParts

	// Logger receives the service's log; nil discards it.
	Logger *slog.Logger
	// Registerer receives every metric and Gatherer serves /metrics; nil
	// means a new registry for both; a nil Gatherer means the Registerer
	// (when it gathers too, as a *prometheus.Registry does). serve passes
	// the default ones: only cmd/tafweej touches process globals.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
}

// Service is an assembled service: New has opened the store, started or
// connected to NATS, started the NATS adapters and bound the HTTP
// listener; Run serves until its context ends.
type Service struct {
	opts    Options
	log     *slog.Logger
	cfg     *scheduler.Config
	clock   engine.Clock
	st      *store.Badger
	signer  *tickets.Signer
	natsURL string
	nc      *nats.Conn
	eng     *engine.Engine
	arch    *engine.Archiver // nil when archiving is off
	space   *store.SpaceWatcher
	hooks   *webhooks.Service
	devices *sensors.Registry
	ns      *server.Server // the embedded NATS server; nil with an external one
	auth    *sensors.Auth  // its users
	svc     *sensors.Service
	offline *sensors.Offline
	hs      *http.Server
	ln      net.Listener
	opsKey  string

	ctx     context.Context // the parts' lifetime, cancelled by close
	cancel  context.CancelFunc
	hcancel context.CancelFunc // ends the HTTP requests in flight (event streams among them)

	closeOnce sync.Once
	undo      []func() // run in reverse order by close
}

// New assembles the service and starts its parts up to the point where
// their addresses are known; nothing is served before Run. ctx bounds the
// start only: New waits (saying why in the log) while the disk is too full
// to open the store, until ctx is cancelled. If New fails, whatever it
// opened is closed again.
func New(ctx context.Context, o Options) (_ *Service, err error) {
	if o.Config == nil {
		return nil, errors.New("service: Options.Config is required")
	}
	if o.Data == "" {
		return nil, errors.New("service: Options.Data is required")
	}
	if o.HTTPAddr == "" {
		o.HTTPAddr = "127.0.0.1:8080"
	}
	if o.MinFree == 0 {
		o.MinFree = store.DefaultMinFree
	}
	if o.Registerer == nil {
		r := prometheus.NewRegistry()
		o.Registerer, o.Gatherer = r, r
	} else if o.Gatherer == nil {
		g, ok := o.Registerer.(prometheus.Gatherer)
		if !ok {
			return nil, errors.New("service: Options.Gatherer is required with a Registerer that does not gather")
		}
		o.Gatherer = g
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{opts: o, log: log, cfg: o.Config, clock: o.Clock}
	if s.clock == nil {
		s.clock = engine.WallClock{}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	cfg, reg := o.Config, o.Registerer
	if err := os.MkdirAll(o.Data, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}

	// Disk space is checked before the store is opened (space.go).
	badgerDir := filepath.Join(o.Data, "badger")
	spaceDirs := []string{badgerDir, o.Data}
	if o.NATSURL == "" {
		spaceDirs = append(spaceDirs, filepath.Join(o.Data, "jetstream"))
	}
	spaceEv := &spaceEvents{}
	if s.space, err = openSpace(ctx, log, reg, o.MinFree, badgerDir, spaceDirs, spaceEv); err != nil {
		return nil, err
	}
	if o.Cluster != nil {
		s.st = o.Cluster.Store // the caller's, replicated through the log
	} else if s.st, err = store.Open(badgerDir, store.Options{Logger: log}); err != nil {
		return nil, fmt.Errorf("open store: %w\n  hint: is another 'tafweej serve' using %s?", err, o.Data)
	} else {
		st := s.st
		s.undo = append(s.undo, func() { st.Close() })
	}
	st := s.st

	keyPath := filepath.Join(o.Data, "ticket.key")
	key, created, err := tickets.LoadOrCreateKey(keyPath)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("created the ticket signing key", "path", keyPath)
	}
	s.signer = tickets.NewSigner(key)

	// NATS: embedded by default, external on request.
	s.natsURL = o.NATSURL
	var natsAuth *sensors.Auth // the embedded server's users; nil with an external server
	var svcConn []nats.Option
	if s.natsURL == "" {
		if natsAuth, err = sensors.NewAuth(nil); err != nil {
			return nil, err
		}
		natsAuth.ServiceInProcessOnly()
		ns, err := sensors.StartEmbedded(sensors.EmbeddedOptions{Host: o.NATSHost, Port: o.NATSPort, StoreDir: filepath.Join(o.Data, "jetstream"), NoLog: true,
			Auth: natsAuth, TLSCert: o.NATSListenCert, TLSKey: o.NATSListenKey, TLSCA: o.NATSListenCA})
		if err != nil {
			return nil, fmt.Errorf("start embedded NATS on %s: %w\n  hint: is the port taken? choose another with --nats-listen",
				net.JoinHostPort(o.NATSHost, strconv.Itoa(o.NATSPort)), err)
		}
		s.undo = append(s.undo, ns.Shutdown)
		s.ns, s.auth = ns, natsAuth
		s.natsURL = ns.ClientURL()
		// The service connects in process, as its own user (sensors/auth.go).
		svcConn = []nats.Option{natsAuth.ServiceOption(), nats.InProcessServer(ns)}
		log.Info("embedded NATS server started; registered devices only", "url", s.natsURL, "jetstream", filepath.Join(o.Data, "jetstream"))
	}
	if s.devices, err = newDeviceRegistry(st, cfg, natsAuth, log); err != nil {
		return nil, err
	}
	co := o.NATS
	co.Name, co.Logger = "tafweej-"+cfg.Site, log
	co.Options = append(co.Options, svcConn...)
	if o.Cluster != nil {
		s.nc = o.Cluster.Conn // the caller's
	} else if s.nc, err = sensors.Connect(s.natsURL, co); err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", s.natsURL, err)
	} else {
		s.undo = append(s.undo, s.nc.Close)
	}

	events := sensors.NewEvents(s.nc, cfg.Site, log)
	if o.WebhookAllowPrivate {
		log.Warn("webhook endpoints may be on loopback and private addresses (--webhook-allow-private)")
	}
	if s.hooks, err = webhooks.New(webhooks.Options{Store: st, Config: cfg, Logger: log, Registerer: reg, AllowPrivate: o.WebhookAllowPrivate}); err != nil {
		return nil, err
	}
	if s.eng, err = engine.New(engine.Options{Config: cfg, Store: st, Clock: s.clock, Publish: events.Publish, Logger: log, Registerer: reg,
		Space: s.space, Outbox: s.hooks, ReplanBudget: o.ReplanBudget, Pipeline: o.Pipeline}); err != nil {
		return nil, err
	}
	spaceEv.set(events.Publish, s.eng.Now)
	if o.ArchiveAfterDays >= 0 {
		after := o.ArchiveAfterDays
		if after == 0 {
			after = engine.DefaultArchiveAfterDays
		}
		if s.arch, err = engine.NewArchiver(s.eng, engine.ArchiveOptions{AfterDays: after, Logger: log, Registerer: reg}); err != nil {
			return nil, err
		}
		log.Info("archiving past days", "after_days", after)
	}

	s.opsKey = filepath.Join(o.Data, "ops.key")
	// A missing ops.key gets a new ops key, and the one it held before is
	// revoked: a lost or deleted file never leaves its secret working.
	if o.Cluster != nil && o.Cluster.SharedOpsKey {
		// Another instance of the site made the first ops key (cluster.go).
	} else if made, revoked, err := auth.EnsureOpsKey(st, s.opsKey, s.eng.Now()); err != nil {
		return nil, err
	} else if made {
		log.Info("created an ops API key; keep it safe", "path", s.opsKey)
		for _, k := range revoked {
			log.Warn("ops.key was missing: revoked the ops key it held before", "id", k.ID(), "prefix", k.Prefix)
		}
	}
	keys := auth.NewKeys(st) // one key lookup for the API and the console

	if s.svc, err = sensors.Start(s.ctx, sensors.Options{Conn: s.nc, Site: cfg.Site, Engine: s.eng, Public: s.signer.Public(), Store: st, Logger: log, Registerer: reg,
		Replicas: o.Cluster.replicas()}); err != nil {
		return nil, fmt.Errorf("start NATS adapters: %w", err)
	}
	if s.offline, err = sensors.StartOffline(s.ctx, sensors.OfflineOptions{Conn: s.nc, Site: cfg.Site, Engine: s.eng, Public: s.signer.Public(), Logger: log,
		Replicas: o.Cluster.replicas()}); err != nil {
		s.svc.Stop()
		return nil, fmt.Errorf("start NATS offline gates: %w", err)
	}
	s.undo = append(s.undo, events.Close, s.cancel)

	console, err := web.New(web.Options{Store: st, Keys: keys, Conn: s.nc, Config: cfg, Now: s.eng.Now, Logger: log})
	if err != nil {
		return nil, err
	}
	nc, space := s.nc, s.space
	srv, err := api.New(api.Options{
		Engine: s.eng, Store: st, Keys: keys, OpsKeyFile: s.opsKey, Signer: s.signer, Gate: sensors.NewGate(s.eng, s.signer.Public()),
		Logger: log, Registerer: reg, Webhooks: s.hooks, Devices: s.devices, Map: o.Map, RatePerSecond: o.RatePerSecond,
		Ready: func() error {
			if !nc.IsConnected() {
				return errors.New("NATS is not connected")
			}
			return space.Status().Refusal()
		},
		Extra: map[string]http.Handler{
			"/metrics": promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{Registry: reg}),
			"/gate":    console, "/ops": console, "/web/": console,
		},
	})
	if err != nil {
		return nil, err
	}
	if o.Cluster == nil {
		if s.ln, err = net.Listen("tcp", o.HTTPAddr); err != nil {
			return nil, fmt.Errorf("listen on %s: %w\n  hint: choose another address with --http", o.HTTPAddr, err)
		}
		ln := s.ln
		s.undo = append(s.undo, func() { ln.Close() })
	}
	// Requests (event streams among them) end when the server shuts down.
	hctx, hcancel := context.WithCancel(context.Background())
	s.hcancel = hcancel
	s.undo = append(s.undo, hcancel)
	// Header and body deadlines and a limit on connections that have not
	// sent a request yet: slow clients without a key cannot hold the server.
	s.hs = api.NewHTTPServer(srv, api.HTTPOptions{BaseContext: func(net.Listener) context.Context { return hctx }})
	return s, nil
}

// Run serves until ctx is cancelled (nil is returned then) or a part
// fails, stops every part in order (the HTTP server, the NATS adapters
// before the owner loop, so that nothing in flight is left without an
// answer or an ack) and closes the store and NATS. A Service runs once.
func (s *Service) Run(ctx context.Context) error {
	defer s.close()
	var g run.Group
	{
		ectx, ecancel := context.WithCancel(s.ctx)
		g.Add(func() error { return s.eng.Run(ectx) }, func(error) { s.svc.Stop(); s.offline.Stop(); ecancel() })
	}
	{
		sctx, scancel := context.WithCancel(s.ctx)
		g.Add(func() error { return s.space.Run(sctx) }, func(error) { scancel() })
	}
	{
		wctx, wcancel := context.WithCancel(s.ctx)
		g.Add(func() error { return s.hooks.Run(wctx) }, func(error) { wcancel() })
	}
	if s.arch != nil {
		actx, acancel := context.WithCancel(s.ctx)
		g.Add(func() error { return s.arch.Run(actx) }, func(error) { acancel() })
	}
	httpStop := make(chan struct{})
	g.Add(func() error {
		if s.ln == nil { // the cluster's node serves Handler
			s.log.Info("tafweej serving as the site's owner", "site", s.cfg.Site, "nats", s.natsURL, "clock", s.clock.Name(), "data", s.opts.Data)
			<-httpStop
			return nil
		}
		s.log.Info("tafweej serving", "site", s.cfg.Site, "http", s.URL(), "nats", s.natsURL, "clock", s.clock.Name(), "data", s.opts.Data)
		if err := s.hs.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, func(error) {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		s.hcancel()
		if s.ln == nil {
			close(httpStop)
			return
		}
		s.hs.Shutdown(sctx)
	})
	{
		stop := make(chan struct{})
		g.Add(func() error {
			select {
			case <-ctx.Done():
			case <-stop:
			}
			return nil
		}, func(error) { close(stop) })
	}
	return g.Run()
}

// Close releases what New opened, for a Service that is not Run (Run
// closes everything itself when it returns).
func (s *Service) Close() { s.close() }

func (s *Service) close() {
	s.closeOnce.Do(func() {
		for i := len(s.undo) - 1; i >= 0; i-- {
			s.undo[i]()
		}
		s.cancel()
	})
}

// HTTPAddr is the address the HTTP server listens on (the port chosen
// when Options.HTTPAddr had port 0).
func (s *Service) HTTPAddr() string { return s.ln.Addr().String() }

// URL is the HTTP API's base URL, http://HTTPAddr.
func (s *Service) URL() string { return "http://" + s.HTTPAddr() }

// NATSURL is the URL of the NATS server the service uses: the embedded
// server's client URL, or Options.NATSURL.
func (s *Service) NATSURL() string { return s.natsURL }

// OpsKeyPath is the file holding the first ops API key (DATA/ops.key).
func (s *Service) OpsKeyPath() string { return s.opsKey }

// Engine is the owner loop.
func (s *Service) Engine() *engine.Engine { return s.eng }

// Store is the service's store.
func (s *Service) Store() *store.Badger { return s.st }

// Signer signs the tickets of the service's bookings.
func (s *Service) Signer() *tickets.Signer { return s.signer }

// Conn is the service's own NATS connection (the one its adapters use).
func (s *Service) Conn() *nats.Conn { return s.nc }

// newDeviceRegistry opens the registry of NATS devices; auth is the
// embedded server's users (nil with an external server, whose users
// 'tafweej devices export' writes).
func newDeviceRegistry(st store.DeviceStore, cfg *scheduler.Config, auth *sensors.Auth, log *slog.Logger) (*sensors.Registry, error) {
	reg, err := sensors.NewRegistry(sensors.RegistryOptions{Store: st, Config: cfg, Auth: auth})
	if reg == nil {
		return nil, err
	}
	if err != nil {
		log.Warn("some registered devices have no access", "err", err)
	}
	if ds, lerr := reg.List(); lerr == nil {
		log.Info("NATS devices registered", "devices", len(ds))
	}
	return reg, nil
}

// Devices is the registry of NATS devices.
func (s *Service) Devices() *sensors.Registry { return s.devices }

// ServiceConn is a new connection to the embedded NATS server as the
// service's own user, in process (it may publish and subscribe anywhere);
// the bench measures the cost of per-device trust against it. It fails
// with an external server, whose users are not the service's to give.
func (s *Service) ServiceConn(name string) (*nats.Conn, error) {
	if s.ns == nil {
		return nil, errors.New("service: ServiceConn needs the embedded NATS server")
	}
	return nats.Connect(s.natsURL, nats.Name(name), s.auth.ServiceOption(), nats.InProcessServer(s.ns))
}
