package cluster

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// CheckChain reads the whole log of site and checks that it is one chain
// of owners: every record after a takeover record is of that owner and
// its lease revision, and lease revisions never go back. It returns the
// number of records and of takeovers. For tests and for operators'
// inspection.
func CheckChain(ctx context.Context, nc *nats.Conn, site string) (records, takeovers int, err error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, 0, err
	}
	l := newLog(js, nc, site, "")
	first, last, err := l.lastSeq(ctx)
	if err != nil {
		return 0, 0, err
	}
	if last == 0 {
		return 0, 0, nil
	}
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var owner string
	var epoch uint64
	done := fmt.Errorf("done")
	err = l.tail(tctx, max(first, 1), func(r record) error {
		records++
		switch {
		case r.takeover:
			if r.epoch <= epoch {
				return fmt.Errorf("record %d: takeover by %s with lease revision %d, not after %d", r.seq, r.owner, r.epoch, epoch)
			}
			owner, epoch = r.owner, r.epoch
			takeovers++
		case owner != "" && (r.owner != owner || r.epoch != epoch):
			return fmt.Errorf("record %d: written by %s (lease revision %d) after %s took the site (revision %d)", r.seq, r.owner, r.epoch, owner, epoch)
		}
		if r.seq >= last {
			return done
		}
		return nil
	})
	if err == done {
		err = nil
	}
	return records, takeovers, err
}
