package auth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/internal/testenv/stack"
)

func TestCreateKey(t *testing.T) {
	st := stack.Badger(t)
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, testenv.Amman)
	secret, k, err := auth.CreateKey(st, auth.RoleOperator, "desert-tours", nil, "Desert Tours", now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "tfw_") || len(secret) != 4+43 || !strings.HasPrefix(secret, k.Prefix) {
		t.Errorf("secret %q, prefix %q", secret, k.Prefix)
	}
	if k.Hash != auth.HashSecret(secret) || len(k.Hash) != 64 || strings.Contains(k.Hash, secret) {
		t.Errorf("hash %q", k.Hash)
	}
	got, err := st.LookupKey(auth.HashSecret(secret))
	if err != nil || got.Role != auth.RoleOperator || got.Operator != "desert-tours" || got.Name != "Desert Tours" {
		t.Errorf("stored %+v %v", got, err)
	}
	keys, _ := st.ListKeys()
	for _, sk := range keys {
		if strings.Contains(sk.Hash+sk.Prefix+sk.Name, secret) {
			t.Error("the secret is stored")
		}
	}
	s2, _, err := auth.CreateKey(st, auth.RoleOperator, "desert-tours", nil, "", now)
	if err != nil || s2 == secret {
		t.Errorf("second key %q %v", s2, err)
	}

	for _, c := range []struct {
		role, operator string
		gates          []string
		name           string
		field, msg     string
	}{
		{"admin", "", nil, "", "role", `role "admin" is not a key role`},
		{"", "", nil, "", "role", "accepted: operator, gate, ops"},
		{auth.RoleOperator, "", nil, "", "operator", `operator "" is not an operator id`},
		{auth.RoleOperator, "has space", nil, "", "operator", "letters, digits"},
		{auth.RoleOperator, strings.Repeat("a", 65), nil, "", "operator", ""},
		{auth.RoleOperator, "x", []string{"visitor-centre"}, "", "gates", "only for a key of role \"gate\""},
		{auth.RoleGate, "x", nil, "", "operator", "only for a key of role \"operator\""},
		{auth.RoleOps, "", []string{"visitor-centre"}, "", "gates", ""},
		{auth.RoleGate, "", []string{""}, "", "gates", "not a gate id"},
		{auth.RoleOps, "", nil, strings.Repeat("n", 101), "name", "at most 100"},
	} {
		_, _, err := auth.CreateKey(st, c.role, c.operator, c.gates, c.name, now)
		ke, ok := err.(*auth.KeyError)
		if !ok || ke.Field != c.field || !strings.Contains(err.Error(), c.msg) || !strings.HasPrefix(err.Error(), "api: ") {
			t.Errorf("auth.CreateKey(%q, %q, %v): %v, want field %s with %q", c.role, c.operator, c.gates, err, c.field, c.msg)
		}
	}
	if after, _ := st.ListKeys(); len(after) != 2 {
		t.Errorf("refused keys were stored: %d keys", len(after))
	}
}

func TestEnsureOpsKey(t *testing.T) {
	st := stack.Badger(t)
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, testenv.Amman)
	path := filepath.Join(t.TempDir(), "data", "ops.key")
	created, _, err := auth.EnsureOpsKey(st, path, now)
	if err != nil || !created {
		t.Fatalf("first start: %v %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("ops.key: %v %v", fi.Mode(), err)
	}
	data, _ := os.ReadFile(path)
	secret := strings.TrimSpace(string(data))
	k, err := st.LookupKey(auth.HashSecret(secret))
	if err != nil || k.Role != auth.RoleOps {
		t.Fatalf("the key in ops.key: %+v %v", k, err)
	}
	created, _, err = auth.EnsureOpsKey(st, path, now)
	if err != nil || created {
		t.Errorf("second start: %v %v", created, err)
	}
	again, _ := os.ReadFile(path)
	if string(again) != string(data) {
		t.Error("ops.key was rewritten")
	}
	if keys, _ := st.ListKeys(); len(keys) != 1 {
		t.Errorf("%d keys after two starts", len(keys))
	}
	// A store that cannot take the key leaves no file behind.
	st.Close()
	other := filepath.Join(t.TempDir(), "ops.key")
	if _, _, err := auth.EnsureOpsKey(st, other, now); err == nil {
		t.Error("auth.EnsureOpsKey on a closed store succeeded")
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Errorf("ops.key left behind: %v", err)
	}
}
