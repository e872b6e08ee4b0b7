package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"time"

	"github.com/tafweej/tafweej/store"
)

// operatorID is what an operator id may look like: it appears in booking
// records, logs and idempotency scopes.
var operatorID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// IsOperatorID reports whether s can be an operator id: 1 to 64 letters,
// digits, '.', '_' or '-', starting with a letter or digit.
func IsOperatorID(s string) bool { return operatorID.MatchString(s) }

// CreateKey makes an API key, stores its hash in st (synced) and returns the
// secret, which is not kept anywhere and must be shown to its owner once.
// Role "operator" needs the operator id; role "gate" may name the gates the
// key may scan at (none: every gate); role "ops" takes neither. Gate ids are
// not checked against a site configuration here: callers that have one
// check them first.
func CreateKey(st KeyStore, role, operator string, gates []string, name string, now time.Time) (secret string, key store.APIKey, err error) {
	if err := checkKey(role, operator, gates, name); err != nil {
		return "", store.APIKey{}, err
	}
	secret, err = newSecret()
	if err != nil {
		return "", store.APIKey{}, err
	}
	key = newAPIKey(secret, role, operator, gates, name, now)
	if err := st.PutKey(key); err != nil {
		return "", store.APIKey{}, fmt.Errorf("api: store key: %w", err)
	}
	return secret, key, nil
}

// KeyError is a key request that CreateKey refuses. Field names the
// offending argument (role, operator, gates, name).
type KeyError struct{ Field, Message string }

func (e *KeyError) Error() string { return "api: " + e.Message }

func keyErr(field, format string, args ...any) *KeyError {
	return &KeyError{Field: field, Message: fmt.Sprintf(format, args...)}
}

func checkKey(role, operator string, gates []string, name string) error {
	switch role {
	case RoleOperator:
		if !operatorID.MatchString(operator) {
			return keyErr("operator", "operator %q is not an operator id: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", operator)
		}
		if len(gates) > 0 {
			return keyErr("gates", "gates are only for a key of role %q", RoleGate)
		}
	case RoleGate, RoleOps:
		if operator != "" {
			return keyErr("operator", "operator %q is only for a key of role %q", operator, RoleOperator)
		}
		if role == RoleOps && len(gates) > 0 {
			return keyErr("gates", "gates are only for a key of role %q", RoleGate)
		}
		for _, g := range gates {
			if g == "" || len(g) > 64 {
				return keyErr("gates", "gate %q is not a gate id", g)
			}
		}
	default:
		return keyErr("role", "role %q is not a key role (accepted: operator, gate, ops)", role)
	}
	if len(name) > 100 {
		return keyErr("name", "name has %d bytes; at most 100 are accepted", len(name))
	}
	return nil
}

func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("api: random key: %w", err)
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func newAPIKey(secret, role, operator string, gates []string, name string, now time.Time) store.APIKey {
	return store.APIKey{
		Hash:      HashSecret(secret),
		Prefix:    secret[:len(SecretPrefix)+6],
		Role:      role,
		Operator:  operator,
		Gates:     slices.Clone(gates),
		Name:      name,
		CreatedAt: now,
	}
}

// EnsureOpsKey makes the ops key of the file at path on start. If the
// file exists it is kept and nothing is done. If it does not, an ops key is
// made, its secret written to path (mode 0600, the directory 0700) and its
// hash stored; and since whoever deleted the file meant to replace the key,
// the ops key the file held before (if the store has one) is revoked, so
// that a lost ops.key never leaves its secret working. revoked lists those
// keys, for the log.
func EnsureOpsKey(st KeyStore, path string, now time.Time) (created bool, revoked []store.APIKey, err error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, nil, fmt.Errorf("api: ops key file: %w", err)
	}
	_, _, revoked, err = rotateOps(st, path, now)
	if err != nil {
		return false, nil, err
	}
	return true, revoked, nil
}
