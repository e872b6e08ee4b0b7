// Package bench is `tafweej bench`: it starts the service as `tafweej
// serve` assembles it (internal/service) on loopback in a temporary
// directory, and measures each headline figure next to the raw limit of
// the same part, measured in the same run on the same machine:
//
//   - counters.go: counter messages applied end to end vs raw JetStream
//     publish and consume;
//   - scans.go: gate scans over NATS at 1, 10 and 100 gates vs a NATS
//     responder making one synced Badger write per request at the same
//     concurrency (durable), and bare request/reply (raw_bare);
//   - bookings.go: durable bookings over HTTP at 1 and 64 clients vs
//     synced Badger writes by as many writers, interleaved in rounds;
//   - recovery.go: restart time and memory with many stored bookings vs
//     Badger opening and iterating the same records raw (ratio: raw time
//     over restart time);
//   - planner.go: the day planner's time and, with CBC (Debian's
//     coinor-cbc) on PATH, its quality against CBC's proven bound, on the
//     Petra day of the planner's quality tests (plantest.PetraDay) and a
//     Hajj-sized day (plantest.HajjRequests);
//   - report.go: the report, as a table or JSON.
//
// Run is the entry point; the cobra command in cmd/tafweej only turns
// flags into Options.
package bench
