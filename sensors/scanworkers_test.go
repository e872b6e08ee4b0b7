package sensors

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tafweej/tafweej/scheduler"
)

// TestScanWorkersAnswerEveryScanAndEndAtStop: a burst of more scans than
// may be decided at once is answered in full (each its own decision,
// none lost while waiting for a worker), the workers deciding them never
// outnumber the scans allowed in flight, they stay for the next burst,
// and Stop ends every one of them.
func TestScanWorkersAnswerEveryScanAndEndAtStop(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	b := h.book("op-wadi", "main", "", 30, "08:00", "08:15")
	h.at("08:02")
	code := h.signer.Code(b)
	burst := func(round, n int) {
		var wg sync.WaitGroup
		msgs := make([]*nats.Msg, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				data, _ := json.Marshal(scheduler.ScanRequest{Ticket: code, Count: 1, ScanID: fmt.Sprintf("r%d-%d", round, i), Device: "dev"})
				msgs[i], errs[i] = h.client.Request("tafweej.petra.gate.visitor-centre.scan", data, 10*time.Second)
			}()
		}
		wg.Wait()
		admitted := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d scan %d: %v", round, i, errs[i])
			}
			var r scheduler.ScanResult
			if err := json.Unmarshal(msgs[i].Data, &r); err != nil || r.Decision == "" {
				t.Fatalf("round %d scan %d: reply %s (%v)", round, i, msgs[i].Data, err)
			}
			admitted += r.Admitted
		}
		if round == 1 && admitted != 30 {
			t.Fatalf("the first burst admitted %d, want the party of 30", admitted)
		}
		if w := h.svc.workers.Load(); w < 1 || w > maxScansInFlight {
			t.Fatalf("%d scan workers after a burst of %d, want 1 to %d", w, n, maxScansInFlight)
		}
	}
	burst(1, maxScansInFlight+200)
	burst(2, 50)
	svc := h.svc
	svc.Stop()
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if w := svc.workers.Load(); w != 0 {
			return fmt.Errorf("%d scan workers still running after Stop", w)
		}
		return nil
	})
}
