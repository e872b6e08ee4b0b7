package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/store"
)

// Devices is the site's register of NATS devices (gates, people counters,
// alert sources); the sensors package provides it (sensors.Registry, via a
// small adapter in the composition root). Add returns the device and its
// NKey seed, which is not kept; bad arguments are *scheduler.Error with code
// invalid naming the field, an unknown id in Revoke one with code
// not_found. Revoke returns once the device's connections are closed.
type Devices interface {
	Add(kind, target, name string, ttl time.Duration) (d store.Device, seed []byte, err error)
	List() ([]store.Device, error)
	Revoke(id string) error
}

// DeviceRequest is the body of POST /v1/devices.
type DeviceRequest struct {
	Kind   string `json:"kind"`   // gate, sensor or alerts
	Target string `json:"target"` // the gate id, the sensor id, or the alert source's name
	Name   string `json:"name,omitempty"`
	// TTL, a Go duration ("10m"), makes a short-lived device (the
	// project's own tools use one); empty means no expiry.
	TTL string `json:"ttl,omitempty"`
}

// Device is a registered device as the API shows it.
type Device struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Target      string     `json:"target"`
	Name        string     `json:"name,omitempty"`
	PublicKey   string     `json:"public_key"`
	InboxPrefix string     `json:"inbox_prefix"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	// Seed is the device's NKey seed, answered once by POST /v1/devices.
	Seed string `json:"seed,omitempty"`
}

// DeviceList is the answer of GET /v1/devices.
type DeviceList struct {
	Devices []Device `json:"devices"`
}

var deviceBody = body{fields: []string{"kind", "target", "name", "ttl"},
	forbidden: forbid(assigned, "id", "public_key", "inbox_prefix", "seed", "created_at", "expires_at")}

func (s *Server) deviceRoutes() []route {
	ops := []string{auth.RoleOps}
	return []route{
		{"POST", "/v1/devices", ops, s.addDevice},
		{"GET", "/v1/devices", ops, s.listDevices},
		{"DELETE", "/v1/devices/{id}", ops, s.revokeDevice},
	}
}

func (s *Server) noDevices() *apiError {
	return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "devices are not registered here: this server runs without a device registry")
}

func (s *Server) deviceOut(d store.Device) Device {
	out := Device{ID: d.ID, Kind: d.Kind, Target: d.Target, Name: d.Name, PublicKey: d.PublicKey,
		InboxPrefix: d.InboxPrefix(), CreatedAt: d.CreatedAt.In(s.loc)}
	if d.ExpiresAt != nil {
		exp := d.ExpiresAt.In(s.loc)
		out.ExpiresAt = &exp
	}
	return out
}

// addDevice: POST /v1/devices.
func (s *Server) addDevice(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	if s.opts.Devices == nil {
		return s.noDevices()
	}
	var in DeviceRequest
	if _, e := decode(r, deviceBody, &in); e != nil {
		return e
	}
	var ttl time.Duration
	if in.TTL != "" {
		var err error
		if ttl, err = time.ParseDuration(in.TTL); err != nil || ttl <= 0 {
			return badRequest("ttl", "ttl %q is not a positive duration (e.g. \"10m\", \"8h\")", in.TTL)
		}
	}
	d, seed, err := s.opts.Devices.Add(in.Kind, in.Target, in.Name, ttl)
	if err != nil {
		return s.deviceError(err)
	}
	out := s.deviceOut(d)
	out.Seed = string(seed)
	writeJSON(w, http.StatusCreated, out) // Cache-Control: no-store
	return nil
}

// listDevices: GET /v1/devices.
func (s *Server) listDevices(w http.ResponseWriter, _ *http.Request, _ *principal) *apiError {
	if s.opts.Devices == nil {
		return s.noDevices()
	}
	ds, err := s.opts.Devices.List()
	if err != nil {
		return s.deviceError(err)
	}
	out := DeviceList{Devices: make([]Device, 0, len(ds))}
	for _, d := range ds {
		out.Devices = append(out.Devices, s.deviceOut(d))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// revokeDevice: DELETE /v1/devices/{id}.
func (s *Server) revokeDevice(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	if s.opts.Devices == nil {
		return s.noDevices()
	}
	if err := s.opts.Devices.Revoke(r.PathValue("id")); err != nil {
		return s.deviceError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deviceError(err error) *apiError {
	if e := fromRefusal(err); e != nil && e.body.Code != CodeInternal {
		return e
	}
	if errors.Is(err, store.ErrClosed) {
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "the service is stopping; retry later")
	}
	s.log.Error("device registry", "err", err)
	return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "the device registry could not be changed; retry later")
}
