package auth_test

import (
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/store"
)

// BenchmarkLookup is an API key's check on every request: "cached" while
// its cache entry lasts (a hash and a map), "store" when it has expired
// and the key is read again from Badger.
func BenchmarkLookup(b *testing.B) {
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	secret, _, err := auth.CreateKey(st, auth.RoleOperator, "op-001", nil, "bench", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		k := auth.NewKeys(st)
		b.ReportAllocs()
		for range b.N {
			if _, err := k.Lookup(secret); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := auth.NewKeys(st).Lookup(secret); err != nil {
				b.Fatal(err)
			}
		}
	})
}
