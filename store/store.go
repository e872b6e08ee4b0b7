package store

import (
	"errors"
	"io"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// Sentinel errors. Every method may also return an I/O error from the
// underlying database; such an error means the operation did not happen.
var (
	// ErrNotFound: no record with that key.
	ErrNotFound = errors.New("store: not found")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrSchema: a record was written by a newer, unknown schema version.
	// The error names the key (see SchemaError).
	ErrSchema = errors.New("store: unknown schema version")
	// ErrTooBig: a Commit is over the size of one transaction and wrote
	// nothing. The caller splits the batch (e.g. one command's effects per
	// Commit) and retries.
	ErrTooBig = errors.New("store: batch too big for one transaction")
)

// SchemaVersion is written into every record.
const SchemaVersion = 1

// APIKey is an API key's stored form: only the SHA-256 of the secret.
type APIKey struct {
	Hash      string    `json:"hash"`   // hex SHA-256 of the secret
	Prefix    string    `json:"prefix"` // first characters of the secret, to recognise it
	Role      string    `json:"role"`   // "operator", "gate", "ops"
	Operator  string    `json:"operator,omitempty"`
	Gates     []string  `json:"gates,omitempty"` // gate role: allowed gates, empty = all
	Name      string    `json:"name,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// OpsFile marks the ops key whose secret is in the data directory's
	// ops.key (keys stored before the field have it false; see
	// auth.EnsureOpsKey in internal/auth).
	OpsFile bool `json:"ops_file,omitempty"`
}

// ID is the key's public id: "key_" and the first 12 hex digits of its
// hash. It is derived, so every stored key has one, and it shows nothing of
// the secret.
func (k APIKey) ID() string {
	if len(k.Hash) < 12 {
		return "key_" + k.Hash
	}
	return "key_" + k.Hash[:12]
}

// Store is the durable state of one site.
type Store interface {
	// Commit writes every Put*/Delete* effect in one transaction, synced to
	// disk before it returns nil. Effects are applied in order: a later
	// effect on the same record wins. Effects that are not records (events)
	// are ignored. On error nothing was written: ErrTooBig for a batch over
	// the transaction limit, ErrClosed, an error naming the effect for an
	// unknown effect type or a record without its id, or an I/O error.
	Commit(effects []scheduler.Effect) error
	// Load returns every stored record of the live state, to rebuild the
	// scheduler at start: archived dates' bookings are left out (see
	// archive.go).
	// Each slice is sorted by the record's key (bookings by id). It fails
	// with an error wrapping ErrSchema, naming the key, if any record has an
	// unknown schema version.
	Load() (scheduler.Snapshot, error)

	// PutKey stores an API key (synced).
	PutKey(k APIKey) error
	// LookupKey finds a key by the hex SHA-256 of its secret; ErrNotFound if
	// there is none.
	LookupKey(hash string) (APIKey, error)
	// ListKeys returns every key, sorted by hash.
	ListKeys() ([]APIKey, error)
	// DeleteKey removes the key with that hash (synced); ErrNotFound if
	// there is none.
	DeleteKey(hash string) error

	// AppendHistory keeps a raw sensor message for the configured history
	// TTL. It is not synced: history is for analysis, not for recovery, and
	// the Badger store writes it in batches about once a second, so the last
	// moments of history may be lost in a crash. An exact redelivery (same
	// sensor, time and bytes) is stored once.
	AppendHistory(sensor string, at time.Time, raw []byte) error

	// Backup writes a consistent full backup to w: every record as of one
	// moment, while writes go on. Restore reads it back.
	Backup(w io.Writer) error

	// Close flushes and closes the database. Every other method returns
	// ErrClosed afterwards; a second Close returns nil.
	Close() error
}
