package store

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// crashDirEnv names the store directory of the crash helper child; when it is
// not set, TestCrashHelper does nothing.
const (
	crashDirEnv   = "TAFWEEJ_CRASH_DIR"
	crashRoundEnv = "TAFWEEJ_CRASH_ROUND"
)

// TestCrashHelper is the child of TestCrashDurability: it commits bookings
// one by one, printing each id after Commit returns, until it is killed.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestCrashDurability")
	}
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	round := os.Getenv(crashRoundEnv)
	for i := 0; ; i++ {
		b := booking(fmt.Sprintf("bk-r%s-%06d", round, i), 8, 0)
		// Some commits carry several records, as a turn of the owner loop
		// does; only the booking's id is printed.
		effects := []scheduler.Effect{scheduler.PutBooking{Booking: b}}
		if i%3 == 0 {
			effects = append(effects,
				scheduler.PutScan{Record: scan("scan-"+b.ID, b.ID)},
				scheduler.PutZone{State: scheduler.ZoneState{Zone: "siq", Offset: int64(i)}})
		}
		if err := s.Commit(effects); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		// os.Stdout is not buffered: the id is in the pipe when Println
		// returns.
		fmt.Println(b.ID)
	}
}

// TestCrashDurability kills a process committing bookings with SIGKILL at a
// random moment and checks that every booking whose Commit returned is
// there after a restart (docs/invariants.md, invariant 2). The rounds share one
// directory, so each also recovers from the previous crash.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	var acked []string
	for round := range 3 {
		killAfter := 20 + rng.IntN(200) // acknowledged commits
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, fmt.Sprintf("%s=%d", crashRoundEnv, round))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		timeout := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
		sc := bufio.NewScanner(out)
		n := 0
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "bk-r") {
				continue // the test framework's own output
			}
			acked = append(acked, line)
			if n++; n == killAfter {
				// Vary where the child is in its next commit.
				time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
				// SIGKILL: no deferred function, no Close, no flush.
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
			}
		}
		err = cmd.Wait()
		timeout.Stop()
		if n < killAfter {
			t.Fatalf("round %d: child stopped after %d commits (%v): %s", round, n, err, stderr.String())
		}
		t.Logf("round %d: killed after %d commits; %d acknowledged (%d after the kill was sent)",
			round, killAfter, n, n-killAfter)
	}

	s := openBadger(t, dir)
	snap, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	have := make(map[string]bool, len(snap.Bookings))
	for _, b := range snap.Bookings {
		have[b.ID] = true
	}
	lost := 0
	for _, id := range acked {
		if !have[id] {
			lost++
			t.Errorf("acknowledged booking %s lost in the crash", id)
		}
	}
	t.Logf("%d acknowledged bookings, %d stored, %d lost", len(acked), len(snap.Bookings), lost)
}
