package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
	"github.com/tafweej/tafweej/tickets"
)

// Example wires the API to an engine and books a group, as an operator's
// system would.
func Example() {
	data, _ := os.ReadFile("../configs/petra.yaml")
	cfg, err := scheduler.ParseConfig(data)
	if err != nil {
		panic(err)
	}
	st, _ := store.Open("", store.Options{InMemory: true})
	defer st.Close()
	start := time.Date(2026, 11, 29, 10, 0, 0, 0, cfg.Location())
	eng, _ := engine.New(engine.Options{Config: cfg, Store: st, Clock: engine.NewSimClock(start, 1)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go eng.Run(ctx)

	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	srv, err := api.New(api.Options{Engine: eng, Store: st, Signer: tickets.NewSigner(priv)})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	key, _, _ := auth.CreateKey(st, auth.RoleOperator, "desert-tours", nil, "Desert Tours", start)
	body := `{"date": "2026-12-01", "route": "monastery", "party_size": 40, "window": {"from": "08:00", "to": "10:00"}}`
	req, _ := http.NewRequest("POST", ts.URL+"/v1/bookings", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "order-1201")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var b api.Booking
	json.NewDecoder(resp.Body).Decode(&b)
	fmt.Println(resp.StatusCode, b.Slot.Format(time.RFC3339), b.Gate, b.PartySize, strings.HasPrefix(b.Ticket, "TFW1."))
	// Output: 201 2026-12-01T08:00:00+03:00 visitor-centre 40 true
}
