package subjects

import "testing"

// TestClusterNamesSpellTheWireContract: the names of a replicated site are
// spelled as docs/wire-contract.md has them.
func TestClusterNamesSpellTheWireContract(t *testing.T) {
	s := For("petra")
	for _, c := range []struct{ got, want string }{
		{s.Log(), "tafweej.petra.log"},
		{s.LogStream(), "TAFWEEJ_PETRA_LOG"},
		{s.LeaseBucket(), "TAFWEEJ_PETRA_LEASE"},
		{s.InstancesBucket(), "TAFWEEJ_PETRA_INSTANCES"},
		{s.SecretsBucket(), "TAFWEEJ_PETRA_SECRETS"},
		{s.SnapshotBucket(), "TAFWEEJ_PETRA_SNAPSHOTS"},
		{For("little-petra").LogStream(), "TAFWEEJ_LITTLE-PETRA_LOG"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
