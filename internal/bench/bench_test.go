package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/tafweej/tafweej/internal/testenv/stack"
)

// smallSizes measure every figure of a quick run on fewer operations and
// the planner with a shorter local search (its default, 2.1 million
// iterations for the Petra day, is most of a quick run's time under
// -race), so that the default suite checks the whole report in about a
// minute; the --quick sizes are the CLI's (`make bench-quick` runs them).
var smallSizes = Sizes{Counters: 100, Scans: []int{20, 50, 100}, BookingsSerial: 20, BookingsPar: 128,
	Stored: 2000, CBCSeconds: QuickCBCSeconds, PlanIterations: 30_000}

// TestRunReportsEveryFigure runs the bench on the real service, on small
// sizes, and checks the report: every row, every figure measured and
// positive, every ratio the quotient of the two figures of its row, every
// scan admitting, the planner no worse than first come and, with cbc on
// PATH, within [90%, 100%] of CBC's bound (Report.Problems).
func TestRunReportsEveryFigure(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the service and measures it: not under -short")
	}
	cfg := stack.Petra(t)
	sz := smallSizes
	var progress bytes.Buffer
	rep, err := Run(context.Background(), Options{Config: cfg, ConfigPath: "configs/petra.yaml", Dir: t.TempDir(),
		Quick: true, Reps: 3, CBCSeconds: QuickCBCSeconds, Sizes: &sz}, &progress)
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	if !strings.Contains(progress.String(), "done") {
		t.Errorf("no progress lines:\n%s", progress.String())
	}
	// The report survives JSON as `tafweej bench --json` prints it.
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatalf("the report does not decode as a Report: %v", err)
	}
	if !back.Quick || back.Sizes.Stored != sz.Stored || back.Sizes.Hajj || back.Sizes.CBCSeconds != QuickCBCSeconds {
		t.Errorf("quick %v, stored %d, hajj %v, cbc seconds %d: want the sizes asked for", back.Quick, back.Sizes.Stored, back.Sizes.Hajj, back.Sizes.CBCSeconds)
	}
	_, lookErr := exec.LookPath("cbc")
	for _, p := range back.Problems(1, lookErr == nil) {
		t.Error(p)
	}
	var table bytes.Buffer
	Print(&table, &back)
	for _, r := range back.Rows {
		if !strings.Contains(table.String(), r.Name) {
			t.Errorf("the table has no row %q:\n%s", r.Name, table.String())
		}
	}
}

// TestProblemsCatchesAWrongRatio: the check can fail.
func TestProblemsCatchesAWrongRatio(t *testing.T) {
	rep := &Report{Sizes: Sizes{Stored: 10}}
	if len(rep.Problems(1, false)) == 0 {
		t.Fatal("a report without rows passed")
	}
}

// TestProblemsWantsDurableLimitsAtTheSameConcurrency: a scan or booking
// row whose limit states no concurrency, another concurrency, is not
// durable, or (scans) has no bare request/reply, is reported.
func TestProblemsWantsDurableLimitsAtTheSameConcurrency(t *testing.T) {
	fig := func(conc int, durable bool) Figure {
		return Figure{What: "x", Value: 100, Unit: "ops/s", N: 10, Reps: 1, P50Ms: 1, P99Ms: 2, Concurrency: conc, Durable: durable}
	}
	good := func() []Row {
		scan := ratioRow("gate scans, 10 gate(s)", fig(10, false), fig(10, true))
		bare := fig(10, false)
		scan.RawBare = &bare
		scan.Extra = map[string]float64{"admitted": 10, "decisions": 10}
		return []Row{scan, ratioRow("bookings, 64 client(s)", fig(64, false), fig(64, true))}
	}
	// The rows in a report of every row (the others empty), and the
	// problems found in these two.
	problems := func(rows []Row) []string {
		rep := &Report{Sizes: Sizes{Stored: 10}}
		for _, name := range []string{"counter messages", "gate scans, 1 gate(s)", "gate scans, 10 gate(s)", "gate scans, 100 gate(s)",
			"counter messages, registered devices", "gate scans, 1 gate(s), registered devices", "gate scans, 10 gate(s), registered devices",
			"bookings, 1 client(s)", "bookings, 64 client(s)", "recovery, 10 bookings", "scans during a 7-day cut", "day planner, Petra day", "planner quality, Petra day"} {
			row := Row{Name: name}
			for _, r := range rows {
				if r.Name == name {
					row = r
				}
			}
			rep.Rows = append(rep.Rows, row)
		}
		var out []string
		for _, p := range rep.Problems(1, false) {
			if strings.HasPrefix(p, rows[0].Name+":") || strings.HasPrefix(p, rows[0].Name+" (") || strings.HasPrefix(p, rows[1].Name) {
				out = append(out, p)
			}
		}
		return out
	}
	if p := problems(good()); len(p) != 0 {
		t.Fatalf("sound rows reported: %q", p)
	}
	for name, spoil := range map[string]func(rows []Row){
		"no concurrency":      func(rows []Row) { rows[1].Raw.Concurrency = 0 },
		"another concurrency": func(rows []Row) { rows[1].Raw.Concurrency = 1 },
		"limit not durable":   func(rows []Row) { rows[0].Raw.Durable = false },
		"no bare":             func(rows []Row) { rows[0].RawBare = nil },
		"bare said durable":   func(rows []Row) { rows[0].RawBare.Durable = true },
		"fewer limit ops":     func(rows []Row) { rows[1].Raw.N = 5 },
	} {
		rows := good()
		spoil(rows)
		if len(problems(rows)) == 0 {
			t.Errorf("%s: not reported", name)
		}
	}
}
