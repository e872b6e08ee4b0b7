package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// PutKey stores an API key, synced. A key with the same hash is replaced.
func (s *Badger) PutKey(k APIKey) error {
	if k.Hash == "" {
		return errors.New("store: put key: hash is empty")
	}
	val, err := encode(&k)
	if err != nil {
		return fmt.Errorf("store: put key: %w", err)
	}
	// Through writeOps: replicated with the state (replica.go).
	if err := s.writeOps([]op{{key: apiKeyKey(k.Hash), val: val}}); err != nil {
		return fmt.Errorf("store: put key: %w", err)
	}
	return nil
}

// LookupKey returns the key with that hash, or ErrNotFound.
func (s *Badger) LookupKey(hash string) (APIKey, error) {
	if hash == "" {
		return APIKey{}, ErrNotFound
	}
	return readOne[APIKey](s, apiKeyKey(hash))
}

// DeleteKey removes an API key, synced; ErrNotFound if there is none.
func (s *Badger) DeleteKey(hash string) error {
	if hash == "" {
		return ErrNotFound
	}
	if _, err := s.LookupKey(hash); err != nil {
		return err
	}
	// Through writeOps: replicated with the state (replica.go).
	if err := s.writeOps([]op{{key: apiKeyKey(hash)}}); err != nil {
		return fmt.Errorf("store: delete key: %w", err)
	}
	return nil
}

// ListKeys returns every API key, sorted by hash.
func (s *Badger) ListKeys() ([]APIKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	var keys []APIKey
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		keys, err = loadPrefix[APIKey](txn, prefixKey, 1)
		return err
	})
	return keys, err
}
