// Package service assembles the Tafweej service: the store and its
// disk-space watcher, the owner loop (engine), the webhook outbox, the NATS
// server (embedded, or an external one), the NATS adapters (sensors), the
// HTTP API with the web console and /metrics, and their lifecycle as one
// run.Group.
//
// It is the one assembly: `tafweej serve` runs it, `tafweej bench` measures
// it, and tests that need a whole service in their process start it. The
// caller keeps the process globals (flags, signals, the default Prometheus
// registerer): they come in through Options.
//
//	svc, err := service.New(ctx, service.Options{Config: cfg, Data: dir, HTTPAddr: "127.0.0.1:0", NATSPort: -1})
//	if err != nil { ... }
//	// svc.URL(), svc.NATSURL() and svc.OpsKeyPath() are known from here on.
//	err = svc.Run(ctx) // until ctx is cancelled or a part fails; then everything is closed
package service
