package sensors

import (
	"time"

	"github.com/nats-io/nats.go"
)

// Gate scans are decided on worker goroutines that stay for the next
// scan, rather than on a new goroutine each: a scan's call chain (JSON,
// the owner loop's call, the reply) grows a fresh goroutine's stack
// every time, which cost a few per cent of a scan's CPU. There are at
// most maxScansInFlight scans being decided at once (Service.sem), and
// at most that many workers; idle ones wait on Service.work until Stop
// closes it.

// scanJob is a scan handed to a worker.
type scanJob struct {
	m     *nats.Msg
	start time.Time
}

// dispatch hands a scan whose handler is registered (begin) and whose
// place is taken (sem) to an idle worker, or starts one.
func (s *Service) dispatch(j scanJob) {
	select {
	case s.work <- j:
		return
	default:
	}
	if s.workers.Add(1) <= maxScansInFlight {
		go s.worker(j)
		return
	}
	s.workers.Add(-1)
	s.work <- j // as many workers as scans may be in flight: one frees soon
}

// worker decides j, then every scan handed to it, until Stop closes
// Service.work.
func (s *Service) worker(j scanJob) {
	defer s.workers.Add(-1)
	for {
		s.scan(j.m, j.start)
		<-s.sem
		s.handlers.Done()
		var ok bool
		if j, ok = <-s.work; !ok {
			return
		}
	}
}
