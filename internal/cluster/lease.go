package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/internal/subjects"
)

// DefaultLeaseTTL is the lease's time to live: a standby takes over about
// this long after the owner's last renewal.
const DefaultLeaseTTL = 2 * time.Second

// leaseKey is the lease's key in the site's lease bucket.
const leaseKey = "owner"

// ErrLeaseLost: another instance took the lease.
var ErrLeaseLost = errors.New("cluster: lease taken by another instance")

// Owner is the lease's value: who owns the site and since when.
type Owner struct {
	ID    string    `json:"id"`
	HTTP  string    `json:"http"`
	Since time.Time `json:"since"`
}

// Lease is one instance's view of the site's lease, and its hold on it.
type Lease struct {
	kv  jetstream.KeyValue
	ttl time.Duration
	me  Owner

	// mu guards every field below: the owner last seen (and its revision),
	// whether this instance holds the lease, the revision it holds, and
	// when (monotonic) it sent its last successful renewal.
	mu        sync.Mutex
	seen      Owner
	seenRev   uint64
	seenAt    time.Time
	held      bool
	rev       uint64
	renewedAt time.Time
	// onRenew, if set before Hold, is told the outcome of each renewal.
	onRenew func(error)
}

// ensureLeaseBucket creates or updates the site's lease bucket. Its own
// TTL is a backstop (an abandoned lease disappears); takeover does not
// wait for it.
func ensureLeaseBucket(ctx context.Context, js jetstream.JetStream, site string, replicas int) (jetstream.KeyValue, error) {
	return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      subjects.For(site).LeaseBucket(),
		Description: "tafweej: the owner's lease of site " + site,
		History:     1,
		TTL:         time.Hour,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
}

func newLease(kv jetstream.KeyValue, ttl time.Duration, id, http string) *Lease {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	return &Lease{kv: kv, ttl: ttl, me: Owner{ID: id, HTTP: http}}
}

// Valid reports whether this instance holds the lease and surely no other
// instance can have taken it: less than 3/4 TTL since it sent its last
// successful renewal.
func (l *Lease) Valid() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held && time.Since(l.renewedAt) < l.ttl*3/4
}

// Seen is the owner as last seen (this instance when it holds the lease);
// ok is false when no owner is known.
func (l *Lease) Seen() (o Owner, rev uint64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen, l.seenRev, l.seen.ID != ""
}

// Campaign blocks until this instance holds the lease (nil) or ctx ends.
// It takes the lease when there is none, or when the same revision has
// been seen for a whole TTL. ready, if set, must report true before it
// takes a lease (a standby that cannot apply the log does not campaign).
func (l *Lease) Campaign(ctx context.Context, ready func() bool) error {
	tick := time.NewTicker(l.ttl / 8)
	defer tick.Stop()
	for {
		if l.tryAcquire(ctx, ready) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (l *Lease) tryAcquire(ctx context.Context, ready func() bool) bool {
	cctx, cancel := context.WithTimeout(ctx, l.ttl/2)
	defer cancel()
	e, err := l.kv.Get(cctx, leaseKey)
	now := time.Now()
	var rev uint64
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		l.mu.Lock()
		l.seen, l.seenRev = Owner{}, 0
		l.mu.Unlock()
	case err != nil:
		return false
	default:
		var o Owner
		_ = json.Unmarshal(e.Value(), &o)
		l.mu.Lock()
		if e.Revision() != l.seenRev {
			l.seen, l.seenRev, l.seenAt = o, e.Revision(), now
		}
		expired := now.Sub(l.seenAt) >= l.ttl
		l.mu.Unlock()
		if !expired {
			return false
		}
		rev = e.Revision()
	}
	if ready != nil && !ready() {
		return false
	}
	me := l.me
	me.Since = time.Now().UTC().Truncate(time.Second)
	val, _ := json.Marshal(me)
	sent := time.Now()
	var newRev uint64
	if rev == 0 {
		newRev, err = l.kv.Create(cctx, leaseKey, val)
	} else {
		newRev, err = l.kv.Update(cctx, leaseKey, val, rev)
	}
	if err != nil {
		return false
	}
	l.mu.Lock()
	l.held, l.rev, l.renewedAt = true, newRev, sent
	l.seen, l.seenRev, l.seenAt = me, newRev, sent
	l.mu.Unlock()
	return true
}

// Revision is the revision of the lease this instance holds.
func (l *Lease) Revision() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rev
}

// Hold renews the lease every TTL/4 until ctx ends (nil) or another
// instance has taken it (ErrLeaseLost). A renewal that fails for another
// reason (a NATS node lost) is retried; meanwhile Valid turns false.
func (l *Lease) Hold(ctx context.Context) error {
	tick := time.NewTicker(l.ttl / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		err := l.renew(ctx)
		if l.onRenew != nil {
			l.onRenew(err)
		}
		if errors.Is(err, ErrLeaseLost) {
			return err
		}
	}
}

func (l *Lease) renew(ctx context.Context) error {
	l.mu.Lock()
	if !l.held {
		l.mu.Unlock()
		return ErrLeaseLost
	}
	rev, me := l.rev, l.seen
	l.mu.Unlock()
	val, _ := json.Marshal(me)
	cctx, cancel := context.WithTimeout(ctx, l.ttl/2)
	defer cancel()
	sent := time.Now()
	newRev, err := l.kv.Update(cctx, leaseKey, val, rev)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) || wrongLast(err) || errors.Is(err, jetstream.ErrKeyNotFound) {
			l.lose()
			return fmt.Errorf("%w: %v", ErrLeaseLost, err)
		}
		return err
	}
	l.mu.Lock()
	l.rev, l.renewedAt, l.seenRev, l.seenAt = newRev, sent, newRev, sent
	l.mu.Unlock()
	return nil
}

func (l *Lease) lose() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held = false
}

// Release gives the lease up at once (a clean stop), so that a standby
// need not wait for it to expire.
func (l *Lease) Release(ctx context.Context) {
	l.mu.Lock()
	held, rev := l.held, l.rev
	l.held = false
	l.mu.Unlock()
	if held {
		_ = l.kv.Delete(ctx, leaseKey, jetstream.LastRevision(rev))
	}
}
