package scheduler

// idIndex finds a booking's record by its id: an open-addressing hash
// table of record indexes (linear probing), 4 bytes a slot, the ids
// themselves being in the records. A map[string]int32 of a million ids
// takes about 48 bytes an entry; this, at most 3/4 full, 5 to 11.
//
// idSource gives the id of record i (the booking table's, bookTable.idAt).
type idSource interface{ idAt(i int32) string }

type idIndex struct {
	slots []int32 // record index, or idEmpty, or idGone (a removed one)
	n     int     // ids in the index
	used  int     // slots not empty (ids and removed)
}

const (
	idEmpty int32 = -1
	idGone  int32 = -2
)

// hashID is FNV-1a: deterministic, and fast on short ids.
func hashID(id string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return h
}

// find returns the record index of id.
func (x *idIndex) find(recs idSource, id string) (int32, bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(x.slots) - 1)
	for p := hashID(id) & mask; ; p = (p + 1) & mask {
		switch i := x.slots[p]; {
		case i == idEmpty:
			return 0, false
		case i >= 0 && recs.idAt(i) == id:
			return i, true
		}
	}
}

// add indexes record i, whose id is not in the index.
func (x *idIndex) add(recs idSource, i int32) {
	if (x.used+1)*4 > len(x.slots)*3 {
		x.rehash(recs, x.n+1)
	}
	mask := uint64(len(x.slots) - 1)
	for p := hashID(recs.idAt(i)) & mask; ; p = (p + 1) & mask {
		switch x.slots[p] {
		case idEmpty:
			x.used++
			fallthrough
		case idGone:
			x.slots[p] = i
			x.n++
			return
		}
	}
}

// addRun indexes records from to to-1, none of whose ids is in the index
// (nor twice among them): add for each, in one tight loop over their
// slots, which a restart's million inserts, each a likely cache miss in a
// table of megabytes, need. The slots of a batch are found first, then
// filled: the loads of the second loop do not depend on each other, so
// the processor has several misses in flight instead of one at a time.
func (x *idIndex) addRun(recs idSource, from, to int32) {
	if to <= from {
		return
	}
	if (x.used+int(to-from))*4 > len(x.slots)*3 {
		x.rehash(recs, x.n+int(to-from))
	}
	mask := uint64(len(x.slots) - 1)
	const batch = 64
	var at [batch]uint64
	for i := from; i < to; i += batch {
		k := min(batch, int(to-i))
		for j := range k {
			at[j] = hashID(recs.idAt(i+int32(j))) & mask
		}
		for j := range k {
			for p := at[j]; ; p = (p + 1) & mask {
				if v := x.slots[p]; v == idEmpty || v == idGone {
					if v == idEmpty {
						x.used++
					}
					x.slots[p] = i + int32(j)
					x.n++
					break
				}
			}
		}
	}
}

// remove drops id from the index.
func (x *idIndex) remove(recs idSource, id string) {
	if len(x.slots) == 0 {
		return
	}
	mask := uint64(len(x.slots) - 1)
	for p := hashID(id) & mask; ; p = (p + 1) & mask {
		switch i := x.slots[p]; {
		case i == idEmpty:
			return
		case i >= 0 && recs.idAt(i) == id:
			x.slots[p] = idGone
			x.n--
			return
		}
	}
}

// indexSize is the slots rehash makes for n ids.
func indexSize(n int) int {
	size := 16
	for size*3 < n*4+4 {
		size *= 2
	}
	return size
}

// rehash makes room for n ids, dropping the removed ones' slots.
func (x *idIndex) rehash(recs idSource, n int) {
	size := indexSize(n)
	old := x.slots
	x.slots = make([]int32, size)
	for k := range x.slots {
		x.slots[k] = idEmpty
	}
	x.n, x.used = 0, 0
	mask := uint64(size - 1)
	for _, i := range old {
		if i < 0 {
			continue
		}
		p := hashID(recs.idAt(i)) & mask
		for x.slots[p] != idEmpty {
			p = (p + 1) & mask
		}
		x.slots[p] = i
		x.n++
		x.used++
	}
}
