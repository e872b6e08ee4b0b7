// Package store keeps the durable state of one site in Badger, behind the
// small Store interface: the records the scheduler's effects write, API keys,
// and raw sensor history.
//
// # Driving it
//
// The owner loop is the only writer of records. Each turn it applies the
// pending commands, passes all their effects to one Commit (group commit:
// one fsync answers every caller of the turn), and only then replies and
// publishes events. At start, Load returns a scheduler.Snapshot to rebuild
// the state from.
//
//	s, err := store.Open(filepath.Join(dataDir, "badger"), store.Options{Logger: log})
//	snap, err := s.Load()          // rebuild the scheduler
//	...
//	err = s.Commit(effects)        // each turn, before answering anyone
//
// # Durability
//
// Badger runs with SyncWrites: Commit and PutKey return only after their
// transaction is fsynced (the memtable's write-ahead log, msync'd), so an
// acknowledged record survives kill -9 and power loss (docs/invariants.md, invariant
// 2; crash_test.go kills a writer with SIGKILL). One Commit is one Badger
// transaction: all its records or none. A batch over Badger's transaction
// limit (about 100k records or 9.6 MB with the 64 MiB memtable) fails with
// ErrTooBig and writes nothing; there is no non-atomic fallback. Sensor
// history is the exception: AppendHistory queues messages and a goroutine
// writes them about once a second, so a crash may lose the last second of
// history, never a record.
//
// # Key layout
//
// Keys are a short prefix and the record's id; values are JSON, but for
// the scan records, which are written in a compact binary form
// (scanrecord.go) when it holds them exactly.
//
//	m/schema                      schema marker {"v":1,"r":{"app":"tafweej"}}
//	b/<booking id>                scheduler.Booking
//	i/<operator> 0x00 <key>       scheduler.Idempotency (the NUL keeps
//	                              ("a/b","c") and ("a","b/c") apart)
//	s/<scan id>                   scheduler.ScanRecord (binary: 0x00 's' 0x01 ...;
//	                              or JSON, as earlier builds wrote it)
//	c/<sensor>                    scheduler.SensorState (counter checkpoint)
//	z/<zone>                      scheduler.ZoneState
//	x/<closure id>                scheduler.Closure
//	q/<request id>                scheduler.Request (a planned day's request)
//	r/<cut id>                    scheduler.CapacityCut
//	g/<booking id>                scheduler.MeteredGroup (a group the forecast holds back)
//	k/<hex sha-256 of secret>     APIKey
//	h/<sensor>/<t><h>             raw sensor message, with a TTL; t is the
//	                              message time as 8-byte big-endian Unix ns,
//	                              h the 8-byte FNV-64a of the message
//	y/<date>                      scheduler.ArchivedDay: a date out of the live
//	                              state (archive.go)
//	a/<date>/<booking id>         scheduler.Booking of an archived date
//	A/<booking id>                the date of an archived booking
//
// Load scans each prefix in key order, so every slice of the snapshot is
// sorted by its key (bookings by id), and the same database always gives
// the same snapshot.
//
// # Schema versions
//
// Every value is an envelope {"v":1,"r":<record>} carrying SchemaVersion,
// or a binary scan record starting 0x00 's' and its form's version (a form
// this build does not know is an error matching ErrSchema).
// Open checks m/schema and Load checks every record: a version this build
// does not know is a *SchemaError naming the key, which matches ErrSchema.
// A change that old code could misread must bump SchemaVersion; this build
// then refuses the newer data rather than guess. Adding an optional field
// does not need a new version: unknown fields are ignored on read.
//
// # Errors
//
// Every method returns ErrClosed after Close, and otherwise:
//
//   - Open: an error naming the directory: Badger's (another process holds
//     the directory lock; I/O), or ErrSchema for a database of a newer
//     schema.
//   - Commit: ErrTooBig; an error naming the effect (by index and type) for
//     a record without its id, a nil or unknown effect; an I/O error. In
//     every case nothing was written.
//   - Load: ErrSchema (naming the key); a decode error naming the key for a
//     corrupt record; an I/O error.
//   - PutKey: an error for a key without hash; an I/O error.
//   - LookupKey: ErrNotFound; an I/O error.
//   - ListKeys: an I/O error or a decode error.
//   - AppendHistory: an error for an empty sensor, or when over 256k
//     messages wait to be written (the disk cannot keep up); write errors
//     of the batches are logged, not returned.
//   - Backup: the writer's error or an I/O error.
//   - Restore: an error naming the directory if it is not empty (move it
//     away or choose another --data directory), or if the backup is
//     corrupt, not a tafweej backup, or of a newer schema; nothing is left
//     behind then.
//   - Close: an I/O error flushing the database; a second Close is nil.
//
// Backups are Badger's own stream format (DB.Backup at one read timestamp,
// history included), restored with DB.Load into a fresh directory.
//
// # Files
//
// One concept per file: store.go (the interface, its sentinels, APIKey),
// badger.go (opening and closing the database), schema.go (the key layout,
// the schema marker, SchemaError), codec.go (a record's versioned envelope,
// effects turned into writes), scanrecord.go (the scan record's binary
// form), commit.go (Commit), load.go (Load, decoding
// in parallel on start), apikeys.go (the API key records), history.go (raw
// sensor history, written in batches), backup.go (Backup, Restore),
// webhooks.go (webhook endpoints and deliveries), space.go (the free-space
// guard).
package store
