package scheduler

import "time"

// Apply applies one command at time now and returns its result and the
// effects the caller must carry out: persist the records (in one synced
// write) before answering, then publish the events. A refusal (Result.Err)
// returns no effects and changes nothing.
func (s *State) Apply(now time.Time, cmd Command) (Result, []Effect) {
	s.bookings.flush() // what queries took out
	res, effects := s.apply(now, cmd)
	s.bookings.flush() // every booking the command changed, into the table
	s.meterInputs(now, cmd, res)
	return res, effects
}

func (s *State) apply(now time.Time, cmd Command) (Result, []Effect) {
	switch c := cmd.(type) {
	case Book:
		return s.book(now, c)
	case Modify:
		return s.modify(now, c)
	case Cancel:
		return s.cancel(now, c)
	case Scan:
		return s.scan(now, c)
	case CounterReading:
		return s.counter(now, c)
	case Close:
		return s.close(now, c)
	case Reopen:
		return s.reopen(now, c)
	case SetHold:
		return s.setHold(now, c)
	case ResetZone:
		return s.resetZone(now, c)
	case Alert:
		return s.alert(now, c)
	case Tick:
		return s.tick(now)
	case SubmitRequest:
		return s.submit(now, c)
	case WithdrawRequest:
		return s.withdraw(now, c)
	case AllotRequests:
		return s.allot(now, c)
	case CutCapacity:
		return s.cut(now, c)
	case LiftCut:
		return s.liftCut(now, c)
	case ApplyStep:
		return s.applyStep(now, c)
	case ApplyReplan:
		return s.applyReplan(now, c)
	case Replan:
		return s.replanOver(now, c)
	case TrustSensor:
		return s.trustSensor(now, c)
	case OfflineScans:
		return s.offlineScans(now, c)
	case GateSeen:
		return s.gateSeen(now, c)
	case ArchiveDay:
		return s.archiveDay(now, c)
	}
	return Result{Err: errorf(CodeInvalid, "", "unknown command %T", cmd)}, nil
}
