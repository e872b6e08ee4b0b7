package main

import (
	"strconv"

	"github.com/tafweej/tafweej/store"
)

// sizeFlag is a --min-free style size flag ("64MiB", "1GiB").
type sizeFlag struct{ n int64 }

func (s *sizeFlag) Set(v string) error {
	n, err := store.ParseSize(v)
	if err != nil {
		return err
	}
	s.n = n
	return nil
}

func (s *sizeFlag) Type() string { return "SIZE" }

// String writes the size back in the unit it is a whole number of.
func (s *sizeFlag) String() string {
	for _, u := range []struct {
		name string
		n    int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if s.n != 0 && s.n%u.n == 0 {
			return strconv.FormatInt(s.n/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(s.n, 10)
}
