package api

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
	"github.com/tafweej/tafweej/tickets"
)

// Defaults of Options.
const (
	DefaultRatePerSecond = 20
	DefaultMaxBodyBytes  = 64 << 10
)

// Scanner decides gate scans; the sensors package's Gate is the one that
// the NATS gate responder uses, so that both paths decide alike. Decide
// never fails: a bad scan gets a reject with reason bad_request.
type Scanner interface {
	Decide(ctx context.Context, gate string, req scheduler.ScanRequest) scheduler.ScanResult
}

// Store is what the API needs of the store: the API keys (auth.KeyStore)
// and the backup that GET /v1/backup streams (store.Store has both).
type Store interface {
	auth.KeyStore
	Backup(w io.Writer) error
}

// Options configures a Server. Engine, Store and Signer are required; the
// zero value of every other field means its default.
type Options struct {
	Engine *engine.Engine
	// Store holds the API keys and makes the backups.
	Store Store
	// Keys looks the API keys up; nil makes one on Store. Share it with
	// the web console (web.Options.Keys) so that a revoked key is refused
	// there at once too.
	Keys *auth.Keys
	// OpsKeyFile is the file holding the ops key's secret (DIR/ops.key),
	// which POST /v1/keys/rotate-ops replaces; empty answers that endpoint
	// 503.
	OpsKeyFile string
	Signer     *tickets.Signer
	// Gate decides POST /v1/scans; nil answers 503.
	Gate   Scanner
	Logger *slog.Logger
	// Registerer receives the HTTP metrics; nil means they are kept but
	// not exported.
	Registerer prometheus.Registerer
	// Ready reports readiness beyond the engine (e.g. NATS connected); nil
	// means always ready.
	Ready func() error
	// RatePerSecond is the request rate allowed per API key (default 20);
	// negative means no limit. Burst is the bucket size (default twice the
	// rate).
	RatePerSecond float64
	Burst         int
	// Devices registers the NATS devices (POST/GET /v1/devices); nil
	// answers 503.
	Devices Devices
	// MaxBodyBytes bounds a request body (default 64 KiB).
	MaxBodyBytes int64
	// BodyTimeout bounds the time to read a request's body (default 10 s);
	// a request refused before its body is read (no key, wrong role, rate
	// limit) is answered at once and its connection closed.
	BodyTimeout time.Duration
	// Extra are handlers mounted as they are, by ServeMux pattern (e.g.
	// "/gate", "/ops/" for the web console): no authentication, no body
	// limit. A pattern must not overlap the API's routes; a catch-all "/"
	// would also take over the API's 404 and 405 answers.
	Extra map[string]http.Handler
	// Webhooks are the operators' webhook endpoints (webhooks.go); nil
	// answers their routes with 503.
	Webhooks Webhooks
	// Map is where the zones lie (GET /v1/zones.geojson); nil serves the
	// zones without geometry.
	Map *scheduler.SiteMap
}

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	opts   Options
	eng    *engine.Engine
	cfg    *scheduler.Config
	loc    *time.Location
	st     Store
	signer *tickets.Signer
	log    *slog.Logger
	m      *metrics
	panics *engine.Panics
	mux    *http.ServeMux
	routes []route

	auth *auth.Keys

	limMu    sync.Mutex // guards limiters
	limiters map[string]*rate.Limiter

	idemMu   sync.Mutex // guards inflight
	inflight map[idemScope]struct{}

	claimMu sync.Mutex // serialises console-link claims: one key per link
}

// idemScope is an Idempotency-Key in its operator's scope.
type idemScope struct{ operator, key string }

// route is one endpoint. Roles nil means no authentication.
type route struct {
	method, path string
	roles        []string
	handle       func(w http.ResponseWriter, r *http.Request, p *principal) *apiError
}

// principal is the caller, as its API key says.
type principal struct{ store.APIKey }

//go:embed openapi.json
var openAPIDoc []byte

// New builds the server.
func New(opts Options) (*Server, error) {
	if opts.Engine == nil || opts.Store == nil || opts.Signer == nil {
		return nil, errors.New("api: Options.Engine, Store and Signer are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RatePerSecond == 0 {
		opts.RatePerSecond = DefaultRatePerSecond
	}
	if opts.Burst <= 0 {
		opts.Burst = int(math.Max(1, math.Ceil(2*opts.RatePerSecond)))
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.BodyTimeout <= 0 {
		opts.BodyTimeout = DefaultBodyTimeout
	}
	s := &Server{
		opts:     opts,
		eng:      opts.Engine,
		cfg:      opts.Engine.Config(),
		loc:      opts.Engine.Config().Location(),
		st:       opts.Store,
		signer:   opts.Signer,
		log:      opts.Logger,
		m:        newMetrics(opts.Registerer),
		panics:   engine.NewPanics(opts.Logger, opts.Registerer),
		mux:      http.NewServeMux(),
		auth:     opts.Keys,
		limiters: map[string]*rate.Limiter{},
		inflight: map[idemScope]struct{}{},
	}
	if s.auth == nil {
		s.auth = auth.NewKeys(opts.Store)
	}
	s.routes = append(append(s.table(), s.webhookRoutes()...), s.offlineRoutes()...)
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(newOfflineCollector(s.eng))
	}
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+rt.path, s.wrap(rt))
	}
	for _, pattern := range slices.Sorted(maps.Keys(opts.Extra)) {
		if err := s.mount(pattern, opts.Extra[pattern]); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// mount adds an extra handler, turning ServeMux's panic on a conflicting
// pattern into an error.
func (s *Server) mount(pattern string, h http.Handler) (err error) {
	if strings.HasPrefix(strings.TrimLeft(pattern, "ABCDEFGHIJKLMNOPQRSTUVWXYZ "), "/v1") || h == nil {
		return fmt.Errorf("api: extra route %q: the /v1 paths belong to the API, and a handler is required", pattern)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("api: extra route %q: %v", pattern, r)
		}
	}()
	s.mux.Handle(pattern, h)
	return nil
}

// table lists every endpoint; openapi.json documents exactly these.
func (s *Server) table() []route {
	public := []string(nil)
	ops := []string{auth.RoleOps}
	people := []string{auth.RoleOperator, auth.RoleOps}
	return append([]route{
		{"GET", "/healthz", public, s.healthz},
		{"GET", "/readyz", public, s.readyz},
		{"GET", "/openapi.json", public, s.openapi},
		{"GET", "/v1/availability", people, s.availability},
		{"POST", "/v1/bookings", people, s.createBooking},
		{"GET", "/v1/bookings", people, s.listBookings},
		{"GET", "/v1/bookings/{id}", people, s.getBooking},
		{"PATCH", "/v1/bookings/{id}", people, s.patchBooking},
		{"DELETE", "/v1/bookings/{id}", people, s.cancelBooking},
		{"GET", "/v1/bookings/{id}/ticket.png", people, s.ticketPNG},
		{"POST", "/v1/requests", people, s.createRequest},
		{"GET", "/v1/requests", people, s.listRequests},
		{"GET", "/v1/requests/{id}", people, s.getRequest},
		{"DELETE", "/v1/requests/{id}", people, s.withdrawRequest},
		{"GET", "/v1/occupancy", people, s.occupancy},
		{"GET", "/v1/forecast", people, s.forecast},
		{"GET", "/v1/zones.geojson", people, s.zonesGeoJSON},
		{"GET", "/v1/status", []string{auth.RoleOperator, auth.RoleOps, auth.RoleGate}, s.status},
		{"GET", "/v1/closures", ops, s.listClosures},
		{"POST", "/v1/closures", ops, s.createClosure},
		{"DELETE", "/v1/closures/{id}", ops, s.reopen},
		{"POST", "/v1/holds", ops, s.hold},
		{"GET", "/v1/cuts", ops, s.listCuts},
		{"POST", "/v1/cuts", ops, s.createCut},
		{"DELETE", "/v1/cuts/{id}", ops, s.liftCut},
		{"POST", "/v1/replan", ops, s.replan},
		{"POST", "/v1/zones/{zone}/reset", ops, s.resetZone},
		{"POST", "/v1/keys", ops, s.createKey},
		{"GET", "/v1/keys", ops, s.listKeys},
		{"DELETE", "/v1/keys/{id}", ops, s.revokeKey},
		{"POST", "/v1/keys/rotate-ops", ops, s.rotateOpsKey},
		{"POST", "/v1/console-links", ops, s.createConsoleLink},
		{"POST", "/v1/console-links/claim", public, s.claimConsoleLink},
		{"POST", "/v1/scans", []string{auth.RoleGate, auth.RoleOps}, s.scan},
		{"GET", "/v1/plan", ops, s.plan},
		{"GET", "/v1/backup", ops, s.backup},
	}, append(s.deviceRoutes(), s.sensorRoutes()...)...)
}

// ServeHTTP serves a request and counts it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	bodyDeadline(w, r, s.opts.BodyTimeout)
	_, pattern := s.mux.Handler(r)
	label, abort := "unmatched", false
	if pattern == "" {
		s.unmatched(sw, r)
	} else {
		if _, p, ok := strings.Cut(pattern, " "); ok {
			label = p
		} else {
			label = pattern
		}
		abort = s.serveGuarded(sw, r)
	}
	code := sw.code
	if code == 0 {
		code = http.StatusOK
	}
	s.m.observe(label, r.Method, code, time.Since(start))
	if code >= 500 {
		s.log.Warn("http request failed", "method", r.Method, "route", label, "code", code)
	} else {
		s.log.Debug("http request", "method", r.Method, "route", label, "code", code, "took", time.Since(start))
	}
	if abort {
		panic(http.ErrAbortHandler)
	}
}

// unmatched answers a request no route matched: ServeMux's own answer (404,
// 405 with Allow, or a redirect to the clean path) with a JSON body for the
// errors.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	cw := &captureWriter{header: http.Header{}}
	s.mux.ServeHTTP(cw, r)
	switch cw.code {
	case http.StatusNotFound:
		writeError(w, errf(http.StatusNotFound, scheduler.CodeNotFound, "",
			"no endpoint %s %s; the API is described at /openapi.json", r.Method, r.URL.Path))
	case http.StatusMethodNotAllowed:
		allow := cw.header.Get("Allow")
		w.Header().Set("Allow", allow)
		writeError(w, errf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "",
			"method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow))
	default:
		for k, v := range cw.header {
			w.Header()[k] = v
		}
		if cw.code == 0 {
			cw.code = http.StatusOK
		}
		w.WriteHeader(cw.code)
		w.Write(cw.body.Bytes())
	}
}

// wrap runs the route's checks in order: body size limit, API key, role,
// rate limit; then the handler, and writes its error if it returns one.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		}
		var p *principal
		if rt.roles != nil {
			var e *apiError
			if p, e = s.authenticate(r); e == nil {
				if !slices.Contains(rt.roles, p.Role) {
					e = errf(http.StatusForbidden, CodeForbidden, "",
						"%s %s is for keys of role %s; this key has role %q",
						rt.method, rt.path, strings.Join(rt.roles, " or "), p.Role)
				} else {
					e = s.limit(p)
				}
			}
			if e != nil {
				refuseBody(w, r)
				writeError(w, e)
				return
			}
		}
		if e := rt.handle(w, r, p); e != nil {
			writeError(w, e)
		}
	})
}

const keyHelp = `send the key as "Authorization: Bearer <key>"; keys are made with ` +
	"`tafweej keys create` or POST /v1/keys by operations (the first ops key is in the data directory's ops.key)"

// authenticate finds the request's API key.
func (s *Server) authenticate(r *http.Request) (*principal, *apiError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, errf(http.StatusUnauthorized, CodeUnauthorized, "Authorization", "missing API key: %s", keyHelp)
	}
	secret, ok := auth.Bearer(h)
	if !ok {
		return nil, errf(http.StatusUnauthorized, CodeUnauthorized, "Authorization",
			"the Authorization header is not of the form \"Bearer <key>\": %s", keyHelp)
	}
	k, err := s.auth.Lookup(secret)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errf(http.StatusUnauthorized, CodeUnauthorized, "Authorization", "unknown API key: %s", keyHelp)
	}
	if err != nil {
		s.log.Error("api key lookup failed", "err", err)
		return nil, errf(http.StatusServiceUnavailable, CodeUnavailable, "", "the API key could not be checked; retry later")
	}
	return &principal{k}, nil
}

// limit applies the key's rate limit (wall-clock time: it protects the
// server, whatever clock the site runs on).
func (s *Server) limit(p *principal) *apiError {
	if s.opts.RatePerSecond < 0 {
		return nil
	}
	s.limMu.Lock()
	l := s.limiters[p.Hash]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(s.opts.RatePerSecond), s.opts.Burst)
		s.limiters[p.Hash] = l
	}
	s.limMu.Unlock()
	res := l.Reserve()
	if d := res.Delay(); d > 0 {
		res.Cancel()
		e := errf(http.StatusTooManyRequests, CodeRateLimited, "",
			"too many requests with this key: at most %g a second (bursts of %d); retry after %s",
			s.opts.RatePerSecond, s.opts.Burst, d.Round(time.Millisecond))
		e.retryAfter = int(math.Ceil(d.Seconds()))
		return e
	}
	return nil
}

// claim marks an Idempotency-Key as in flight; release unmarks it. ok is
// false if it already was.
func (s *Server) claim(operator, key string) (release func(), ok bool) {
	k := idemScope{operator, key}
	s.idemMu.Lock()
	defer s.idemMu.Unlock()
	if _, busy := s.inflight[k]; busy {
		return nil, false
	}
	s.inflight[k] = struct{}{}
	return func() {
		s.idemMu.Lock()
		delete(s.inflight, k)
		s.idemMu.Unlock()
	}, true
}

// statusWriter records the status code of an answer.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers (server-sent events) flush through.
func (w *statusWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack lets upgrading handlers (WebSocket) take the connection.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.code == 0 {
		w.code = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// captureWriter keeps an answer in memory.
type captureWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (w *captureWriter) Header() http.Header { return w.header }
func (w *captureWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *captureWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.body.Write(b)
}
