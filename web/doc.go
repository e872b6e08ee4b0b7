// Package web is the gate and control-room console that `tafweej serve`
// serves beside the API: two pages, /gate for gate staff and /ops for
// operations, their embedded assets under /web/, the site's description at
// /web/site.json and a server-sent events stream at /web/events that relays
// the site's NATS events (tafweej.<site>.events.>) to the pages.
//
// The pages hold no rules of the reserve: the gate page sends every scan to
// POST /v1/scans (the decision the NATS gate responder makes) and the
// control room reads GET /v1/status, changes closures through /v1/closures
// and capacity cuts through /v1/cuts, and shows the requests of the coming
// planned days from GET /v1/requests, all with the API key the user typed
// in. site.json tells the pages the gates and zones with their configured
// capacities, today's hours and the planned days' request window.
//
// The event stream checks API keys through internal/auth, the same
// lookup (and revocations) as the API's: pass the API's *auth.Keys. The
// console imports no other adapter. Mount the handler on the API server
// through api.Options.Extra:
//
//	keys := auth.NewKeys(st) // shared with api.Options.Keys
//	h, err := web.New(web.Options{Store: st, Keys: keys, Conn: nc, Config: cfg, Now: eng.Now, Logger: log})
//	...
//	Extra: map[string]http.Handler{"/gate": h, "/ops": h, "/web/": h}
package web
