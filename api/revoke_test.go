package api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/store"
)

// TestKeysListedAndRevoked: GET /v1/keys lists every key with its id,
// role, operator, name, prefix and creation time and never its secret or
// hash; DELETE /v1/keys/{id} refuses the key from the next request on, even
// right after it was used (and so cached); the last ops key stays.
func TestKeysListedAndRevoked(t *testing.T) {
	h := newHarness(t, nil)
	op := h.key(auth.RoleOperator, "desert-tours", nil)
	if r := h.do("GET", "/v1/bookings", op, nil); r.code != 200 { // cached now
		t.Fatalf("operator key: %d %s", r.code, r.body)
	}
	r := h.do("GET", "/v1/keys", h.opsKey, nil)
	var list KeyList
	r.decode(t, &list)
	if r.code != 200 || len(list.Keys) != 2 {
		t.Fatalf("GET /v1/keys: %d %s", r.code, r.body)
	}
	for _, secret := range []string{op, h.opsKey} {
		for _, leak := range []string{secret, auth.HashSecret(secret), auth.HashSecret(secret)[12:]} {
			if strings.Contains(string(r.body), leak) {
				t.Errorf("GET /v1/keys shows a secret or its hash: %s", r.body)
			}
		}
	}
	var opID string
	for _, k := range list.Keys {
		if !strings.HasPrefix(k.ID, "key_") || k.Prefix == "" || k.CreatedAt.IsZero() || k.Role == "" {
			t.Errorf("key listed as %+v", k)
		}
		if k.Operator == "desert-tours" {
			opID = k.ID
			if !strings.HasPrefix(op, k.Prefix) || k.Name != "test" {
				t.Errorf("operator key listed as %+v", k)
			}
		}
	}
	r = h.do("DELETE", "/v1/keys/"+opID, h.opsKey, nil)
	var gone KeyInfo
	r.decode(t, &gone)
	if r.code != 200 || gone.ID != opID {
		t.Fatalf("DELETE /v1/keys/%s: %d %s", opID, r.code, r.body)
	}
	if r := h.do("GET", "/v1/bookings", op, nil); r.code != 401 {
		t.Errorf("a revoked key answered %d %s, want 401", r.code, r.body)
	}
	if r := h.do("DELETE", "/v1/keys/"+opID, h.opsKey, nil); r.code != 404 {
		t.Errorf("revoking twice: %d", r.code)
	}
	// The only ops key stays: nobody could make keys any more.
	opsID := (store.APIKey{Hash: auth.HashSecret(h.opsKey)}).ID()
	if r := h.do("DELETE", "/v1/keys/"+opsID, h.opsKey, nil); r.code != 409 {
		t.Errorf("revoking the last ops key: %d %s, want 409", r.code, r.body)
	}
}

// TestOpsKeyRotationRevokesTheOldKey: POST /v1/keys/rotate-ops writes a new
// ops key to the ops key file and the old one is refused at once; other ops
// keys are kept.
func TestOpsKeyRotationRevokesTheOldKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ops.key")
	h := newHarness(t, func(o *Options) { o.OpsKeyFile = path })
	if made, _, err := auth.EnsureOpsKey(h.st, path, h.clock.Now()); err != nil || !made {
		t.Fatalf("auth.EnsureOpsKey: %v %v", made, err)
	}
	old := readKeyFile(t, path)
	if r := h.do("GET", "/v1/keys", old, nil); r.code != 200 { // cached now
		t.Fatalf("file ops key: %d", r.code)
	}
	r := h.do("POST", "/v1/keys/rotate-ops", old, nil)
	var out KeyRotated
	r.decode(t, &out)
	if r.code != 201 || out.File != path || len(out.Revoked) != 1 {
		t.Fatalf("rotate-ops: %d %s", r.code, r.body)
	}
	fresh := readKeyFile(t, path)
	if fresh == old || fresh != out.Key {
		t.Fatalf("ops.key not replaced by the new key")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("ops.key mode %v", fi.Mode().Perm())
	}
	if r := h.do("GET", "/v1/keys", old, nil); r.code != 401 {
		t.Errorf("the old ops key answered %d after rotation, want 401", r.code)
	}
	if r := h.do("GET", "/v1/keys", fresh, nil); r.code != 200 {
		t.Errorf("the new ops key answered %d", r.code)
	}
	if r := h.do("GET", "/v1/keys", h.opsKey, nil); r.code != 200 {
		t.Errorf("another ops key answered %d after rotation; only the file's key is replaced", r.code)
	}
}

// TestLostOpsKeyFileNeverLeavesTheOldKeyWorking: deleting ops.key and
// restarting (auth.EnsureOpsKey) makes a new key and revokes the old one, also
// for a key stored before keys were marked as the file's (store schema
// compatibility: such a record still loads, with a derived id).
func TestLostOpsKeyFileNeverLeavesTheOldKeyWorking(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, testenv.Amman)
	path := filepath.Join(t.TempDir(), "ops.key")
	// A key as an older build stored it: no ops_file mark.
	legacy := "tfw_legacy-ops-key-secret-0000000000000000000"
	if err := st.PutKey(store.APIKey{Hash: auth.HashSecret(legacy), Prefix: legacy[:10], Role: auth.RoleOps,
		Name: "first ops key (ops.key)", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	other, _, err := auth.CreateKey(st, auth.RoleOps, "", nil, "night shift", now)
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		made, revoked, err := auth.EnsureOpsKey(st, path, now)
		if err != nil || !made || len(revoked) != 1 {
			t.Fatalf("round %d: auth.EnsureOpsKey with no file: made %v, revoked %d, %v", round, made, len(revoked), err)
		}
		if _, err := st.LookupKey(auth.HashSecret(legacy)); err == nil {
			t.Fatalf("round %d: the old ops key still works after ops.key was deleted", round)
		}
		legacy = readKeyFile(t, path)
		if _, err := st.LookupKey(auth.HashSecret(legacy)); err != nil {
			t.Fatalf("the new ops key is not stored: %v", err)
		}
		os.Remove(path)
	}
	if _, err := st.LookupKey(auth.HashSecret(other)); err != nil {
		t.Errorf("another ops key was revoked: %v", err)
	}
}

func readKeyFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
