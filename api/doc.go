// Package api is the HTTP adapter of Tafweej: it authenticates requests,
// decodes them strictly, turns them into scheduler commands for the owner
// loop (engine.Engine) and encodes the answers. It holds no rules of the
// reserve: every decision is the scheduler's.
//
//	srv, err := api.New(api.Options{Engine: eng, Store: st, Signer: signer,
//		Gate: scanner, Logger: log, Registerer: reg})
//	http.ListenAndServe("127.0.0.1:8080", srv)
//
// The routes, described by the OpenAPI 3.1 document served at
// /openapi.json (embedded from openapi.json, and checked against the
// routes by a test):
//
//	GET    /healthz                          no key; says which clock runs
//	GET    /readyz                           no key; engine answers within 1 s, Options.Ready
//	GET    /openapi.json                     no key
//	GET    /v1/availability?date=&route=     operator, ops
//	POST   /v1/bookings                      operator, ops (Idempotency-Key)
//	GET    /v1/bookings?date=                operator, ops
//	GET    /v1/bookings/{id}                 operator, ops
//	PATCH  /v1/bookings/{id}                 operator, ops (party_size, window)
//	DELETE /v1/bookings/{id}                 operator, ops (cancel)
//	GET    /v1/bookings/{id}/ticket.png      operator, ops
//	GET    /v1/occupancy                     operator, ops
//	GET    /v1/zones.geojson                 operator, ops
//	GET    /v1/status                        operator, ops
//	GET    /v1/closures                      ops
//	POST   /v1/closures                      ops
//	DELETE /v1/closures/{id}                 ops (reopen)
//	POST   /v1/holds                         ops
//	POST   /v1/replan                        ops (a date over the capacity now configured)
//	POST   /v1/zones/{zone}/reset            ops
//	POST   /v1/keys                          ops
//	POST   /v1/scans                         gate, ops (via Options.Gate; 503 if undecided)
//	GET    /v1/gates/{gate}/manifest         gate (its gates), ops (offline gates; ETag, 304)
//	GET    /v1/tickets/key                   gate, ops
//	POST   /v1/scans/offline                 gate (its gates), ops (reconciliation; offline.go)
//
// GET /metrics is not served here: the composition root mounts the
// Prometheus handler (Options.Extra mounts other handlers, e.g. the web
// console).
//
// # Keys and roles
//
// Every /v1 request carries "Authorization: Bearer <key>". A key's secret
// is "tfw_" and 32 random bytes in base64url; the store keeps only its hex
// SHA-256 (auth.CreateKey). A key has one role: "operator" (one operator's
// bookings), "gate" (scans, at all gates or at the key's gates only) or
// "ops" (everything). The first ops key is written to a file on the first
// start (auth.EnsureOpsKey). A missing or unknown key is a 401, a role not
// allowed on the endpoint a 403.
//
// An operator key sees and changes only its operator's bookings: another
// operator's booking is a 404, as if it did not exist. An ops key sees all.
// For availability and for booking, an ops key acts for the ticket office
// (walk-ins, scheduler.WalkInOperator) unless the "operator" query
// parameter names an operator to act for; an operator key may only name
// itself there.
//
// # Requests
//
// Bodies are JSON ("Content-Type: application/json", else 415), at most
// Options.MaxBodyBytes (else 413). Decoding is strict: unknown fields are
// refused naming them and the accepted ones, and fields the server assigns
// (id, operator, status, slot, gate, admitted, ...) are refused with a
// message saying so. Windows are {"from": "HH:MM", "to": "HH:MM"} in the
// site's time zone ("24:00" is accepted as an end). Times in answers are
// RFC 3339 in the site's time zone.
//
// POST /v1/bookings takes an optional Idempotency-Key header, scoped to the
// operator booked for. Its request hash is the SHA-256 of the decoded
// request re-encoded canonically, so spacing and field order do not
// matter. The same key and body answer the booking as first created, with
// 201 and "Idempotent-Replayed: true"; the same key with another body is a
// 422 idempotency_key_reused; the same key while the first request is
// still being answered by this server is a 409 idempotency_key_in_flight.
//
// Each key may make Options.RatePerSecond requests a second (bursts of
// Options.Burst); past that the answer is a 429 with Retry-After.
//
// # Errors
//
// Every error is {"error": {"code", "message", "field"?, "alternatives"?}}.
// The scheduler's refusal codes map to statuses: invalid_request 400,
// not_found 404, no_capacity, operator_share_exceeded, closed and conflict
// 409, outside_opening_hours and idempotency_key_reused 422. The API's own:
// unauthorized 401, forbidden 403, not_found 404 (also for unknown
// endpoints), method_not_allowed 405, idempotency_key_in_flight 409,
// request_too_large 413, unsupported_media_type 415, rate_limited 429,
// not_ready and unavailable 503 (the engine stopped or the store failed:
// nothing was changed).
//
// # Metrics
//
// tafweej_http_requests_total{route,method,code} and
// tafweej_http_request_duration_seconds{route}, with route the matched
// pattern's path ("unmatched" otherwise).
package api
