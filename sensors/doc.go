// Package sensors is the NATS side of Tafweej: it turns gate scans, people
// counter readings and alerts into scheduler commands for the owner loop
// (package engine), and the scheduler's decisions and events back into NATS
// replies and messages. It holds no rules of the reserve: grace periods,
// holds, closures and counter checkpoints are the scheduler's. Here are the
// subjects, the JSON schemas, their strict decoding and validation, the
// JetStream stream and consumer, dead letters, and the simulator's
// publishers.
//
// # Subjects (site "petra")
//
//	tafweej.petra.gate.<gate>.scan         request/reply, queue group "tafweej-gate"
//	tafweej.petra.counter.<zone>.<sensor>  JetStream stream TAFWEEJ_PETRA_COUNTERS
//	tafweej.petra.alert                    core NATS, queue group "tafweej-alert"; request/reply optional
//	tafweej.petra.events.<kind>            published by Events after each owner-loop turn
//	tafweej.petra.deadletter.<kind>        invalid messages (kind counter, alert), kept in TAFWEEJ_PETRA_DEADLETTER
//
// # Gate scans
//
// A scan is decoded strictly (unknown fields, wrong types, trailing data:
// bad_request), checked (a configured gate from the subject, a ticket,
// count ≥ 0 where 0 or absent means 1, scan_id and device of at most 128
// printable characters, at in RFC 3339), its ticket verified with the
// public key — a forged or altered one is invalid_signature, a code that is
// not a ticket code at all (some other QR) is unknown_ticket — and then
// decided by the owner loop, whose reply is sent once the admission is
// durable. If the owner loop cannot apply the scan (stopped, store failure)
// no reply is sent: the device times out and retries with the same scan_id,
// which admits nobody twice. A Gate is also the HTTP API's scanner
// (api.Options.Gate) as it is: both take a scheduler.ScanRequest, so
// POST /v1/scans decides alike. Subjects are built by internal/subjects.
//
// # People counters
//
// Counters publish cumulative totals to JetStream with Nats-Msg-Id
// <sensor>:<boot>:<seq>; the stream drops duplicates within two minutes.
// A durable pull consumer fetches them; messages of one sensor are applied
// in stream order, different sensors in parallel (so one synced commit
// serves many). Each message is acked only after the owner loop applied it,
// when its checkpoint is durable: a redelivery after a restart, or a
// duplicate older than the stream's window, is recognised by the
// checkpoint. An invalid message (schema, subject and body disagreeing,
// Nats-Msg-Id not matching, unknown sensor or zone, or refused by the
// scheduler, e.g. totals going down within a boot) is counted by reason,
// copied to the dead-letter subject with headers Tafweej-Reason,
// Tafweej-Error, Tafweej-Subject and Tafweej-Msg-Id, and acked: poison is
// never redelivered. An owner-loop failure naks the message for a later
// redelivery. Raw messages are kept in the store's history.
//
// # Alerts
//
// {"kind", "zones", "severity", "at"} and, as an extension, an optional
// "id": the closure opened is "al_<id>", so that a retried alert opens no
// second closure; without an id it is "al_<random>". Sent as a request, an
// alert is answered with AlertReply (closed, ignored, duplicate, invalid)
// once the closure and the re-planned bookings are durable. Core NATS
// alerts sent while the service is disconnected are lost; a registered
// alert source publishes to JetStream instead, on
// tafweej.<site>.alerts.<source> with its id as Nats-Msg-Id, and the
// alerts stream keeps it until applied (alerts_stream.go), unless it has
// expired ("expires").
//
// # Devices
//
// The embedded server admits only the service and registered devices
// (auth.go, devices.go): a gate device publishes its own gate's scans, a
// sensor its own counter subject, an alert source alerts; each receives
// replies only under its inbox prefix _INBOX_<id>, and none reaches
// JetStream's API. Registry adds and revokes devices; a revoked device's
// connections are closed at once. docs/devices.md is the operators' guide.
//
// # Wiring
//
//	auth, _ := sensors.NewAuth(nil) // the service's own NKey, in memory only
//	ns, _ := sensors.StartEmbedded(sensors.EmbeddedOptions{Port: 4222, StoreDir: "data/jetstream", Auth: auth})
//	nc, _ := sensors.Connect(ns.ClientURL(), sensors.ConnectOptions{Name: "tafweej-petra", Logger: log,
//		Options: []nats.Option{auth.ServiceOption(), nats.InProcessServer(ns)}})
//	reg, _ := sensors.NewRegistry(sensors.RegistryOptions{Store: st, Config: cfg, Auth: auth}) // the devices
//	events := sensors.NewEvents(nc, cfg.Site, log)
//	eng, _ := engine.New(engine.Options{Config: cfg, Store: st, Publish: events.Publish, ...})
//	go eng.Run(ctx)
//	svc, _ := sensors.Start(ctx, sensors.Options{Conn: nc, Engine: eng, Public: pub, Store: st, Registerer: reg})
//	...
//	svc.Stop()    // before the engine stops, so that what it fetched is applied
//	// stop the engine
//	events.Close() // after the engine: publishes its last events
//
// Metrics: tafweej_sensor_invalid_messages_total{kind,reason},
// tafweej_deadletter_messages_total{kind}, tafweej_scan_duration_seconds{decision},
// tafweej_nats_connected, tafweej_sensor_consumer_pending_messages; the owner loop
// counts the applied, duplicate and scheduler-refused readings
// (tafweej_sensor_messages_total) and the scan decisions.
package sensors
