package scheduler

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// TestIDIndexFindsWhatAMapFinds: adds and removes in any order, the index
// finds exactly the ids a map holds, at the same records.
func TestIDIndexFindsWhatAMapFinds(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var x idIndex
		var recs []bookRec
		want := map[string]int32{}
		var free []int32
		for range rapid.IntRange(0, 400).Draw(rt, "ops") {
			id := fmt.Sprintf("bk%d", rapid.IntRange(0, 60).Draw(rt, "id"))
			if i, ok := want[id]; ok && rapid.Bool().Draw(rt, "remove") {
				x.remove(recs, id)
				recs[i] = bookRec{}
				free = append(free, i)
				delete(want, id)
			} else if !ok {
				var i int32
				if len(free) > 0 {
					i, free = free[len(free)-1], free[:len(free)-1]
				} else {
					i = int32(len(recs))
					recs = append(recs, bookRec{})
				}
				recs[i] = bookRec{id: id}
				x.add(recs, i)
				want[id] = i
			}
			if x.n != len(want) {
				rt.Fatalf("index holds %d ids, want %d", x.n, len(want))
			}
			for k := range 61 {
				id := fmt.Sprintf("bk%d", k)
				got, ok := x.find(recs, id)
				w, wok := want[id]
				if ok != wok || ok && got != w {
					rt.Fatalf("find %s = %d %v, want %d %v", id, got, ok, w, wok)
				}
			}
		}
	})
}
