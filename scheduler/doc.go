// Package scheduler is Tafweej's deterministic core: the rules that allot
// visitor groups to entry slots at the Petra Archaeological Park, admit
// them at the gates, follow the people counters, and re-plan when a zone
// closes or its capacity is cut. It only implements the rules; storage,
// the network, the clock and concurrency are left to its caller (in
// Tafweej, package engine).
//
// # State, Command and Effect
//
// A [State] is the whole live state of one site: its [Config], the
// bookings, each day's capacity picture, the scan and idempotency records,
// the counters, zones, closures, capacity cuts and the requests of planned
// days. [New] makes an empty one; [Restore] rebuilds one from a [Snapshot]
// (what the store loaded at startup), and [State.Snapshot] is its
// inverse.
//
// Everything that changes a State is a [Command] (Book, Modify, Cancel,
// Scan, CounterReading, Close, Reopen, SetHold, ResetZone, Alert, Tick,
// SubmitRequest, WithdrawRequest, AllotRequests, CutCapacity, LiftCut,
// ArchiveDay, and others),
// applied by the one entry point
//
//	func (s *State) Apply(now time.Time, cmd Command) (Result, []Effect)
//
// A command goes in; a decision ([Result]: a booking, a scan decision, a
// counter outcome, an allotment summary, or an *[Error] with a code and
// the field at fault) and the effects come out. The core never performs an
// effect itself. An [Effect] is either a record to persist (PutBooking,
// PutIdempotency, DeleteIdempotency, PutScan, DeleteScan, PutSensor,
// PutZone, PutClosure, PutRequest, PutCut, PutMeter, DeleteMeter) or an
// [Event] to publish. A
// refusal returns no effects and changes nothing.
//
// The read-only queries (Availability, Booking, Bookings, Occupancy,
// Waves, Closures, Cuts, Sensors, Requests, DayInstance, RequestInstance,
// ...) never change the State.
//
// # Determinism
//
// The package does no I/O, reads no clock, starts no goroutine, takes no
// lock and draws from no global random source. Time is the now argument
// of Apply and of the queries; the planner's randomness is a PCG seeded
// from its instance (or [PlanOptions].Seed) and its search is bounded by a
// number of iterations, never by a clock. So the same commands at the same
// times lead to the same state (the cuts property test replays them to
// check), and the same instance gets the same plan on every platform (the
// planner's annealing uses integer arithmetic only).
//
// A State is not safe for concurrent use. One goroutine owns it (in
// Tafweej, the engine's owner loop) and is the only caller of Apply and of
// every query. The one piece of work that runs elsewhere is
// [PlanInstance]: it works on an [Instance], a standalone copy of one
// day's remaining capacity that [State.DayInstance] or
// [State.RequestInstance] builds on the owner goroutine and that shares
// nothing with the State. The plan comes back to the owner as an
// AllotRequests command, which checks every placement again.
//
// # The driving loop
//
// The caller drives the State the way raft's Node drives its core: drain
// the pending commands, apply each, persist the turn's records in one
// synced write, and only then answer the callers and publish the events,
// so that nothing is announced that a crash could lose:
//
//	for {
//		batch := drain(calls)                 // what is pending; a Tick on each tick
//		now := clock.Now()
//		for _, c := range batch {
//			res, effects := state.Apply(now, c.cmd)
//			// records (Put*, Delete*) to write, Events to publish
//		}
//		if err := store.Commit(records); err != nil {
//			state = reload()                  // nothing of this turn is durable
//			// answer every caller with the error
//		}
//		// answer the callers, then publish the events
//		// after a Tick: for each date of State.RequestsDue, build
//		// RequestInstance here and run PlanInstance on another goroutine;
//		// its plan comes back as AllotRequests
//	}
//
// # Which file holds which rule
//
//	apply.go            Apply: the one entry point, dispatching each command
//	command.go          the commands, Result, ScanResult and its reasons, Error and its codes
//	types.go            the records (Booking, ScanRecord, SensorState, ZoneState, Closure),
//	                    Snapshot, the Effect kinds and Event
//	state.go            State, New, Restore, Snapshot; a day's capacity picture and how a
//	                    group counts against it (add: every stop of its route, per bucket)
//	allot.go            feasibility (room: how many more fit a route at a slot and gate, and
//	                    which limit binds) and ranking (earliest slot in the window, then the
//	                    route's gate order), alternatives and refusals
//	book.go             Book, Modify, Cancel, Availability and the booking lookups
//	gate.go             admission at the gates (Scan): the order of checks and each reason
//	live.go             people counters and zone holds, SetHold, ResetZone, Close, Reopen,
//	                    Alert, Tick (waves released, expired records dropped, closures
//	                    lifted, zones emptied once the site has closed)
//	replan.go           re-planning the bookings a closure or a cut hits: first come against
//	                    the planner, the better kept
//	cut.go              capacity cuts, kept as phantom load in the day's picture
//	requests.go         planned days: requests before the cut-off, AllotRequests after it
//	archive.go          ArchiveDay: a past date leaves the live state for the store's archive
//	query.go            read-only views: occupancy, waves, closures, sensors
//	messages.go         the visitor-facing text of each scan reason (English, Arabic)
//	scan_message.go     a scan reply's message as the form it was rendered from, which
//	                    the store keeps instead of the texts (ScanMessage)
//	config.go           the site configuration's types and lookups
//	parse.go            ParseConfig: decoding, problems with their lines, the indexes
//	parse_yaml.go       the generic YAML walker: unknown fields and wrong types
//	parse_validate.go   semantic validation of a configuration
//	calendar.go         calendar queries: clocks, seasons, opening hours, evenings
//	plan.go             the day planner's types, PlanDay and PlanInstance
//	plan_instance.go    DayInstance: a day's remaining capacity as a standalone Instance
//	plan_compile.go     compiling an Instance into flat slack books (the planner type)
//	plan_solution.go    fits, loads, set and the journal, revert, restore
//	plan_construct.go   the three starting plans: greedy, first come, earliest deadline
//	plan_moves.go       moves: what blocks a group, ejection, repair, insert, relocate
//	plan_search.go      the three searches (visitors, fairness, preference) and the budget
//	plan_result.go      a solution as a PlanResult
//
// # The day planner
//
// The day planner ([State.PlanDay], [PlanInstance]) allots a whole day's
// requests at once, where Book allots them one by one, first come first
// served. Its objective is lexicographic:
//
//  1. the most visitors placed;
//  2. then fairness between operators: the leximin of the operators'
//     placed shares of their placeable requested visitors (raise the lowest
//     share first, then the next; a group is placeable when at least one
//     slot and gate could take it; the ticket office is not an operator
//     here, walk-ins have a share of their own);
//  3. then the groups' closeness to their preferred start.
//
// It works on a compiled copy of the day's remaining capacity, in four
// steps. It builds three plans and starts from the best: greedy (largest
// groups first, each at its feasible option nearest its preferred start),
// first come (the requests in id order, each where Book would put it) and
// earliest deadline (the groups whose window closes first first, each at
// its earliest option that fits). Then simulated annealing over two moves,
// insert an unplaced group or move a placed one, each ejecting the groups
// in its way and putting them back where they fit (a large-neighbourhood
// search that keeps the best plan seen, cooling geometrically); then the
// same search aimed at fairness, and at preferred starts, each accepting
// only changes that keep the earlier objectives. So the plan never places
// fewer visitors than first-come allotment of the same requests.
// Feasibility is Book's (allot.go's room): gate waves, zone timelines, the
// walk-in share, the operators' wave and day shares, closures and the
// slots already over; where a route's stops overlap in one zone, it counts
// the group once per stop, as the State does.
//
// Everything is deterministic: inputs are sorted, the search draws from a
// PCG seeded from the instance, and it is bounded by a number of
// iterations, never by a clock. The default budget (7,000 iterations a
// group, at least 50,000, at most 3 million; see [PlanOptions]) takes
// about 5 s for a Petra day of 300 groups on one core. Three quarters of
// it go to the visitors search, an eighth to fairness, the rest to
// preferred starts. The planner's internals (its index layouts and the
// journal that undoes a rejected move) are described on its type, in
// plan_compile.go. README.md in this directory draws the pipeline.
package scheduler
