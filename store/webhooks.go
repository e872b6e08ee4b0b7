package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/tafweej/tafweej/scheduler"
)

// Webhook endpoints and their outbox of deliveries.
//
// Key layout (beside the records of doc.go):
//
//	w/<endpoint id>                   WebhookEndpoint
//	o/<endpoint id>/<delivery id>     WebhookDelivery (the outbox); a
//	                                  delivery that reached its end
//	                                  (delivered, failed) gets a TTL
//
// Delivery ids are ordered by creation time, so an endpoint's deliveries
// are listed oldest first by one prefix scan.

const (
	prefixWebhook  = "w/"
	prefixDelivery = "o/"
)

// DeliveryRetention is how long a delivery that reached its end is kept
// (for GET /v1/webhooks/{id}/deliveries and replays) before Badger drops it.
const DeliveryRetention = 7 * 24 * time.Hour

// Delivery statuses.
const (
	DeliveryPending   = "pending"   // waiting for its (next) attempt
	DeliveryDelivered = "delivered" // answered 2xx
	DeliveryFailed    = "failed"    // given up after the retry period; can be replayed
)

// WebhookEndpoint is an operator's webhook endpoint. Secret is the signing
// secret as Standard Webhooks writes it ("whsec_" and base64); it is kept
// because signing needs it, and is never logged.
type WebhookEndpoint struct {
	ID       string `json:"id"`
	Operator string `json:"operator"`
	URL      string `json:"url"`
	Secret   string `json:"secret"`
	// PreviousSecret still signs (beside Secret) until PreviousUntil, so
	// that a receiver can switch to a rotated secret without losing events.
	PreviousSecret string    `json:"previous_secret,omitempty"`
	PreviousUntil  time.Time `json:"previous_until,omitzero"`
	CreatedAt      time.Time `json:"created_at"`
	RotatedAt      time.Time `json:"rotated_at,omitzero"`
}

// WebhookDelivery is one event to deliver to one endpoint: an outbox
// record. ID is the Standard Webhooks message id (header webhook-id), the
// same on every attempt.
type WebhookDelivery struct {
	ID       string          `json:"id"`
	Endpoint string          `json:"endpoint"`
	Operator string          `json:"operator"`
	Type     string          `json:"type"`
	Payload  json.RawMessage `json:"payload"` // the exact body sent
	Status   string          `json:"status"`
	Attempts int             `json:"attempts"`
	// NextAttempt is when a pending delivery is tried next.
	NextAttempt  time.Time `json:"next_attempt_at,omitzero"`
	LastAttempt  time.Time `json:"last_attempt_at,omitzero"`
	ResponseCode int       `json:"response_status,omitempty"`
	// Response is the start of the last answer's body.
	Response  string    `json:"response,omitempty"`
	Error     string    `json:"error,omitempty"` // why the last attempt failed
	Delivered time.Time `json:"delivered_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	// Replayed is when the delivery was last replayed: its retry period
	// starts again then.
	Replayed time.Time `json:"replayed_at,omitzero"`
}

func webhookKey(id string) []byte { return []byte(prefixWebhook + id) }
func deliveryKey(endpoint, id string) []byte {
	return []byte(prefixDelivery + endpoint + "/" + id)
}

func checkDelivery(d WebhookDelivery) error {
	switch {
	case d.ID == "" || strings.ContainsRune(d.ID, '/'):
		return fmt.Errorf("store: webhook delivery id %q is empty or holds '/'", d.ID)
	case d.Endpoint == "" || strings.ContainsRune(d.Endpoint, '/'):
		return fmt.Errorf("store: webhook delivery %q: endpoint %q is empty or holds '/'", d.ID, d.Endpoint)
	}
	return nil
}

// OutboxCommitter is a Store that writes a turn's webhook deliveries in the
// same transaction as its records, so that an acknowledged change never
// loses the deliveries that tell of it. The Badger store is one.
type OutboxCommitter interface {
	// CommitOutbox is Commit with the deliveries written in the same
	// synced transaction; the error contract is Commit's.
	CommitOutbox(effects []scheduler.Effect, out []WebhookDelivery) error
}

var _ OutboxCommitter = (*Badger)(nil)

// CommitOutbox writes the effects' records and the deliveries in one
// transaction, synced before it returns nil. On any error nothing was
// written.
func (s *Badger) CommitOutbox(effects []scheduler.Effect, out []WebhookDelivery) error {
	ops, err := encodeOutbox(effects, out)
	if err != nil {
		return err
	}
	return s.writeOps(ops)
}

// encodeOutbox encodes the effects' records and the deliveries.
func encodeOutbox(effects []scheduler.Effect, out []WebhookDelivery) ([]op, error) {
	ops, err := encodeEffects(effects)
	if err != nil {
		return nil, err
	}
	for _, d := range out {
		if err := checkDelivery(d); err != nil {
			return nil, err
		}
		val, err := encode(&d)
		if err != nil {
			return nil, fmt.Errorf("store: encode webhook delivery %q: %w", d.ID, err)
		}
		ops = append(ops, op{key: deliveryKey(d.Endpoint, d.ID), val: val})
	}
	return ops, nil
}

// update runs fn in a synced write transaction.
func (s *Badger) update(fn func(txn *badger.Txn) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return s.db.Update(fn)
}

// view runs fn in a read transaction.
func (s *Badger) view(fn func(txn *badger.Txn) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return s.db.View(fn)
}

// PutWebhook stores an endpoint (create or replace), synced.
func (s *Badger) PutWebhook(ep WebhookEndpoint) error {
	if ep.ID == "" || strings.ContainsRune(ep.ID, '/') {
		return fmt.Errorf("store: webhook endpoint id %q is empty or holds '/'", ep.ID)
	}
	val, err := encode(&ep)
	if err != nil {
		return err
	}
	// Through writeOps: replicated with the state (replica.go).
	return s.writeOps([]op{{key: webhookKey(ep.ID), val: val}})
}

// DeleteWebhook removes an endpoint and every delivery of it; ErrNotFound
// if there is no such endpoint.
func (s *Badger) DeleteWebhook(id string) error {
	// Badger bounds a transaction; an endpoint's deliveries are deleted in
	// chunks after the endpoint itself (which stops new ones).
	err := s.view(func(txn *badger.Txn) error {
		if _, err := txn.Get(webhookKey(id)); errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Through writeOps: replicated with the state (replica.go); the
	// deliveries below are each instance's own.
	if err := s.writeOps([]op{{key: webhookKey(id)}}); err != nil {
		return err
	}
	prefix := []byte(prefixDelivery + id + "/")
	for {
		var keys [][]byte
		err := s.view(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
			defer it.Close()
			for it.Rewind(); it.Valid() && len(keys) < 1000; it.Next() {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
			return nil
		})
		if err != nil || len(keys) == 0 {
			return err
		}
		if err := s.update(func(txn *badger.Txn) error {
			for _, k := range keys {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
}

// ListWebhooks returns every endpoint, sorted by id.
func (s *Badger) ListWebhooks() ([]WebhookEndpoint, error) {
	return scanPrefix[WebhookEndpoint](s, []byte(prefixWebhook))
}

// PutDelivery stores a delivery's new state, synced. A delivered or failed
// delivery is kept for DeliveryRetention. It fails with ErrNotFound,
// writing nothing, if the delivery's endpoint is gone, so that a delivery
// finishing while its endpoint is removed is not left behind.
func (s *Badger) PutDelivery(d WebhookDelivery) error {
	if err := checkDelivery(d); err != nil {
		return err
	}
	val, err := encode(&d)
	if err != nil {
		return err
	}
	return s.update(func(txn *badger.Txn) error {
		if _, err := txn.Get(webhookKey(d.Endpoint)); errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		e := badger.NewEntry(deliveryKey(d.Endpoint, d.ID), val)
		if d.Status != DeliveryPending {
			e = e.WithTTL(DeliveryRetention)
		}
		return txn.SetEntry(e)
	})
}

// Delivery returns one delivery of an endpoint; ErrNotFound if none.
func (s *Badger) Delivery(endpoint, id string) (WebhookDelivery, error) {
	return readOne[WebhookDelivery](s, deliveryKey(endpoint, id))
}

// Deliveries returns an endpoint's deliveries, oldest first.
func (s *Badger) Deliveries(endpoint string) ([]WebhookDelivery, error) {
	return scanPrefix[WebhookDelivery](s, []byte(prefixDelivery+endpoint+"/"))
}

// PendingDeliveries returns every pending delivery of every endpoint: the
// outbox to deliver after a start.
func (s *Badger) PendingDeliveries() ([]WebhookDelivery, error) {
	all, err := scanPrefix[WebhookDelivery](s, []byte(prefixDelivery))
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(d WebhookDelivery) bool { return d.Status != DeliveryPending }), nil
}

// Booking returns the stored (last durable) version of a booking;
// ErrNotFound if none.
func (s *Badger) Booking(id string) (scheduler.Booking, error) {
	return readOne[scheduler.Booking](s, bookingKey(id))
}

func scanPrefix[T any](s *Badger, prefix []byte) ([]T, error) {
	var out []T
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			var v T
			if err := item.Value(func(val []byte) error { return decode(item.Key(), val, &v) }); err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}
