// Package tickets makes and checks signed ticket codes. A code is
// self-contained: booking id, date, slot, gate and party size, signed with
// Ed25519, so any gate can verify it offline with the public key; the
// scheduler stays the authority on how many were admitted.
//
// Code format (fits a small QR code, ASCII only):
//
//	TFW1.<base64url payload>.<base64url signature>
//
// where the payload is "booking|YYYY-MM-DD|slot RFC 3339|gate|party size".
package tickets

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/yeqown/go-qrcode/v2"
	"github.com/yeqown/go-qrcode/writer/standard"

	"github.com/tafweej/tafweej/scheduler"
)

const prefix = "TFW1."

// Errors of Verify.
var (
	// ErrMalformed: not a ticket code of this format.
	ErrMalformed = errors.New("tickets: malformed ticket code")
	// ErrSignature: the code is well-formed but its signature does not
	// match (forged or altered).
	ErrSignature = errors.New("tickets: invalid signature")
)

// Signer signs ticket codes.
type Signer struct{ key ed25519.PrivateKey }

// NewSigner returns a signer for key.
func NewSigner(key ed25519.PrivateKey) *Signer { return &Signer{key: key} }

// Public is the key gates verify with.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Code returns the ticket code of booking b.
func (s *Signer) Code(b scheduler.Booking) string {
	payload := strings.Join([]string{b.ID, b.Date, b.Slot.Format(time.RFC3339), b.Gate, strconv.Itoa(b.PartySize)}, "|")
	sig := ed25519.Sign(s.key, []byte(payload))
	enc := base64.RawURLEncoding
	return prefix + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(sig)
}

// Verify checks a ticket code's signature with pub and returns what it
// claims.
func Verify(pub ed25519.PublicKey, code string) (scheduler.Ticket, error) {
	code = strings.TrimSpace(code)
	rest, ok := strings.CutPrefix(code, prefix)
	if !ok || len(code) > 512 {
		return scheduler.Ticket{}, ErrMalformed
	}
	p64, s64, ok := strings.Cut(rest, ".")
	if !ok {
		return scheduler.Ticket{}, ErrMalformed
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p64)
	sig, err2 := enc.DecodeString(s64)
	if err1 != nil || err2 != nil || len(sig) != ed25519.SignatureSize {
		return scheduler.Ticket{}, ErrMalformed
	}
	parts := strings.Split(string(payload), "|")
	if len(parts) != 5 {
		return scheduler.Ticket{}, ErrMalformed
	}
	if !ed25519.Verify(pub, payload, sig) {
		return scheduler.Ticket{}, ErrSignature
	}
	slot, err := time.Parse(time.RFC3339, parts[2])
	if err != nil {
		return scheduler.Ticket{}, ErrMalformed
	}
	n, err := strconv.Atoi(parts[4])
	if err != nil {
		return scheduler.Ticket{}, ErrMalformed
	}
	return scheduler.Ticket{Booking: parts[0], Date: parts[1], Slot: slot, Gate: parts[3], PartySize: n}, nil
}

// LoadOrCreateKey reads the Ed25519 private key at path (PKCS#8 PEM) or,
// if there is none, creates one with mode 0600. created says which.
func LoadOrCreateKey(path string) (key ed25519.PrivateKey, created bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil {
		block, _ := pem.Decode(data)
		if block == nil || block.Type != "PRIVATE KEY" {
			return nil, false, fmt.Errorf("tickets: %s is not a PEM private key; restore it from backup or remove it to make a new one (old tickets will then fail verification)", path)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, false, fmt.Errorf("tickets: %s: %w", path, err)
		}
		ek, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, false, fmt.Errorf("tickets: %s holds a %T key, not Ed25519", path, k)
		}
		return ek, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("tickets: read key: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, false, fmt.Errorf("tickets: write key: %w", err)
	}
	return priv, true, nil
}

// QR renders a ticket code as a PNG QR code.
func QR(code string) ([]byte, error) {
	q, err := qrcode.NewWith(code, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("tickets: qr: %w", err)
	}
	var buf bytes.Buffer
	w := standard.NewWithWriter(nopCloser{&buf}, standard.WithBuiltinImageEncoder(standard.PNG_FORMAT), standard.WithQRWidth(6))
	if err := q.Save(w); err != nil {
		return nil, fmt.Errorf("tickets: qr: %w", err)
	}
	return buf.Bytes(), nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// Derive returns a 32-byte secret for purpose, derived from the signing
// key (HMAC-SHA256 of its seed over "tafweej/"+purpose): other signatures
// of the service (e.g. console sign-in links) get their own key without a
// second key file, and cannot be confused with ticket signatures.
func (s *Signer) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, s.key.Seed())
	m.Write([]byte("tafweej/" + purpose))
	return m.Sum(nil)
}
