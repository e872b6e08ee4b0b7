package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Device kinds: what a registered NATS device may do (see sensors.DevicePermissions).
const (
	DeviceGate   = "gate"   // a gate scanner: scans at one gate
	DeviceSensor = "sensor" // a people counter: readings of one sensor
	DeviceAlerts = "alerts" // an alert source (e.g. a flood early warning system)
)

// Device is a registered NATS device. Only its NKey public key is kept: the
// seed is shown to the ops team once, when the device is added.
type Device struct {
	ID        string    `json:"id"`     // dev_<random>
	Kind      string    `json:"kind"`   // gate, sensor or alerts
	Target    string    `json:"target"` // the gate id, the sensor id, or the alert source's name
	Name      string    `json:"name,omitempty"`
	PublicKey string    `json:"public_key"` // NKey user public key (U...)
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt, if set, ends the device's access at that (wall clock)
	// time: short-lived credentials of the project's own tools.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// InboxPrefix is the prefix of every reply subject the device waits on
// (scan replies, JetStream publish acks): _INBOX_<id>. The device may
// subscribe under it and nowhere else.
func (d Device) InboxPrefix() string { return "_INBOX_" + d.ID }

// Expired reports whether the device's access has ended at now.
func (d Device) Expired(now time.Time) bool {
	return d.ExpiresAt != nil && !now.Before(*d.ExpiresAt)
}

// DeviceStore keeps the registered devices. *Badger implements it.
//
// PutDevice stores a device, synced, replacing one with the same id; it
// fails on an empty id. ListDevices returns every device sorted by id.
// DeleteDevice removes one (synced) and returns ErrNotFound if there is no
// device with that id. Every method may return ErrClosed or an I/O error,
// in which case nothing was written.
type DeviceStore interface {
	PutDevice(d Device) error
	ListDevices() ([]Device, error)
	DeleteDevice(id string) error
}

var _ DeviceStore = (*Badger)(nil)

const prefixDevice = "d/" // d/<device id>

func deviceKey(id string) []byte { return []byte(prefixDevice + id) }

// PutDevice stores a device, synced.
func (s *Badger) PutDevice(d Device) error {
	if d.ID == "" {
		return errors.New("store: put device: id is empty")
	}
	val, err := encode(&d)
	if err != nil {
		return fmt.Errorf("store: put device: %w", err)
	}
	// Through writeOps: replicated with the state (replica.go).
	if err := s.writeOps([]op{{key: deviceKey(d.ID), val: val}}); err != nil {
		return fmt.Errorf("store: put device: %w", err)
	}
	return nil
}

// ListDevices returns every registered device, sorted by id.
func (s *Badger) ListDevices() ([]Device, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	var ds []Device
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		ds, err = loadPrefix[Device](txn, prefixDevice, 1)
		return err
	})
	return ds, err
}

// DeleteDevice removes a device, synced; ErrNotFound if there is none.
func (s *Badger) DeleteDevice(id string) error {
	err := s.view(func(txn *badger.Txn) error {
		_, err := txn.Get(deviceKey(id))
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: delete device: %w", err)
	}
	// Through writeOps: replicated with the state (replica.go).
	if err := s.writeOps([]op{{key: deviceKey(id)}}); err != nil {
		return fmt.Errorf("store: delete device: %w", err)
	}
	return nil
}
