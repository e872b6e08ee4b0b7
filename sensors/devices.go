package sensors

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// Registry is the site's register of NATS devices: it makes their NKeys,
// keeps their public keys in the store and applies them to the embedded
// server's Auth (nil with an external server, whose authorization comes
// from ExportAuthorization). Its methods are safe for concurrent use.
type Registry struct {
	st   store.DeviceStore
	cfg  *scheduler.Config
	site string
	auth *Auth
	now  func() time.Time

	mu sync.Mutex // serialises changes, so that the server sees them in order
}

// RegistryOptions configure NewRegistry. Store and Config are required.
type RegistryOptions struct {
	Store  store.DeviceStore
	Config *scheduler.Config
	// Site is the subject prefix's site id; empty means Config's.
	Site string
	// Auth is the embedded server's; nil with an external server.
	Auth *Auth
	// Now is the wall clock of device expiry (nil: time.Now).
	Now func() time.Time
}

// NewRegistry loads the registered devices and applies them to o.Auth. A
// stored device whose target the configuration no longer has is kept in
// the store but gets no access; the error names it, and the registry is
// returned all the same.
func NewRegistry(o RegistryOptions) (*Registry, error) {
	if o.Store == nil || o.Config == nil {
		return nil, errors.New("sensors: RegistryOptions.Store and Config are required")
	}
	if o.Site == "" {
		o.Site = o.Config.Site
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Registry{st: o.Store, cfg: o.Config, site: o.Site, auth: o.Auth, now: o.Now}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r, r.applyLocked()
}

// applyLocked gives the server the stored devices. r.mu is held.
func (r *Registry) applyLocked() error {
	if r.auth == nil {
		return nil
	}
	devs, err := r.st.ListDevices()
	if err != nil {
		return fmt.Errorf("sensors: devices: %w", err)
	}
	return r.auth.SetDevices(r.site, r.cfg, devs)
}

// MaxDeviceTTL bounds a short-lived device's lifetime.
const MaxDeviceTTL = 7 * 24 * time.Hour

// Add registers a device of kind (gate, sensor, alerts) for target and
// returns it with its NKey seed, which is not kept: the caller hands it to
// the device (DeviceOptions connects with it). A gate's target must be
// a gate of the site and a sensor's a sensor of the site; an alert source's
// target is a free name. ttl > 0 makes a short-lived device that loses its
// access after ttl (at most MaxDeviceTTL). Bad arguments are
// *scheduler.Error with code invalid and the field named.
func (r *Registry) Add(kind, target, name string, ttl time.Duration) (store.Device, []byte, error) {
	if err := r.check(kind, target, name, ttl); err != nil {
		return store.Device{}, nil, err
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return store.Device{}, nil, fmt.Errorf("sensors: device key: %w", err)
	}
	defer kp.Wipe()
	pub, err := kp.PublicKey()
	if err != nil {
		return store.Device{}, nil, fmt.Errorf("sensors: device key: %w", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return store.Device{}, nil, fmt.Errorf("sensors: device key: %w", err)
	}
	id, err := newDeviceID()
	if err != nil {
		return store.Device{}, nil, err
	}
	now := r.now().UTC().Truncate(time.Second)
	d := store.Device{ID: id, Kind: kind, Target: target, Name: name, PublicKey: pub, CreatedAt: now}
	if ttl > 0 {
		exp := now.Add(ttl)
		d.ExpiresAt = &exp
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.st.PutDevice(d); err != nil {
		return store.Device{}, nil, fmt.Errorf("sensors: store device: %w", err)
	}
	if err := r.applyLocked(); err != nil {
		return store.Device{}, nil, err
	}
	return d, append([]byte(nil), seed...), nil
}

func (r *Registry) check(kind, target, name string, ttl time.Duration) error {
	invalid := func(field, format string, args ...any) error {
		return &scheduler.Error{Code: scheduler.CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
	}
	switch kind {
	case store.DeviceGate:
		if _, ok := r.cfg.Gate(target); !ok {
			return invalid("target", "gate %q is not a gate of site %q (known: %s)", target, r.site, strings.Join(gateIDs(r.cfg), ", "))
		}
	case store.DeviceSensor:
		if _, ok := r.cfg.Sensor(target); !ok {
			return invalid("target", "sensor %q is not a sensor of site %q (known: %s)", target, r.site, strings.Join(sensorIDs(r.cfg), ", "))
		}
	case store.DeviceAlerts:
		if !subjects.ValidToken(target) || len(target) > 64 {
			return invalid("target", "alert source %q is not a name: 1 to 64 characters, no spaces, dots, '*' or '>'", target)
		}
	default:
		return invalid("kind", "kind %q is not a device kind (accepted: gate, sensor, alerts)", kind)
	}
	if len(name) > 100 {
		return invalid("name", "name has %d bytes; at most 100 are accepted", len(name))
	}
	if ttl < 0 || ttl > MaxDeviceTTL {
		return invalid("ttl", "ttl %s is out of range: 0 (no expiry) to %s", ttl, MaxDeviceTTL)
	}
	return nil
}

func gateIDs(cfg *scheduler.Config) []string {
	ids := make([]string, 0, len(cfg.Gates))
	for _, g := range cfg.Gates {
		ids = append(ids, g.ID)
	}
	return ids
}

func sensorIDs(cfg *scheduler.Config) []string {
	ids := make([]string, 0, len(cfg.Sensors))
	for _, s := range cfg.Sensors {
		ids = append(ids, s.ID)
	}
	return ids
}

// List returns every registered device, expired ones included, sorted by id.
func (r *Registry) List() ([]store.Device, error) {
	return r.st.ListDevices()
}

// Revoke removes a device: its open connections are closed and it cannot
// connect again, before Revoke returns. An unknown id is a
// *scheduler.Error with code not_found.
func (r *Registry) Revoke(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.st.DeleteDevice(id)
	if errors.Is(err, store.ErrNotFound) {
		return &scheduler.Error{Code: scheduler.CodeNotFound, Field: "id", Message: fmt.Sprintf("no device %q", id)}
	}
	if err != nil {
		return fmt.Errorf("sensors: revoke device: %w", err)
	}
	return r.applyLocked()
}

var deviceIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newDeviceID() (string, error) {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sensors: device id: %w", err)
	}
	return "dev_" + deviceIDEncoding.EncodeToString(b[:]), nil
}
