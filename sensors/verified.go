package sensors

import (
	"crypto/ed25519"
	"sync"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/tickets"
)

// maxVerified bounds the ticket codes a Gate remembers as verified (about
// 2 MB with their tickets): several mornings of groups.
const maxVerified = 8192

// verified remembers ticket codes whose signature checked out, so that the
// same code scanned again (a group's visitors pass one by one on the
// group's one ticket) is not checked again: an Ed25519 verification costs
// about twice a signature, the largest share of a scan's CPU before the
// owner loop.
//
// It is sound because verification is a pure function of the exact code
// and the public key: the key is the whole code (payload and signature),
// the Gate has one public key, and only codes that verified are kept, so a
// forged or altered code is never found and is always checked. When full
// it forgets everything and starts again (a miss only costs a
// verification).
type verified struct {
	pub ed25519.PublicKey

	mu    sync.Mutex // guards codes
	codes map[string]scheduler.Ticket
}

func newVerified(pub ed25519.PublicKey) *verified {
	return &verified{pub: pub, codes: map[string]scheduler.Ticket{}}
}

// verify is tickets.Verify(pub, code), remembering the codes that verify.
func (v *verified) verify(code string) (scheduler.Ticket, error) {
	v.mu.Lock()
	t, ok := v.codes[code]
	v.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := tickets.Verify(v.pub, code)
	if err != nil {
		return t, err
	}
	v.mu.Lock()
	if len(v.codes) >= maxVerified {
		clear(v.codes)
	}
	v.codes[code] = t
	v.mu.Unlock()
	return t, nil
}
