package engine

import (
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// SpaceGate tells the owner loop how full the data's disks are (a
// *store.SpaceWatcher). Status must be cheap: it is read for every
// command, before the scheduler applies it and so before Badger is asked
// to write anything.
type SpaceGate interface {
	Status() store.SpaceStatus
	// Refused counts a command refused for lack of space.
	Refused(command string)
}

// What is refused at each storage level (store.SpaceLevel), and why:
//
//   - low (under the reserve): what makes the data grow for good — new
//     bookings and requests. Everything else goes on.
//   - critical (under a quarter of the reserve): also scans and counter
//     readings, changes of bookings and the allotment of a planned day.
//     The gate answers reject with reason insufficient_storage (the device
//     may scan again with the same scan_id later: nothing was admitted);
//     counter readings are left unacknowledged for JetStream to redeliver
//     (their totals are cumulative, and the stream keeps them on disk
//     already), and an allotment is tried again at a later tick.
//   - never refused: what keeps visitors safe and frees room — closures,
//     reopening, holds, cuts, alerts, cancellations and withdrawals — and
//     the clock's ticks. They are few and small, and the critical level
//     still has a quarter of the reserve on top of the room Badger needs
//     to flush its write-ahead log.
//
// refuseForSpace returns the refusal of cmd at the current storage level
// (wrapping store.ErrInsufficientStorage), or nil if cmd may be applied.
func (e *Engine) refuseForSpace(cmd scheduler.Command) error {
	if e.opts.Space == nil {
		return nil
	}
	s := e.opts.Space.Status()
	if s.Level == store.SpaceOK {
		return nil
	}
	kind, level := spaceClass(cmd)
	if kind == "" || s.Level < level {
		return nil
	}
	e.opts.Space.Refused(kind)
	return s.Refusal()
}

// spaceRefusable names every command kind spaceClass may refuse, so that
// the refusals' counter has a series for each from the start.
var spaceRefusable = []string{"book", "request", "scan", "counter", "modify", "allot"}

// prepareSpace lets a space gate that counts refusals by command create
// each command's series at zero.
func prepareSpace(g SpaceGate) {
	if p, ok := g.(interface{ Prepare(commands []string) }); ok {
		p.Prepare(spaceRefusable)
	}
}

// spaceClass names a command that may be refused for lack of space and the
// level from which it is; "" for a command never refused.
func spaceClass(cmd scheduler.Command) (string, store.SpaceLevel) {
	switch cmd.(type) {
	case scheduler.Book:
		return "book", store.SpaceLow
	case scheduler.SubmitRequest:
		return "request", store.SpaceLow
	case scheduler.Scan:
		return "scan", store.SpaceCritical
	case scheduler.CounterReading:
		return "counter", store.SpaceCritical
	case scheduler.Modify:
		return "modify", store.SpaceCritical
	case scheduler.AllotRequests:
		return "allot", store.SpaceCritical
	}
	return "", store.SpaceOK
}
