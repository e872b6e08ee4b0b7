package tickets

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"image/png"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

func booking() scheduler.Booking {
	amman := time.FixedZone("+03", 3*3600)
	return scheduler.Booking{ID: "bk_abc", Date: "2026-12-01", Slot: time.Date(2026, 12, 1, 8, 15, 0, 0, amman), Gate: "visitor-centre", PartySize: 40}
}

func TestRoundTrip(t *testing.T) {
	key, created, err := LoadOrCreateKey(filepath.Join(t.TempDir(), "k", "ticket.key"))
	if err != nil || !created {
		t.Fatalf("create key: %v %v", created, err)
	}
	s := NewSigner(key)
	code := s.Code(booking())
	tk, err := Verify(s.Public(), code)
	if err != nil {
		t.Fatal(err)
	}
	b := booking()
	if tk.Booking != b.ID || tk.Date != b.Date || !tk.Slot.Equal(b.Slot) || tk.Gate != b.Gate || tk.PartySize != 40 {
		t.Fatalf("claims %+v", tk)
	}
	if len(code) > 200 {
		t.Errorf("code is %d bytes; keep it small for the QR", len(code))
	}
}

func TestKeyPersists(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ticket.key")
	k1, _, err := LoadOrCreateKey(p)
	if err != nil {
		t.Fatal(err)
	}
	k2, created, err := LoadOrCreateKey(p)
	if err != nil || created || !k1.Equal(k2) {
		t.Fatalf("second load: created=%v err=%v equal=%v", created, err, k1.Equal(k2))
	}
}

func TestForged(t *testing.T) {
	_, k1, _ := ed25519.GenerateKey(nil)
	_, k2, _ := ed25519.GenerateKey(nil)
	code := NewSigner(k1).Code(booking())
	if _, err := Verify(NewSigner(k2).Public(), code); !errors.Is(err, ErrSignature) {
		t.Fatalf("other key: %v, want ErrSignature", err)
	}
	// Alter the party size in the payload, keep the signature.
	forged := NewSigner(k2).Code(func() scheduler.Booking { b := booking(); b.PartySize = 400; return b }())
	sig := code[strings.LastIndex(code, "."):]
	forged = forged[:strings.LastIndex(forged, ".")] + sig
	if _, err := Verify(NewSigner(k1).Public(), forged); !errors.Is(err, ErrSignature) {
		t.Fatalf("altered payload: %v, want ErrSignature", err)
	}
	for _, bad := range []string{"", "TFW1.", "TFW1.a.b", "hello", "TFW1.!!!.???", strings.Repeat("A", 600)} {
		if _, err := Verify(NewSigner(k1).Public(), bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v, want ErrMalformed", bad, err)
		}
	}
}

func TestQR(t *testing.T) {
	_, k, _ := ed25519.GenerateKey(nil)
	img, err := QR(NewSigner(k).Code(booking()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
}

func FuzzVerify(f *testing.F) {
	_, k, _ := ed25519.GenerateKey(nil)
	s := NewSigner(k)
	f.Add(s.Code(booking()))
	f.Add("TFW1.YQ.YQ")
	f.Fuzz(func(t *testing.T, code string) {
		_, _ = Verify(s.Public(), code)
	})
}
