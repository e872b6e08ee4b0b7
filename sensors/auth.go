package sensors

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// Trust on the wire
//
// The embedded NATS server admits no anonymous client. Two kinds of user
// exist:
//
//   - the service itself, an NKey user whose key pair is made at start and
//     lives only in this process's memory (never written, never logged). It
//     may publish and subscribe anywhere: it answers scans, consumes the
//     counter stream, publishes events and dead letters;
//   - registered devices (store.Device), NKey users whose seed the ops team
//     handed to the device. Each gets the permissions of its kind only
//     (DevicePermissions): a gate publishes its own gate's scans and receives
//     the replies on its own inbox prefix; a sensor publishes its own
//     counter subject and receives its JetStream acks; an alert source
//     publishes alerts. No device may subscribe anywhere else, and none may
//     touch JetStream's API ($JS.API.>) or the system account.
//
// Adding a device reloads the server's users; revoking one (or its expiry)
// reloads them and closes the device's open connections at once.

// InboxPrefix is the inbox prefix of a device: it receives every reply (scan
// replies, JetStream publish acks) under InboxPrefix(id) + ".>" and may not
// subscribe anywhere else. nats.go: nats.CustomInboxPrefix(InboxPrefix(id)).
func InboxPrefix(id string) string { return store.Device{ID: id}.InboxPrefix() }

// denyAll is denied to every device whatever its kind: JetStream's API (and
// its domain-prefixed form), the system account's subjects, and the
// service's own inboxes.
var denyAll = []string{"$JS.>", "$JSC.>", "$KV.>", "$O.>", "$SYS.>", "$SRV.>", "_INBOX.>"}

// DevicePermissions are the NATS permissions of a device of site, checked
// against cfg: a gate device's target must be a gate of cfg and a sensor's a
// sensor of cfg; an alert source's target is a free name.
func DevicePermissions(site string, cfg *scheduler.Config, d store.Device) (*server.Permissions, error) {
	subj := subjects.For(site)
	var pub []string
	switch d.Kind {
	case store.DeviceGate:
		if _, ok := cfg.Gate(d.Target); !ok {
			return nil, fmt.Errorf("device %s: gate %q is not a gate of site %q", d.ID, d.Target, site)
		}
		// Its scans, and the offline protocol of its own gate: the day's
		// manifest (request/reply) and the upload of offline scans
		// (JetStream, acked on its inbox).
		pub = []string{subj.GateScan(d.Target), subj.GateManifest(d.Target), subj.GateOffline(d.Target)}
	case store.DeviceSensor:
		sc, ok := cfg.Sensor(d.Target)
		if !ok {
			return nil, fmt.Errorf("device %s: sensor %q is not a sensor of site %q", d.ID, d.Target, site)
		}
		pub = []string{subj.Counter(sc.Zone, sc.ID)}
	case store.DeviceAlerts:
		pub = []string{subj.Alert(), subj.AlertsOf(d.Target)}
	default:
		return nil, fmt.Errorf("device %s: kind %q is not a device kind (accepted: gate, sensor, alerts)", d.ID, d.Kind)
	}
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub, Deny: slices.Clone(denyAll)},
		Subscribe: &server.SubjectPermission{Allow: []string{InboxPrefix(d.ID) + ".>"}, Deny: slices.Clone(denyAll)},
	}, nil
}

// Auth is the embedded server's authorization: the service's own user and
// the registered devices. Make it with NewAuth, pass it to StartEmbedded,
// and connect the service with ServiceOption. Its methods are safe for
// concurrent use.
type Auth struct {
	service nkeys.KeyPair
	svcPub  string
	now     func() time.Time

	mu      sync.Mutex     // guards the fields below
	srv     *server.Server // nil until StartEmbedded
	base    *server.Options
	devices []server.NkeyUser // current device users, without the service
	expiry  *time.Timer       // reloads at the next device's expiry
	closed  bool              // the server stopped: nothing more to reload
	// inProcess admits the service's user only in process
	// (ServiceInProcessOnly).
	inProcess bool
	// the last SetDevices arguments, which an expiry applies again
	site string
	cfg  *scheduler.Config
	devs []store.Device
}

// NewAuth makes the service's key pair. now is the wall clock used for
// device expiry (nil: time.Now).
func NewAuth(now func() time.Time) (*Auth, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("sensors: service key: %w", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("sensors: service key: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &Auth{service: kp, svcPub: pub, now: now}, nil
}

// ServiceOption authenticates a connection as the service itself.
func (a *Auth) ServiceOption() nats.Option {
	return nats.Nkey(a.svcPub, a.service.Sign)
}

// ServiceInProcessOnly admits the service's user only over an in-process
// connection (nats.InProcessServer): even its key could not be used from
// the network. Call it before StartEmbedded; `tafweej serve` does.
func (a *Auth) ServiceInProcessOnly() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inProcess = true
}

// ServicePublicKey is the service user's public key (for logs and tests).
func (a *Auth) ServicePublicKey() string { return a.svcPub }

// users is the server's nkey list: the service first, then the devices.
// a.mu is held.
func (a *Auth) users() []*server.NkeyUser {
	us := make([]*server.NkeyUser, 0, 1+len(a.devices))
	svc := &server.NkeyUser{Nkey: a.svcPub}
	if a.inProcess {
		svc.AllowedConnectionTypes = map[string]struct{}{"IN_PROCESS": {}}
	}
	us = append(us, svc)
	for i := range a.devices {
		u := a.devices[i]
		us = append(us, &u)
	}
	return us
}

// configure puts the users into opts before the server starts.
func (a *Auth) configure(opts *server.Options) {
	a.mu.Lock()
	defer a.mu.Unlock()
	opts.Nkeys = a.users()
	a.base = opts.Clone()
}

// started records the running server.
func (a *Auth) started(s *server.Server) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.srv = s
}

// SetDevices makes devs the server's device users: it reloads the server's
// authorization, which closes the connections of devices no longer in devs
// (and of devices whose permissions changed, which reconnect with the new
// ones). Expired devices are left out, and the next expiry reloads again.
// Devices whose target is not in cfg are left out and reported in the
// error; the others are applied.
func (a *Auth) SetDevices(site string, cfg *scheduler.Config, devs []store.Device) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return errors.New("sensors: auth: the NATS server has stopped")
	}
	a.site, a.cfg, a.devs = site, cfg, slices.Clone(devs)
	return a.apply()
}

// apply computes the device users from the last SetDevices, reloads the
// server and arms the expiry timer. a.mu is held.
func (a *Auth) apply() error {
	if a.srv != nil && !a.srv.Running() {
		a.closed = true
		return errors.New("sensors: auth: the NATS server has stopped")
	}
	now := a.now()
	users := make([]server.NkeyUser, 0, len(a.devs))
	var errs []error
	var next time.Time
	for _, d := range a.devs {
		if d.Expired(now) {
			continue
		}
		perms, err := DevicePermissions(a.site, a.cfg, d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !nkeys.IsValidPublicUserKey(d.PublicKey) {
			errs = append(errs, fmt.Errorf("device %s: public key %q is not an NKey user public key", d.ID, d.PublicKey))
			continue
		}
		users = append(users, server.NkeyUser{Nkey: d.PublicKey, Permissions: perms})
		if d.ExpiresAt != nil && (next.IsZero() || d.ExpiresAt.Before(next)) {
			next = *d.ExpiresAt
		}
	}
	a.devices = users
	if a.expiry != nil {
		a.expiry.Stop()
		a.expiry = nil
	}
	if !next.IsZero() {
		a.expiry = time.AfterFunc(max(next.Sub(now), 0)+10*time.Millisecond, a.expire)
	}
	if a.srv != nil {
		opts := a.base.Clone()
		opts.Nkeys = a.users()
		if err := a.srv.ReloadOptions(opts); err != nil {
			errs = append(errs, fmt.Errorf("sensors: reload NATS users: %w", err))
		}
	}
	return errors.Join(errs...)
}

// expire applies the last device list again, leaving out those expired.
func (a *Auth) expire() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.closed {
		_ = a.apply()
	}
}

// DeviceOptions authenticate a connection as a registered device from its
// NKey seed, with its inbox prefix for every reply it waits for.
func DeviceOptions(seed []byte, inboxPrefix string) ([]nats.Option, error) {
	kp, err := nkeys.FromSeed(seed)
	if err != nil {
		return nil, fmt.Errorf("sensors: device seed: %w", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("sensors: device seed: %w", err)
	}
	if !nkeys.IsValidPublicUserKey(pub) {
		return nil, errors.New("sensors: device seed: not an NKey user seed (it starts with SU)")
	}
	return []nats.Option{nats.Nkey(pub, kp.Sign), nats.CustomInboxPrefix(inboxPrefix)}, nil
}
