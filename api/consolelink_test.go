package api

import (
	"github.com/tafweej/tafweej/internal/auth"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConsoleLinkSignsOneDeviceInOnce: an ops key makes a link; the link's
// token is no API key; claimed, it becomes a gate key for that gate only
// (or an ops key); a second claim, a forged, altered or expired token are
// refused; only ops make links.
func TestConsoleLinkSignsOneDeviceInOnce(t *testing.T) {
	h := newHarness(t, nil)
	var l ConsoleLink
	r := h.do("POST", "/v1/console-links", h.opsKey, map[string]any{"console": "gate", "gate": "visitor-centre"})
	if r.code != http.StatusCreated {
		t.Fatalf("create link: %d %s", r.code, r.body)
	}
	r.decode(t, &l)
	if !strings.HasPrefix(l.Path, "/gate#link=tfl1.") || !strings.HasSuffix(l.Path, l.Token) || l.Gate != "visitor-centre" {
		t.Fatalf("link %+v", l)
	}
	if ttl := time.Until(l.ExpiresAt); ttl <= 9*time.Minute || ttl > LinkTTL {
		t.Errorf("link expires in %s, want about %s", ttl, LinkTTL)
	}
	// The token is not an API key.
	if r := h.do("GET", "/v1/status", l.Token, nil); r.code != http.StatusUnauthorized {
		t.Fatalf("the link token opened /v1/status: %d", r.code)
	}
	// Two devices claim the same link at once: one key.
	var wg sync.WaitGroup
	codes := make([]int, 4)
	answers := make([]ClaimAnswer, 4)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := h.do("POST", "/v1/console-links/claim", "", map[string]any{"token": l.Token})
			codes[i] = r.code
			if r.code == http.StatusCreated {
				r.decode(t, &answers[i])
			}
		}()
	}
	wg.Wait()
	var key ClaimAnswer
	for i, c := range codes {
		switch c {
		case http.StatusCreated:
			if key.Key != "" {
				t.Fatalf("the link was claimed twice: %v", codes)
			}
			key = answers[i]
		case http.StatusUnauthorized:
		default:
			t.Fatalf("claim answered %d", c)
		}
	}
	if key.Key == "" || key.Role != auth.RoleGate || len(key.Gates) != 1 || key.Gates[0] != "visitor-centre" || key.Gate != "visitor-centre" {
		t.Fatalf("claimed %+v, want a gate key for visitor-centre", key)
	}
	if r := h.do("GET", "/v1/status", key.Key, nil); r.code != http.StatusOK {
		t.Fatalf("the claimed key: /v1/status %d", r.code)
	}
	r = h.do("POST", "/v1/console-links/claim", "", map[string]any{"token": l.Token})
	if r.code != http.StatusUnauthorized || !strings.Contains(string(r.body), "already used") {
		t.Fatalf("second claim: %d %s", r.code, r.body)
	}

	// Forged, altered and expired tokens.
	expired, err := h.api.signLink(linkClaims{Console: ConsoleOps, Nonce: "n-expired", Expires: time.Now().Add(-time.Second).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	altered := strings.Replace(l.Token, "tfl1.e", "tfl1.f", 1)
	if altered == l.Token {
		altered = l.Token[:len(l.Token)-2] + "AA"
	}
	for name, c := range map[string]struct{ token, says string }{
		"expired": {expired, "expired"},
		"altered": {altered, "not valid"},
		"api key": {h.opsKey, "not valid"},
		"empty":   {"", "not valid"},
	} {
		r := h.do("POST", "/v1/console-links/claim", "", map[string]any{"token": c.token})
		if r.code != http.StatusUnauthorized || !strings.Contains(string(r.body), c.says) {
			t.Errorf("%s token: %d %s", name, r.code, r.body)
		}
	}

	// The control room's link gives an ops key.
	r = h.do("POST", "/v1/console-links", h.opsKey, map[string]any{"console": "ops"})
	r.decode(t, &l)
	if r := h.do("POST", "/v1/console-links/claim", "", map[string]any{"token": l.Token}); r.code != http.StatusCreated {
		t.Fatalf("claim ops link: %d %s", r.code, r.body)
	} else if r.decode(t, &key); key.Role != auth.RoleOps || l.Path != "/ops#link="+l.Token {
		t.Fatalf("ops link %+v gave %+v", l, key)
	}

	// Refusals.
	op := h.key(auth.RoleOperator, "jett-tours", nil)
	for _, c := range []struct {
		key  string
		body map[string]any
		code int
	}{
		{op, map[string]any{"console": "ops"}, http.StatusForbidden},
		{h.opsKey, map[string]any{"console": "gate"}, http.StatusBadRequest},
		{h.opsKey, map[string]any{"console": "gate", "gate": "back-door"}, http.StatusBadRequest},
		{h.opsKey, map[string]any{"console": "ops", "gate": "visitor-centre"}, http.StatusBadRequest},
		{h.opsKey, map[string]any{"console": "kiosk"}, http.StatusBadRequest},
	} {
		if r := h.do("POST", "/v1/console-links", c.key, c.body); r.code != c.code {
			t.Errorf("%v: %d %s, want %d", c.body, r.code, r.body, c.code)
		}
	}
}
