package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tafweej/tafweej/store"
)

// A log record's body: version byte 1, then per op the key's length
// (uvarint) and key, and the value's length plus one (uvarint; 0 for a
// delete) and value. A takeover record has no ops.

const codecVersion = 1

// encodeOps encodes one unit of ops.
func encodeOps(ops []store.Op) []byte {
	n := 1
	for _, o := range ops {
		n += 2*binary.MaxVarintLen64 + len(o.Key) + len(o.Val)
	}
	b := make([]byte, 0, n)
	b = append(b, codecVersion)
	for _, o := range ops {
		b = binary.AppendUvarint(b, uint64(len(o.Key)))
		b = append(b, o.Key...)
		if o.Val == nil {
			b = binary.AppendUvarint(b, 0)
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(o.Val))+1)
		b = append(b, o.Val...)
	}
	return b
}

var errCodec = errors.New("cluster: log record")

// decodeOps decodes a unit of ops; it fails, naming the offset, on a
// truncated or unknown record.
func decodeOps(b []byte) ([]store.Op, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", errCodec)
	}
	if b[0] != codecVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads %d", errCodec, b[0], codecVersion)
	}
	var ops []store.Op
	i := 1
	for i < len(b) {
		kl, n := binary.Uvarint(b[i:])
		if n <= 0 || uint64(len(b)-i-n) < kl || kl == 0 {
			return nil, fmt.Errorf("%w: bad key length at byte %d", errCodec, i)
		}
		i += n
		key := b[i : i+int(kl) : i+int(kl)]
		i += int(kl)
		vl, n := binary.Uvarint(b[i:])
		if n <= 0 || (vl > 0 && uint64(len(b)-i-n) < vl-1) {
			return nil, fmt.Errorf("%w: bad value length at byte %d", errCodec, i)
		}
		i += n
		var val []byte
		if vl > 0 {
			val = b[i : i+int(vl-1) : i+int(vl-1)]
			if val == nil {
				val = []byte{}
			}
			i += int(vl - 1)
		}
		ops = append(ops, store.Op{Key: key, Val: val})
	}
	return ops, nil
}
