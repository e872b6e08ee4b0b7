package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// Defaults of Options.
const (
	DefaultMinBackoff = 5 * time.Second
	DefaultMaxBackoff = time.Hour
	DefaultMaxAge     = 72 * time.Hour
	DefaultTimeout    = 10 * time.Second
	DefaultWorkers    = 4
	// SecretOverlap is how long a rotated-out secret still signs.
	SecretOverlap = 24 * time.Hour
	// MaxEndpoints is the most endpoints one operator may register.
	MaxEndpoints = 10
)

// Store is what the service keeps on disk; *store.Badger implements it.
// Every method's error contract is store.Badger's: ErrNotFound for a
// missing record, otherwise nothing was written.
type Store interface {
	PutWebhook(store.WebhookEndpoint) error
	DeleteWebhook(id string) error
	ListWebhooks() ([]store.WebhookEndpoint, error)
	PutDelivery(store.WebhookDelivery) error
	Delivery(endpoint, id string) (store.WebhookDelivery, error)
	Deliveries(endpoint string) ([]store.WebhookDelivery, error)
	PendingDeliveries() ([]store.WebhookDelivery, error)
	// Booking is the last durable version of a booking (the wave a moved
	// booking comes from).
	Booking(id string) (scheduler.Booking, error)
}

var _ Store = (*store.Badger)(nil)

// Options configures a Service. Store and Config are required; the zero
// value of every other field means its default.
type Options struct {
	Store  Store
	Config *scheduler.Config
	Logger *slog.Logger
	// Registerer receives the webhook metrics; nil means none.
	Registerer prometheus.Registerer
	// AllowPrivate lets endpoints resolve to loopback, private and other
	// special addresses (serve --webhook-allow-private; tests).
	AllowPrivate bool
	// MinBackoff, MaxBackoff: the first retry waits about MinBackoff, each
	// next one twice as long, at most MaxBackoff (with jitter: between
	// half and all of it).
	MinBackoff, MaxBackoff time.Duration
	// MaxAge is how long after its event a delivery is retried before it
	// fails (it can then be replayed).
	MaxAge time.Duration
	// Timeout bounds one attempt (default 10s).
	Timeout time.Duration
	// Workers is how many deliveries are attempted at once (default 4).
	Workers int
	// Now is the wall clock of attempts and signatures (webhook-timestamp
	// must be close to the receiver's clock, whatever clock the scheduler
	// runs on); nil means time.Now.
	Now func() time.Time
	// Resolver resolves endpoint hosts; nil means net.DefaultResolver.
	Resolver *net.Resolver
}

// Service registers endpoints and delivers the outbox.
type Service struct {
	opts   Options
	st     Store
	cfg    *scheduler.Config
	log    *slog.Logger
	m      *metrics
	client *http.Client
	now    func() time.Time

	// regMu serialises the changes of endpoints (their store write and the
	// map), so that the map is always what the store has.
	regMu sync.Mutex

	mu        sync.Mutex                        // guards endpoints, queue, queued
	endpoints map[string]*store.WebhookEndpoint // by id
	queue     deliveryHeap                      // pending deliveries by next attempt
	queued    map[string]bool                   // endpoint/id of every delivery in queue or in flight
	wake      chan struct{}                     // signalled when the queue's head may have changed
}

// New loads the endpoints and the pending deliveries (tried at once when
// Run starts).
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Config == nil {
		return nil, errors.New("webhooks: Options.Store and Config are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = opts.MinBackoff
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	s := &Service{
		opts: opts, st: opts.Store, cfg: opts.Config, log: opts.Logger, now: opts.Now,
		m:         newMetrics(opts.Registerer),
		endpoints: map[string]*store.WebhookEndpoint{},
		queued:    map[string]bool{},
		wake:      make(chan struct{}, 1),
	}
	s.client = s.newClient()
	eps, err := s.st.ListWebhooks()
	if err != nil {
		return nil, fmt.Errorf("webhooks: load endpoints: %w", err)
	}
	for i := range eps {
		s.endpoints[eps[i].ID] = &eps[i]
	}
	pending, err := s.st.PendingDeliveries()
	if err != nil {
		return nil, fmt.Errorf("webhooks: load pending deliveries: %w", err)
	}
	now := s.now()
	for _, d := range pending {
		if _, ok := s.endpoints[d.Endpoint]; !ok {
			continue
		}
		// After a start every pending delivery is tried at once: the
		// receiver may have been fine all along.
		d.NextAttempt = now
		s.push(d)
	}
	s.m.endpoints.Set(float64(len(s.endpoints)))
	if len(pending) > 0 {
		s.log.Info("webhooks: pending deliveries reloaded", "deliveries", len(pending))
	}
	return s, nil
}

// newClient is the HTTP client of deliveries: no proxy, no redirects, and
// (unless AllowPrivate) a dialler that refuses special addresses.
func (s *Service) newClient() *http.Client {
	d := &net.Dialer{Timeout: s.opts.Timeout, KeepAlive: 30 * time.Second, Resolver: s.opts.Resolver}
	if !s.opts.AllowPrivate {
		d.Control = dialControl
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   s.opts.Timeout,
		ResponseHeaderTimeout: s.opts.Timeout,
	}
	return &http.Client{Transport: tr, Timeout: s.opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// InputError is a refused input, naming its field. The HTTP adapter
// answers it with 400.
type InputError struct {
	field, msg string
}

func (e *InputError) Error() string { return e.msg }

// Field is the name of the field at fault.
func (e *InputError) Field() string { return e.field }

func inputErrorf(field, format string, args ...any) *InputError {
	return &InputError{field: field, msg: fmt.Sprintf(format, args...)}
}

// newSecret is a signing secret as Standard Webhooks writes it.
func newSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newDeliveryID is a Standard Webhooks message id, ordered by time so that
// an endpoint's deliveries list in the order they were made.
func newDeliveryID(now time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(now.UnixNano()))
	return "msg_" + hex.EncodeToString(b[:]) + randomHex(6)
}

// Add registers an endpoint for operator. The answer carries the secret:
// the only time it is shown, with Rotate's.
func (s *Service) Add(ctx context.Context, operator, rawURL string) (store.WebhookEndpoint, error) {
	if operator == "" {
		return store.WebhookEndpoint{}, inputErrorf("operator", "webhooks belong to an operator; use an operator's key")
	}
	u, err := checkURL(rawURL)
	if err != nil {
		return store.WebhookEndpoint{}, err
	}
	if !s.opts.AllowPrivate {
		if err := resolveAllowed(ctx, s.opts.Resolver, u.Hostname()); err != nil {
			msg := fmt.Sprintf("url %q is refused: %v", rawURL, err)
			if errors.Is(err, ErrForbiddenAddress) {
				msg += "; webhooks go to public addresses only (the service's operators may start it with --webhook-allow-private)"
			}
			return store.WebhookEndpoint{}, inputErrorf("url", "%s", msg)
		}
	}
	s.regMu.Lock()
	defer s.regMu.Unlock()
	if n := len(s.List(operator)); n >= MaxEndpoints {
		return store.WebhookEndpoint{}, inputErrorf("url", "operator %q has %d webhook endpoints, the most accepted; remove one first", operator, n)
	}
	ep := store.WebhookEndpoint{ID: "wh_" + randomHex(10), Operator: operator, URL: u.String(), Secret: newSecret(),
		CreatedAt: s.now().UTC()}
	if err := s.st.PutWebhook(ep); err != nil {
		return store.WebhookEndpoint{}, err
	}
	s.mu.Lock()
	s.endpoints[ep.ID] = &ep
	s.m.endpoints.Set(float64(len(s.endpoints)))
	s.mu.Unlock()
	s.log.Info("webhooks: endpoint registered", "endpoint", ep.ID, "operator", operator)
	return ep, nil
}

// List returns operator's endpoints, without their secrets, by id.
func (s *Service) List(operator string) []store.WebhookEndpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.WebhookEndpoint
	for _, ep := range s.endpoints {
		if ep.Operator == operator {
			c := *ep
			c.Secret, c.PreviousSecret = "", ""
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b store.WebhookEndpoint) int { return compareStrings(a.ID, b.ID) })
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// endpoint is operator's endpoint id; an error wrapping store.ErrNotFound
// if there is none (another operator's is not there either).
func (s *Service) endpoint(operator, id string) (store.WebhookEndpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ep, ok := s.endpoints[id]
	if !ok || ep.Operator != operator {
		return store.WebhookEndpoint{}, fmt.Errorf("%w: no webhook endpoint %q", store.ErrNotFound, id)
	}
	return *ep, nil
}

// Remove deletes operator's endpoint and its deliveries, pending or not.
func (s *Service) Remove(operator, id string) error {
	s.regMu.Lock()
	defer s.regMu.Unlock()
	if _, err := s.endpoint(operator, id); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.endpoints, id) // no new deliveries, no more attempts
	s.m.endpoints.Set(float64(len(s.endpoints)))
	s.mu.Unlock()
	if err := s.st.DeleteWebhook(id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.log.Info("webhooks: endpoint removed", "endpoint", id, "operator", operator)
	return nil
}

// Rotate gives operator's endpoint a new secret, returned once; the old
// one still signs for SecretOverlap.
func (s *Service) Rotate(operator, id string) (store.WebhookEndpoint, error) {
	s.regMu.Lock()
	defer s.regMu.Unlock()
	ep, err := s.endpoint(operator, id)
	if err != nil {
		return store.WebhookEndpoint{}, err
	}
	now := s.now().UTC()
	ep.PreviousSecret, ep.PreviousUntil = ep.Secret, now.Add(SecretOverlap)
	ep.Secret, ep.RotatedAt = newSecret(), now
	if err := s.st.PutWebhook(ep); err != nil {
		return store.WebhookEndpoint{}, err
	}
	s.mu.Lock()
	s.endpoints[ep.ID] = &ep
	s.mu.Unlock()
	s.log.Info("webhooks: endpoint secret rotated", "endpoint", id, "operator", operator)
	out := ep
	out.PreviousSecret = ""
	return out, nil
}

// Deliveries lists the deliveries of operator's endpoint, newest first.
func (s *Service) Deliveries(operator, id string) ([]store.WebhookDelivery, error) {
	if _, err := s.endpoint(operator, id); err != nil {
		return nil, err
	}
	ds, err := s.st.Deliveries(id)
	if err != nil {
		return nil, err
	}
	slices.Reverse(ds)
	return ds, nil
}

// Replay makes a delivery pending again, due now, with the same webhook-id
// (the receiver sees the same message once more); its attempts start over.
func (s *Service) Replay(operator, id, delivery string) (store.WebhookDelivery, error) {
	if _, err := s.endpoint(operator, id); err != nil {
		return store.WebhookDelivery{}, err
	}
	d, err := s.st.Delivery(id, delivery)
	if err != nil {
		return store.WebhookDelivery{}, fmt.Errorf("%w: no delivery %q of webhook endpoint %q", store.ErrNotFound, delivery, id)
	}
	s.mu.Lock()
	busy := s.queued[queueKey(d)]
	s.mu.Unlock()
	if busy {
		return d, nil // already waiting or being attempted
	}
	now := s.now().UTC()
	d.Status, d.Attempts, d.NextAttempt, d.Delivered, d.Replayed = store.DeliveryPending, 0, now, time.Time{}, now
	if err := s.st.PutDelivery(d); err != nil {
		return store.WebhookDelivery{}, err
	}
	s.mu.Lock()
	s.push(d)
	s.mu.Unlock()
	s.signal()
	return d, nil
}
