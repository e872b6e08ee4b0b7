// Package auth is the one home of API key authentication: the HTTP API
// (api/) and the web console (web/) both parse the bearer token, look keys
// up, cache them and learn of revocations here, so that a key revoked
// through one is refused by the other at once.
//
// A key's secret is shown to its owner once; the store keeps its SHA-256
// (HashSecret) in a store.APIKey record, which is the store's data type:
// this package reaches the records through KeyStore, the four methods of
// store.Store it uses. A key has one role (RoleOperator, RoleGate,
// RoleOps); what each role may do is the adapters' business.
package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/tafweej/tafweej/store"
)

// KeyStore is where the keys are kept: the key methods of store.Store,
// with their contracts (LookupKey and DeleteKey answer store.ErrNotFound
// for an unknown hash).
type KeyStore interface {
	PutKey(k store.APIKey) error
	LookupKey(hash string) (store.APIKey, error)
	ListKeys() ([]store.APIKey, error)
	DeleteKey(hash string) error
}

var _ KeyStore = store.Store(nil)

// Key roles.
const (
	RoleOperator = "operator" // a tour operator: its own bookings
	RoleGate     = "gate"     // gate staff: scans, at its gates
	RoleOps      = "ops"      // operations: everything
)

// SecretPrefix starts every API key's secret.
const SecretPrefix = "tfw_"

// HashSecret is the stored form of a key's secret: its hex SHA-256.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Bearer extracts the secret of an "Authorization: Bearer <key>" header.
func Bearer(h string) (string, bool) {
	scheme, secret, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	secret = strings.TrimSpace(secret)
	return secret, secret != ""
}
