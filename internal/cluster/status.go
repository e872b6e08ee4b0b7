package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/internal/subjects"
)

// Status is the answer of GET /v1/cluster and `tafweej cluster`.
type Status struct {
	Site      string     `json:"site"`
	Owner     *Owner     `json:"owner"` // null while no instance owns the site
	Instances []Instance `json:"instances"`
}

// Instance is one instance as it last said (every second).
type Instance struct {
	ID      string `json:"id"`
	Role    string `json:"role"` // owner or standby
	HTTP    string `json:"http"`
	Applied uint64 `json:"applied"` // the last log sequence it applied
}

// ensureInstancesBucket creates the bucket where instances say what they
// are; an entry not renewed for 5 lease TTLs (at least 10 s) disappears.
func ensureInstancesBucket(ctx context.Context, js jetstream.JetStream, site string, replicas int, ttl time.Duration) (jetstream.KeyValue, error) {
	return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      subjects.For(site).InstancesBucket(),
		Description: "tafweej: the instances of site " + site,
		History:     1,
		TTL:         max(5*ttl, 10*time.Second),
		Storage:     jetstream.MemoryStorage,
		Replicas:    replicas,
	})
}

// present says every second what this instance is.
func (n *Node) present(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		val, _ := json.Marshal(Instance{ID: n.id, Role: n.Role(), HTTP: n.o.AdvertiseHTTP, Applied: n.Applied()})
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		n.members.Put(pctx, n.id, val)
		cancel()
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), time.Second)
			n.members.Delete(dctx, n.id)
			cancel()
			return
		case <-tick.C:
		}
	}
}

// Status reads the lease and the instances from the cluster.
func (n *Node) Status(ctx context.Context) (Status, error) {
	st := Status{Site: n.o.Site, Instances: []Instance{}}
	e, err := n.lease.kv.Get(ctx, leaseKey)
	switch {
	case err == nil:
		var o Owner
		if json.Unmarshal(e.Value(), &o) == nil && o.ID != "" {
			st.Owner = &o
		}
	case !errors.Is(err, jetstream.ErrKeyNotFound):
		return st, fmt.Errorf("cluster: read the lease: %w", err)
	}
	lister, err := n.members.ListKeys(ctx)
	if err != nil {
		return st, fmt.Errorf("cluster: list instances: %w", err)
	}
	for k := range lister.Keys() {
		e, err := n.members.Get(ctx, k)
		if err != nil {
			continue
		}
		var in Instance
		if json.Unmarshal(e.Value(), &in) == nil {
			st.Instances = append(st.Instances, in)
		}
	}
	slices.SortFunc(st.Instances, func(a, b Instance) int { return strings.Compare(a.ID, b.ID) })
	return st, nil
}

// hdrForwarded marks a request forwarded by a standby: it is never
// forwarded twice.
const hdrForwarded = "X-Tafweej-Forwarded-By"

// Handler answers GET /v1/cluster itself (once WaitReady returned); every other request goes to the
// owner's API when this instance owns the site (and its lease is valid),
// else to the owner's advertised HTTP address, else 503 with Retry-After.
// /metrics, /healthz and /readyz are this instance's own.
func (n *Node) Handler(local http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/cluster":
			n.serveStatus(w, r)
			return
		case "/metrics":
			local.ServeHTTP(w, r)
			return
		}
		if h := n.inner.Load(); h != nil && n.Role() == "owner" {
			(*h).ServeHTTP(w, r)
			return
		}
		switch r.URL.Path {
		case "/healthz", "/readyz":
			if r.URL.Path == "/healthz" {
				writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "role": n.Role()})
				return
			}
		}
		if n.toOwner(w, r) {
			return
		}
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]string{
			"code": "unavailable", "message": "no instance owns the site at the moment (a standby is taking over); retry in a second"}})
	})
}

// toOwner forwards r to the owner's advertised address when another
// instance owns the site and r was not forwarded already; it reports
// whether it did.
func (n *Node) toOwner(w http.ResponseWriter, r *http.Request) bool {
	if n.lease == nil {
		return false
	}
	o, _, ok := n.lease.Seen()
	if !ok || o.ID == n.id || o.HTTP == "" || r.Header.Get(hdrForwarded) != "" {
		return false
	}
	p := n.proxy(o.HTTP)
	if p == nil {
		return false
	}
	r.Header.Set(hdrForwarded, n.id)
	p.ServeHTTP(w, r)
	return true
}

func (n *Node) proxy(target string) http.Handler {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p, ok := n.proxies[target]; ok {
		return p
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		n.log.Warn("owner's --advertise-http is not a URL", "value", target)
		return nil
	}
	p := httputil.NewSingleHostReverseProxy(u)
	p.FlushInterval = -1 // event streams
	p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]string{
			"code": "unavailable", "message": "the owner did not answer; retry in a second"}})
	}
	n.proxies[target] = p
	return p
}

func (n *Node) serveStatus(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": map[string]string{"code": "method_not_allowed", "message": "use GET"}})
		return
	}
	secret, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	isOps := bearer && n.o.IsOps != nil && n.o.IsOps(strings.TrimSpace(secret))
	if bearer && !isOps && n.toOwner(w, r) {
		// A key this instance does not know may be one its store has not
		// applied yet (created on the owner a moment ago): the owner,
		// which knows every key, answers it with the same view.
		return
	}
	if !isOps {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tafweej"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]string{"code": "unauthorized", "message": "GET /v1/cluster needs an ops key (Authorization: Bearer <key>)"}})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	st, err := n.Status(ctx)
	if err != nil {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]string{"code": "unavailable", "message": err.Error()}})
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
