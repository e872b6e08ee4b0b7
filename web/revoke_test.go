package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/store"
)

// TestRevokedKeyRefusedEverywhere: a key revoked with DELETE /v1/keys/{id}
// is refused within 1 s by the API, by the console's /web/events (which
// looks keys up through the API's Keys), and the event stream open with it
// ends — even though each had just accepted the key.
func TestRevokedKeyRefusedEverywhere(t *testing.T) {
	s := newStack(t)
	gate := s.key(auth.RoleGate, "")
	stream := openStream(t, s.srv.URL+"/web/events?key="+gate)
	check := func() int {
		resp, _ := get(t, s.srv.URL+"/web/events?check=1&key="+gate)
		return resp.StatusCode
	}
	if code := s.do("GET", "/v1/status", gate, nil, nil); code != http.StatusOK {
		t.Fatalf("gate key on /v1/status: %d", code)
	}
	if code := check(); code != http.StatusNoContent {
		t.Fatalf("gate key on /web/events: %d", code)
	}

	id := store.APIKey{Hash: auth.HashSecret(gate)}.ID()
	start := time.Now()
	if code := s.do("DELETE", "/v1/keys/"+id, s.opsKey, nil, nil); code != http.StatusOK {
		t.Fatalf("DELETE /v1/keys/%s: %d", id, code)
	}
	waitFor(t, time.Second, func() error {
		if code := s.do("GET", "/v1/status", gate, nil, nil); code != http.StatusUnauthorized {
			return errNotYet
		}
		if check() != http.StatusUnauthorized {
			return errNotYet
		}
		return nil
	})
	ended := time.After(time.Second)
	for open := true; open; {
		select {
		case _, open = <-stream.lines:
		case <-ended:
			t.Fatal("the event stream of a revoked key is still open 1 s later")
		}
	}
	t.Logf("revoked key refused by the API and the console, and its stream ended, %v after DELETE", time.Since(start))
}
