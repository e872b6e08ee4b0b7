package sensors

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/tickets"
)

// TestVerifiedCodesNeverLetAForgeryThrough: once a ticket's code has
// verified (and is remembered), the same booking with an altered payload,
// an altered signature, or signed with another key is still refused, and
// the remembered code gives the same ticket as a verification.
func TestVerifiedCodesNeverLetAForgeryThrough(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	signer := tickets.NewSigner(key)
	b := scheduler.Booking{ID: "bk_1", Date: "2026-12-01", Gate: "visitor-centre", PartySize: 60,
		Slot: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	code := signer.Code(b)
	v := newVerified(signer.Public())
	want, err := tickets.Verify(signer.Public(), code)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second time from memory
		got, err := v.verify(code)
		if err != nil || got != want {
			t.Fatalf("verify(good code) = %+v, %v; want %+v", got, err, want)
		}
	}
	bigger := b
	bigger.PartySize = 600
	payload, sig, _ := strings.Cut(strings.TrimPrefix(code, "TFW1."), ".")
	otherPayload, otherSig, _ := strings.Cut(strings.TrimPrefix(signer.Code(bigger), "TFW1."), ".")
	for name, forged := range map[string]string{
		"altered payload":   "TFW1." + otherPayload + "." + sig,
		"altered signature": "TFW1." + payload + "." + otherSig,
		"another key":       tickets.NewSigner(other).Code(b),
		"trailing byte":     code + "A",
	} {
		if _, err := v.verify(forged); err == nil {
			t.Errorf("%s: verified", name)
		} else if name != "trailing byte" && !errors.Is(err, tickets.ErrSignature) {
			t.Errorf("%s: %v, want %v", name, err, tickets.ErrSignature)
		}
	}
}

// TestVerifiedCodesAreBounded: the memory of verified codes never holds
// more than maxVerified codes.
func TestVerifiedCodesAreBounded(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	signer := tickets.NewSigner(key)
	v := newVerified(signer.Public())
	for i := range maxVerified + 10 {
		code := signer.Code(scheduler.Booking{ID: fmt.Sprintf("bk_%d", i), Date: "2026-12-01", Gate: "g", PartySize: 1})
		if _, err := v.verify(code); err != nil {
			t.Fatal(err)
		}
		if n := len(v.codes); n > maxVerified {
			t.Fatalf("%d codes remembered, want at most %d", n, maxVerified)
		}
	}
}
