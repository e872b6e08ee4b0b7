package subjects

// The names of a replicated site (internal/cluster), one set per site so
// that several sites share one NATS cluster:
//
//	tafweej.S.log                     the site's log (stream TAFWEEJ_<S>_LOG)
//	KV TAFWEEJ_<S>_LEASE, key owner   the owner's lease
//	KV TAFWEEJ_<S>_INSTANCES          each instance's role and applied sequence
//	KV TAFWEEJ_<S>_SECRETS            the ticket signing key and the first ops key
//	objects TAFWEEJ_<S>_SNAPSHOTS     the latest snapshot of the store (key "latest")

// Log is the subject of the site's log.
func (s Site) Log() string { return s.prefix + ".log" }

// LogStream is the JetStream stream of the site's log: TAFWEEJ_<SITE>_LOG.
func (s Site) LogStream() string { return "TAFWEEJ_" + StreamToken(s.site) + "_LOG" }

// LeaseBucket is the key-value bucket of the owner's lease.
func (s Site) LeaseBucket() string { return "TAFWEEJ_" + StreamToken(s.site) + "_LEASE" }

// InstancesBucket is the key-value bucket where each instance says what it is.
func (s Site) InstancesBucket() string { return "TAFWEEJ_" + StreamToken(s.site) + "_INSTANCES" }

// SecretsBucket is the key-value bucket of the secrets the instances share;
// only the service's own NATS user may read it.
func (s Site) SecretsBucket() string { return "TAFWEEJ_" + StreamToken(s.site) + "_SECRETS" }

// SnapshotBucket is the object store of the site's snapshots: the latest
// copy of an owner's store, with the log sequence it holds.
func (s Site) SnapshotBucket() string { return "TAFWEEJ_" + StreamToken(s.site) + "_SNAPSHOTS" }
