package subjects

import "testing"

// TestSubjectsSpellTheWireContract: every subject and stream name of a site
// is spelled as docs/wire-contract.md has it, and the parsing helpers give
// the builders' arguments back.
func TestSubjectsSpellTheWireContract(t *testing.T) {
	s := For("petra")
	for _, c := range []struct{ got, want string }{
		{s.Prefix(), "tafweej.petra"},
		{s.GateScanAll(), "tafweej.petra.gate.*.scan"},
		{s.GateScan("visitor-centre"), "tafweej.petra.gate.visitor-centre.scan"},
		{s.GateOf("tafweej.petra.gate.visitor-centre.scan"), "visitor-centre"},
		{s.CounterAll(), "tafweej.petra.counter.>"},
		{s.CounterPrefix(), "tafweej.petra.counter."},
		{s.Counter("siq", "siq-1"), "tafweej.petra.counter.siq.siq-1"},
		{s.Alert(), "tafweej.petra.alert"},
		{s.DeadLetter("scan"), "tafweej.petra.deadletter.scan"},
		{s.DeadLetterAll(), "tafweej.petra.deadletter.>"},
		{s.DeadLetterKind("tafweej.petra.deadletter.counter"), "counter"},
		{s.Event("booking.created"), "tafweej.petra.events.booking.created"},
		{s.EventAll(), "tafweej.petra.events.>"},
		{s.CounterStream(), "TAFWEEJ_PETRA_COUNTERS"},
		{s.DeadLetterStream(), "TAFWEEJ_PETRA_DEADLETTER"},
		{For("wadi rum").CounterStream(), "TAFWEEJ_WADI_RUM_COUNTERS"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestValidToken(t *testing.T) {
	for s, want := range map[string]bool{"petra": true, "gate-1_a": true, "": false, "a.b": false,
		"a*": false, "a>": false, "a b": false, "é": false, string(make([]byte, 129)): false} {
		if got := ValidToken(s); got != want {
			t.Errorf("ValidToken(%q) = %v, want %v", s, got, want)
		}
	}
}
