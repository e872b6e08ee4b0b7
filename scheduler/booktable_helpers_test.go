package scheduler

// at is the booking with that id for a test to read, nil if there is none.
func (t *bookTable) at(id string) *Booking {
	b, _ := t.get(id)
	return b
}
