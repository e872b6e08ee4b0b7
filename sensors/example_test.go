package sensors_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/sensors"
	"github.com/tafweej/tafweej/store"
	"github.com/tafweej/tafweej/tickets"
)

// fixedClock stands at one moment.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time                        { return c.t }
func (c fixedClock) NewTicker(time.Duration) engine.Ticker { return idle{} }
func (c fixedClock) Name() string                          { return "fixed" }

type idle struct{}

func (idle) C() <-chan time.Time { return nil }
func (idle) Stop()               {}

// A gate scan over NATS: an embedded server that admits only the service
// and registered devices, the owner loop on a Badger store, the NATS
// adapters, and a registered gate device asking.
func Example() {
	dir, err := os.MkdirTemp("", "tafweej-sensors-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	data, err := os.ReadFile("../configs/petra.yaml")
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := scheduler.ParseConfig(data)
	if err != nil {
		log.Fatal(err)
	}

	auth, err := sensors.NewAuth(nil)
	if err != nil {
		log.Fatal(err)
	}
	ns, err := sensors.StartEmbedded(sensors.EmbeddedOptions{Port: -1, StoreDir: dir + "/jetstream", NoLog: true, Auth: auth})
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Shutdown()
	nc, err := sensors.Connect(ns.ClientURL(), sensors.ConnectOptions{Name: "tafweej-example",
		Options: []nats.Option{auth.ServiceOption(), nats.InProcessServer(ns)}})
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	st, err := store.Open(dir+"/badger", store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	events := sensors.NewEvents(nc, cfg.Site, nil)
	defer events.Close()
	clock := fixedClock{time.Date(2026, 12, 1, 8, 14, 5, 0, cfg.Location())}
	eng, err := engine.New(engine.Options{Config: cfg, Store: st, Clock: clock, Publish: events.Publish})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- eng.Run(ctx) }()
	defer func() { cancel(); <-done }()

	_, key, _ := ed25519.GenerateKey(rand.Reader)
	signer := tickets.NewSigner(key)
	svc, err := sensors.Start(ctx, sensors.Options{Conn: nc, Engine: eng, Public: signer.Public(), Store: st})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Stop()

	res, err := eng.Do(ctx, scheduler.Book{ID: "bk_1", Operator: "op-wadi", Request: scheduler.BookingRequest{
		Date: "2026-12-01", Route: "main", PartySize: 12, Window: scheduler.Window{From: 8 * 60, To: 9 * 60}}})
	if err != nil || res.Err != nil {
		log.Fatal(err, res.Err)
	}

	// The gate device: registered once by the ops team, it gets its seed
	// and its inbox prefix.
	reg, err := sensors.NewRegistry(sensors.RegistryOptions{Store: st, Config: cfg, Auth: auth})
	if err != nil {
		log.Fatal(err)
	}
	gate, seed, err := reg.Add(store.DeviceGate, "visitor-centre", "VC lane 1", 0)
	if err != nil {
		log.Fatal(err)
	}
	devOpts, err := sensors.DeviceOptions(seed, gate.InboxPrefix())
	if err != nil {
		log.Fatal(err)
	}
	dev, err := nats.Connect(ns.ClientURL(), devOpts...)
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Close()
	req, _ := json.Marshal(scheduler.ScanRequest{Ticket: signer.Code(*res.Booking), Count: 12, ScanID: "dev7-000123", Device: "dev7"})
	m, err := dev.Request("tafweej.petra.gate.visitor-centre.scan", req, 5*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	var r scheduler.ScanResult
	_ = json.Unmarshal(m.Data, &r)
	fmt.Println(r.Decision, r.Reason, r.Admitted, r.Remaining)
	fmt.Println(r.Message.EN)
	fmt.Println(r.Message.AR)
	// Output:
	// admit ok 12 0
	// Welcome — wave 08:00
	// أهلاً وسهلاً — فوج ٠٨:٠٠
}
