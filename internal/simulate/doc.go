// Package simulate is `tafweej simulate`: it plays a realistic day at the
// site against a running service, through its HTTP API and NATS, as the
// people and devices of a day would. Operators book tour groups (mostly
// for the morning, as the coaches arrive), the ticket office sells
// walk-ins, groups arrive early, on time or late (some never come, some
// pass the gate in several batches, some devices retry a scan), the gates
// scan their tickets over NATS request/reply, every people counter of the
// configuration publishes cumulative totals to JetStream as the admitted
// groups walk their routes (with miscounts, one burst of lost messages and
// one counter reboot), and a flood warning comes in the afternoon.
//
// The plan is drawn from Options.Seed; the service's answers decide the
// rest. The play follows the service's clock (GET /healthz). Run is the
// entry point; the cobra command in cmd/tafweej only turns flags into
// Options and gives it its HTTP client.
package simulate
