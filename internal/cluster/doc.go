// Package cluster replicates a site's schedule on a NATS cluster, with one
// fenced owner.
//
// The log is the source of truth. Every synced write of the owner's store
// (one owner-loop turn, an API key, a device, a webhook endpoint) is one
// message of the site's JetStream stream (TAFWEEJ_<SITE>_LOG, file
// storage, --replicas copies), appended with the sequence it expects to
// follow (JetStream's expected-last-sequence check), before Badger writes
// it and before anyone is answered (store.Replicator). Badger is each
// instance's materialised copy; it records the last log sequence it
// applied (store.Badger.LogSeq).
//
// Ownership is a lease: the key "owner" of the bucket TAFWEEJ_<SITE>_LEASE,
// renewed by the owner every TTL/4 with a compare-and-set on its revision.
// A standby that sees the same revision for a whole TTL (by its own clock,
// from the moment it saw it) takes the lease with a compare-and-set on that
// revision. The owner treats its lease as valid only for 3/4 TTL after it
// sent its last successful renewal, so it stops answering (HTTP, appends)
// before any standby can take over.
//
// Fencing does not rely on clocks: the new owner, having applied the whole
// log, appends a takeover record expecting the last sequence it applied.
// From then on every append of a deposed owner, which expects an older
// sequence, is refused; the deposed owner answers the callers of that
// turn with an error (the engine rolls the turn back) and steps down. Each
// acknowledged change is thus one link of a single chain of log records,
// and each owner's state is built from exactly the chain it extends: no two
// instances ever acknowledge conflicting changes.
//
// Snapshots (snapshot.go) bound a new instance's catch-up: the owner
// writes its store's backup to an object store every SnapshotRecords
// records and purges the log below it; an instance the log was purged
// past restores the snapshot and applies the rest.
//
// A Node runs one instance: it tails the log into Badger while it is a
// standby, campaigns for the lease, and when it wins applies the rest of
// the log, appends the takeover record and calls Options.Own, which builds
// and runs the owner's service (engine, NATS adapters, HTTP API). The
// Node's HTTP handler answers GET /v1/cluster itself and forwards every
// other request to the owner's advertised HTTP address (503 with
// Retry-After while there is none).
package cluster
