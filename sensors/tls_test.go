package sensors

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/tafweej/tafweej/internal/testenv/stack"
	"github.com/tafweej/tafweej/store"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tafweej test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// The embedded listener with a certificate is TLS only: a device trusting
// the certificate connects, a plain-text client does not, and the service
// still connects in process.
func TestEmbeddedTLSListener(t *testing.T) {
	cert, key := selfSigned(t)
	auth, err := NewAuth(nil)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := StartEmbedded(EmbeddedOptions{Port: -1, StoreDir: t.TempDir(), NoLog: true, Auth: auth, TLSCert: cert, TLSKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()
	url := "nats://" + ns.Addr().String()
	if nc, err := nats.Connect(url, auth.ServiceOption(), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Error("a plain-text client connected to the TLS listener")
	}
	nc, err := nats.Connect(url, auth.ServiceOption(), nats.RootCAs(cert), nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("TLS client: %v", err)
	}
	if !nc.TLSRequired() {
		t.Error("the listener does not require TLS")
	}
	nc.Close()
	ip, err := Connect(url, ConnectOptions{Options: []nats.Option{auth.ServiceOption(), nats.InProcessServer(ns)}})
	if err != nil {
		t.Fatalf("in-process service connection: %v", err)
	}
	ip.Close()
	if _, err := StartEmbedded(EmbeddedOptions{Port: -1, StoreDir: t.TempDir(), NoLog: true, Auth: auth, TLSCert: cert}); err == nil {
		t.Error("a certificate without its key was accepted")
	}
}

// The service's user restricted to in-process connections cannot connect
// over the network, even with its key.
func TestServiceUserInProcessOnly(t *testing.T) {
	auth, err := NewAuth(nil)
	if err != nil {
		t.Fatal(err)
	}
	auth.ServiceInProcessOnly()
	ns, err := StartEmbedded(EmbeddedOptions{Port: -1, StoreDir: t.TempDir(), NoLog: true, Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()
	if nc, err := nats.Connect(ns.ClientURL(), auth.ServiceOption(), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Error("the service's user connected over TCP")
	}
	nc, err := nats.Connect(ns.ClientURL(), auth.ServiceOption(), nats.InProcessServer(ns))
	if err != nil {
		t.Fatalf("in process: %v", err)
	}
	defer nc.Close()
	// A reload of the users (a device added) keeps it connected.
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	if err := auth.SetDevices("petra", stack.Petra(t), []store.Device{{ID: "dev_x", Kind: store.DeviceGate, Target: "visitor-centre", PublicKey: pub}}); err != nil {
		t.Fatal(err)
	}
	if err := nc.FlushTimeout(2 * time.Second); err != nil || !nc.IsConnected() {
		t.Errorf("the service's connection after a reload: %v", err)
	}
}
