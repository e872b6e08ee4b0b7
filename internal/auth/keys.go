package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/tafweej/tafweej/store"
)

// keyCacheTTL is how long a looked-up API key is trusted without asking the
// store again. A revocation through Keys takes effect at once; the short
// TTL bounds the staleness of any other cache of the same store.
const keyCacheTTL = time.Second

// maxKeyCache bounds the key cache; when full it is emptied.
const maxKeyCache = 10_000

// Keys is the one home of API key authentication: the API and the web
// console look keys up through the same Keys, so that revoking a key
// (Revoke, RotateOps) refuses it everywhere at once, event streams
// included (they watch Revoked).
type Keys struct {
	st KeyStore

	mu      sync.Mutex // guards cache and revoked
	cache   map[string]cachedKey
	revoked chan struct{} // closed, and replaced, at each revocation
}

type cachedKey struct {
	key     store.APIKey
	expires time.Time
}

// NewKeys returns the authentication of the keys in st.
func NewKeys(st KeyStore) *Keys {
	return &Keys{st: st, cache: map[string]cachedKey{}, revoked: make(chan struct{})}
}

// Lookup finds the key of a secret: store.ErrNotFound if it is unknown or
// revoked, another error if the store could not be read.
func (k *Keys) Lookup(secret string) (store.APIKey, error) {
	hash := HashSecret(secret)
	now := time.Now()
	k.mu.Lock()
	c, ok := k.cache[hash]
	k.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.key, nil
	}
	key, err := k.st.LookupKey(hash)
	if err != nil {
		return store.APIKey{}, err
	}
	k.mu.Lock()
	if len(k.cache) >= maxKeyCache {
		clear(k.cache)
	}
	k.cache[hash] = cachedKey{key: key, expires: now.Add(keyCacheTTL)}
	k.mu.Unlock()
	return key, nil
}

// Revoked returns a channel closed at the next revocation: a long-lived
// request (an event stream) then looks its key up again.
func (k *Keys) Revoked() <-chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.revoked
}

// forget drops revoked keys from the cache and wakes the watchers.
func (k *Keys) forget(hashes ...string) {
	k.mu.Lock()
	for _, h := range hashes {
		delete(k.cache, h)
	}
	close(k.revoked)
	k.revoked = make(chan struct{})
	k.mu.Unlock()
}

// List returns every key, oldest first.
func (k *Keys) List() ([]store.APIKey, error) {
	keys, err := k.st.ListKeys()
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(keys, func(a, b store.APIKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return keys, nil
}

// Find returns the key with public id id (store.APIKey.ID).
func (k *Keys) Find(id string) (store.APIKey, error) {
	keys, err := k.st.ListKeys()
	if err != nil {
		return store.APIKey{}, err
	}
	for _, key := range keys {
		if key.ID() == id {
			return key, nil
		}
	}
	return store.APIKey{}, store.ErrNotFound
}

// ErrLastOpsKey refuses to revoke the only ops key: nobody could make keys
// any more.
var ErrLastOpsKey = errors.New("api: the last ops key cannot be revoked")

// Revoke deletes the key with public id id: it is refused from now on, by
// every holder of this Keys. It returns the key revoked; store.ErrNotFound
// if there is none; ErrLastOpsKey for the only ops key.
func (k *Keys) Revoke(id string) (store.APIKey, error) {
	key, err := k.Find(id)
	if err != nil {
		return store.APIKey{}, err
	}
	if key.Role == RoleOps {
		keys, err := k.st.ListKeys()
		if err != nil {
			return store.APIKey{}, err
		}
		ops := 0
		for _, o := range keys {
			if o.Role == RoleOps {
				ops++
			}
		}
		if ops <= 1 {
			return store.APIKey{}, ErrLastOpsKey
		}
	}
	if err := k.st.DeleteKey(key.Hash); err != nil {
		return store.APIKey{}, err
	}
	k.forget(key.Hash)
	return key, nil
}

// isOpsFileKey reports whether key is the one whose secret is in the ops
// key file at path: marked so, or stored before the mark by EnsureOpsKey
// under its old name.
func isOpsFileKey(key store.APIKey, path string) bool {
	return key.Role == RoleOps && (key.OpsFile || key.Name == "first ops key ("+filepath.Base(path)+")")
}

// RotateOps replaces the ops key of the file at path: a new ops key is
// stored, its secret written to path (mode 0600, replacing the file
// atomically), and the key the file held before is revoked. It returns the
// new secret and key and the keys revoked.
func (k *Keys) RotateOps(path string, now time.Time) (string, store.APIKey, []store.APIKey, error) {
	secret, key, revoked, err := rotateOps(k.st, path, now)
	if err != nil {
		return "", store.APIKey{}, nil, err
	}
	var hashes []string
	for _, r := range revoked {
		hashes = append(hashes, r.Hash)
	}
	k.forget(hashes...)
	return secret, key, revoked, nil
}

// rotateOps stores a new ops file key, writes it to path and then deletes
// the old ones. Should writing the file fail, the new key is deleted and
// the old ones stay.
func rotateOps(st KeyStore, path string, now time.Time) (string, store.APIKey, []store.APIKey, error) {
	old, err := st.ListKeys()
	if err != nil {
		return "", store.APIKey{}, nil, err
	}
	secret, err := newSecret()
	if err != nil {
		return "", store.APIKey{}, nil, err
	}
	key := newAPIKey(secret, RoleOps, "", nil, "ops key ("+filepath.Base(path)+")", now)
	key.OpsFile = true
	if err := st.PutKey(key); err != nil {
		return "", store.APIKey{}, nil, fmt.Errorf("api: store ops key: %w", err)
	}
	if err := writeSecretFile(path, secret); err != nil {
		st.DeleteKey(key.Hash)
		return "", store.APIKey{}, nil, err
	}
	var revoked []store.APIKey
	for _, o := range old {
		if isOpsFileKey(o, path) && o.Hash != key.Hash {
			if err := st.DeleteKey(o.Hash); err != nil && !errors.Is(err, store.ErrNotFound) {
				return secret, key, revoked, fmt.Errorf("api: revoke old ops key %s: %w", o.ID(), err)
			}
			revoked = append(revoked, o)
		}
	}
	return secret, key, revoked, nil
}

// writeSecretFile replaces path with secret and a newline, mode 0600,
// synced, through a temporary file renamed over it.
func writeSecretFile(path, secret string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("api: ops key file: %w", err)
	}
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("api: ops key file: %w", err)
	}
	_, werr := f.WriteString(secret + "\n")
	if serr := f.Sync(); werr == nil {
		werr = serr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("api: write ops key file %s: %w", path, werr)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
