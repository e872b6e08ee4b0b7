// Package webhooks tells tour operators, over HTTP, what happened to their
// bookings and requests: moved (old and new wave, why), cancelled (why),
// admitted, request allotted or not placed, zone closed or reopened.
//
// # The outbox
//
// The Service is the engine's Outbox (engine/outbox.go). In each turn of
// the owner loop, after the commands are applied and before anything is
// written, Stage turns the turn's events into one delivery per event and
// endpoint; the engine writes them in the same synced Badger transaction as
// the turn's records (store.OutboxCommitter). So a change that was
// acknowledged to anyone always has its deliveries on disk, and a change
// that was not stored has none. Committed hands the durable deliveries to
// the workers.
//
// # Delivery
//
// Workers (off the owner loop) POST each delivery to its endpoint, signed
// as Standard Webhooks says (https://www.standardwebhooks.com): headers
// webhook-id (the delivery's id, the same on every attempt, so a receiver
// de-duplicates with it), webhook-timestamp (Unix seconds of the attempt)
// and webhook-signature ("v1," and the base64 HMAC-SHA256 of
// "<id>.<timestamp>.<body>" keyed with the base64-decoded part of the
// endpoint's secret after "whsec_"; during a day after a rotation the old
// secret signs too, space-separated). A 2xx answer delivers it; anything
// else (an error, a timeout, another status, a redirect, which is not
// followed) is retried with exponential backoff and jitter (from
// Options.MinBackoff, doubling, up to Options.MaxBackoff) until
// Options.MaxAge after the event, then it is failed; failed deliveries can
// be replayed. Each attempt's outcome is written (synced) before the next,
// and pending deliveries are reloaded at start and tried at once, so a
// crash loses none; a crash between an answered attempt and its record
// makes one more attempt with the same webhook-id. Deliveries to one
// endpoint are not ordered: a receiver orders by the payload's timestamp.
//
// # Request forgery
//
// An endpoint URL must be http or https and resolve only to public
// addresses: loopback, private (RFC 1918, ULA), link-local (cloud metadata
// among them), unspecified, multicast, CGNAT and other special ranges are
// refused when the endpoint is registered and again at every connection
// (net.Dialer.Control checks the address actually dialled, so DNS
// rebinding cannot pass), unless Options.AllowPrivate (serve
// --webhook-allow-private) is set. No proxy from the environment is used.
package webhooks
