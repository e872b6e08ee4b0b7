package cluster

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestStandbyAnswersAKeyItHasNotAppliedYetThroughTheOwner: an ops key
// created on the owner a moment ago is not yet in a standby's store; GET
// /v1/cluster on the standby with that key is answered by the owner
// (forwarded once), not refused with 401. A key nobody knows is still
// refused, and a forwarded request is never forwarded again.
func TestStandbyAnswersAKeyItHasNotAppliedYetThroughTheOwner(t *testing.T) {
	_, _, js := clusterConn(t)
	kv := ensureAll(t, js, "status")
	const fresh = "fresh-ops-secret"
	var forwarded atomic.Int32
	owner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(hdrForwarded) != "b" {
			t.Errorf("the owner got %s without the standby's %s header", r.URL.Path, hdrForwarded)
		}
		forwarded.Add(1)
		if r.URL.Path != "/v1/cluster" || r.Header.Get("Authorization") != "Bearer "+fresh {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unknown key"})
			return
		}
		writeJSON(w, http.StatusOK, Status{Site: "status", Owner: &Owner{ID: "a"}})
	}))
	defer owner.Close()
	ttl := time.Second
	a, b := newLease(kv, ttl, "a", owner.URL), newLease(kv, ttl, "b", "http://b.invalid")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Campaign(ctx, nil); err != nil {
		t.Fatal(err)
	}
	go a.Hold(ctx)
	bctx, bcancel := context.WithTimeout(ctx, ttl)
	b.Campaign(bctx, nil) // only to see the owner
	bcancel()
	if o, _, ok := b.Seen(); !ok || o.ID != "a" {
		t.Fatalf("the standby sees owner %+v, want a", o)
	}
	standby := &Node{id: "b", lease: b, proxies: map[string]http.Handler{},
		o: Options{IsOps: func(string) bool { return false }}} // its store has no key yet
	get := func(secret string, hdr ...string) int {
		req := httptest.NewRequest("GET", "/v1/cluster", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		standby.Handler(http.NotFoundHandler()).ServeHTTP(rec, req)
		return rec.Code
	}
	if code := get(fresh); code != http.StatusOK {
		t.Errorf("GET /v1/cluster on the standby with a key only the owner knows: %d, want 200 (from the owner)", code)
	}
	if code := get("nobody-knows-this"); code != http.StatusUnauthorized {
		t.Errorf("GET /v1/cluster with an unknown key: %d, want 401", code)
	}
	before := forwarded.Load()
	if code := get(fresh, hdrForwarded, "x"); code != http.StatusUnauthorized || forwarded.Load() != before {
		t.Errorf("a forwarded request: %d, forwarded again %d time(s); want 401 and no second hop", code, forwarded.Load()-before)
	}
}
