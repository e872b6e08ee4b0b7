package api

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// fakeDevices stands for sensors.Registry, which this package's tests
// cannot import (sensors imports api): it checks targets against the site
// configuration and keeps the devices in the real store.
type fakeDevices struct {
	cfg *scheduler.Config
	st  store.DeviceStore
	n   int
}

func (f *fakeDevices) Add(kind, target, name string, ttl time.Duration) (store.Device, []byte, error) {
	invalid := func(field, format string, args ...any) error {
		return &scheduler.Error{Code: scheduler.CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case kind != "gate" && kind != "sensor" && kind != "alerts":
		return store.Device{}, nil, invalid("kind", "kind %q is not a device kind (accepted: gate, sensor, alerts)", kind)
	case kind == "gate":
		if _, ok := f.cfg.Gate(target); !ok {
			return store.Device{}, nil, invalid("target", "gate %q is not a gate", target)
		}
	}
	if ttl > 7*24*time.Hour {
		return store.Device{}, nil, invalid("ttl", "ttl %s is out of range", ttl)
	}
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	f.n++
	d := store.Device{ID: fmt.Sprintf("dev_%d", f.n), Kind: kind, Target: target, Name: name, PublicKey: pub, CreatedAt: time.Now().Truncate(time.Second)}
	if ttl > 0 {
		exp := d.CreatedAt.Add(ttl)
		d.ExpiresAt = &exp
	}
	return d, seed, f.st.PutDevice(d)
}

func (f *fakeDevices) List() ([]store.Device, error) { return f.st.ListDevices() }

func (f *fakeDevices) Revoke(id string) error {
	if err := f.st.DeleteDevice(id); err == store.ErrNotFound {
		return &scheduler.Error{Code: scheduler.CodeNotFound, Field: "id", Message: "no device " + id}
	} else if err != nil {
		return err
	}
	return nil
}

var _ Devices = (*fakeDevices)(nil)

// The device endpoints: decoding, errors, roles, and what is shown (the
// sensors tests cover the registry's checks and what the server enforces).
func TestDevicesEndpoints(t *testing.T) {
	h := newHarness(t, nil)
	h.api.opts.Devices = &fakeDevices{cfg: h.cfg, st: h.st}

	r := h.do("POST", "/v1/devices", h.opsKey, DeviceRequest{Kind: "gate", Target: "visitor-centre", Name: "VC lane 1"})
	if r.code != 201 {
		t.Fatalf("POST /v1/devices: %d %s", r.code, r.body)
	}
	var d Device
	r.decode(t, &d)
	kp, err := nkeys.FromSeed([]byte(d.Seed))
	if err != nil {
		t.Fatalf("seed %q: %v", d.Seed, err)
	}
	if pub, _ := kp.PublicKey(); pub != d.PublicKey || !strings.HasPrefix(d.ID, "dev_") ||
		d.InboxPrefix != "_INBOX_"+d.ID || d.Kind != "gate" || d.Target != "visitor-centre" || d.Name != "VC lane 1" || d.ExpiresAt != nil {
		t.Errorf("device %+v (public key of the seed %s)", d, pub)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on an answer with a seed", cc)
	}

	r = h.do("POST", "/v1/devices", h.opsKey, DeviceRequest{Kind: "sensor", Target: "siq-n1", TTL: "10m"})
	var s Device
	r.decode(t, &s)
	if r.code != 201 || s.ExpiresAt == nil || s.ExpiresAt.Sub(s.CreatedAt).Minutes() != 10 {
		t.Errorf("short-lived sensor: %d %s", r.code, r.body)
	}

	for _, c := range []struct {
		body  any
		field string
		msg   string
	}{
		{DeviceRequest{Kind: "gate", Target: "no-such-gate"}, "target", `gate "no-such-gate" is not a gate`},
		{DeviceRequest{Kind: "camera", Target: "x"}, "kind", `kind "camera" is not a device kind (accepted: gate, sensor, alerts)`},
		{DeviceRequest{Kind: "gate", Target: "visitor-centre", TTL: "soon"}, "ttl", `ttl "soon" is not a positive duration`},
		{DeviceRequest{Kind: "gate", Target: "visitor-centre", TTL: "720h"}, "ttl", `out of range`},
		{map[string]string{"kind": "gate", "target": "visitor-centre", "public_key": "UABC"}, "public_key", `the server assigns them`},
	} {
		r := h.do("POST", "/v1/devices", h.opsKey, c.body)
		if r.code != 400 {
			t.Errorf("%+v: %d %s", c.body, r.code, r.body)
			continue
		}
		if e := r.errorBody(t); e.Field != c.field || !strings.Contains(e.Message, c.msg) {
			t.Errorf("%+v: field %q message %q; want field %q and %q", c.body, e.Field, e.Message, c.field, c.msg)
		}
	}
	if r := h.do("POST", "/v1/devices", h.key(auth.RoleOperator, "op-wadi", nil), DeviceRequest{Kind: "gate", Target: "visitor-centre"}); r.code != 403 {
		t.Errorf("an operator's key registered a device: %d %s", r.code, r.body)
	}

	var list DeviceList
	r = h.do("GET", "/v1/devices", h.opsKey, nil)
	r.decode(t, &list)
	if r.code != 200 || len(list.Devices) != 2 {
		t.Fatalf("GET /v1/devices: %d %s", r.code, r.body)
	}
	if strings.Contains(string(r.body), `"seed"`) {
		t.Errorf("the list shows a seed: %s", r.body)
	}
	if r := h.do("DELETE", "/v1/devices/"+d.ID, h.opsKey, nil); r.code != 204 {
		t.Errorf("DELETE: %d %s", r.code, r.body)
	}
	if r := h.do("DELETE", "/v1/devices/"+d.ID, h.opsKey, nil); r.code != 404 {
		t.Errorf("DELETE again: %d %s", r.code, r.body)
	}
	r = h.do("GET", "/v1/devices", h.opsKey, nil)
	r.decode(t, &list)
	if len(list.Devices) != 1 || list.Devices[0].ID != s.ID {
		t.Errorf("after revoking %s: %s", d.ID, r.body)
	}
}
