package sensors

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// EmbeddedOptions configure the NATS server embedded in `tafweej serve`.
type EmbeddedOptions struct {
	// Host to listen on; empty means 127.0.0.1 (loopback only).
	Host string
	// Port to listen on; -1 picks a free port, 0 means NATS's 4222.
	Port int
	// StoreDir holds the JetStream file store (required).
	StoreDir string
	// NoLog silences the server's own log.
	NoLog bool
	// MaxStore bounds JetStream's file store; zero means
	// DefaultEmbeddedMaxStore. It is a fixed figure on purpose: NATS's
	// own default is 75% of the disk free at start, so a restart on a
	// nearly full disk could not even recreate the streams it had.
	MaxStore int64
	// Auth is the server's authorization (required): no client connects
	// without being the service or a registered device. See auth.go.
	Auth *Auth
	// TLSCert and TLSKey (PEM files) make the listener TLS only; TLSCA,
	// if set, also requires clients to present a certificate it signed.
	TLSCert, TLSKey, TLSCA string
}

// DefaultEmbeddedMaxStore is the embedded JetStream's store limit: room
// for the counter stream (1 GiB by default) and the dead letters.
const DefaultEmbeddedMaxStore = 2 << 30

// StartEmbedded starts a NATS server with JetStream on a file store under
// o.StoreDir, and waits until it accepts connections. JetStream syncs every
// write to disk before acknowledging it (SyncAlways): by default it syncs
// only every two minutes, and an acknowledged counter message must survive a
// power cut like a booking does. The caller shuts the server down.
func StartEmbedded(o EmbeddedOptions) (*server.Server, error) {
	if o.StoreDir == "" {
		return nil, errors.New("sensors: embedded NATS: StoreDir is required (where JetStream keeps its file store)")
	}
	if o.Auth == nil {
		return nil, errors.New("sensors: embedded NATS: Auth is required (no anonymous clients; make one with NewAuth)")
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	opts := &server.Options{
		ServerName: "tafweej",
		Host:       o.Host,
		Port:       o.Port,
		NoLog:      o.NoLog,
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		SyncAlways: true,
	}
	opts.JetStreamMaxStore = o.MaxStore
	if opts.JetStreamMaxStore <= 0 {
		opts.JetStreamMaxStore = DefaultEmbeddedMaxStore
	}
	if (o.TLSCert == "") != (o.TLSKey == "") || o.TLSCA != "" && o.TLSCert == "" {
		return nil, fmt.Errorf("sensors: embedded NATS TLS: certificate %q and key %q go together (and a client CA %q needs both)", o.TLSCert, o.TLSKey, o.TLSCA)
	}
	if o.TLSCert != "" {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: o.TLSCert, KeyFile: o.TLSKey, CaFile: o.TLSCA, Verify: o.TLSCA != ""})
		if err != nil {
			return nil, fmt.Errorf("sensors: embedded NATS TLS: %w", err)
		}
		opts.TLSConfig, opts.TLS, opts.TLSVerify, opts.TLSTimeout = tc, true, o.TLSCA != "", 2
	}
	o.Auth.configure(opts)
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("sensors: embedded NATS: %w", err)
	}
	if !o.NoLog {
		s.ConfigureLogger()
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("sensors: embedded NATS on %s:%d did not accept connections within 10s (is the port taken?)", o.Host, o.Port)
	}
	if !s.JetStreamEnabled() {
		s.Shutdown()
		return nil, fmt.Errorf("sensors: embedded NATS: JetStream did not start (store dir %q)", o.StoreDir)
	}
	o.Auth.started(s)
	return s, nil
}

// ConnectOptions configure Connect. The zero value connects without
// authentication and logs nothing.
type ConnectOptions struct {
	// Name is the connection's name, shown by the server's monitoring.
	Name string
	// CredsFile is a NATS credentials file (JWT and NKey seed).
	CredsFile string
	// NKeyFile is a file with an NKey seed.
	NKeyFile string
	// User and Password authenticate with a user name.
	User, Password string
	// Token authenticates with a token.
	Token string
	// TLSCA is a PEM file of the CAs that sign the server's certificate;
	// TLSCert and TLSKey are the client's certificate and key (mutual TLS).
	TLSCA, TLSCert, TLSKey string
	// Logger receives disconnects, reconnects and asynchronous errors.
	Logger *slog.Logger
	// Options are added last, e.g. Auth.ServiceOption() or
	// nats.InProcessServer for the embedded server.
	Options []nats.Option
}

// Connect connects to the NATS server or cluster at url (comma-separated
// URLs for a cluster). Once connected it reconnects for ever, with
// exponential backoff from 100 ms to 5 s plus jitter, buffering what is
// published meanwhile; every disconnect and reconnect is logged. The first
// connection is not retried: an unreachable server at start is an error.
func Connect(url string, o ConnectOptions) (*nats.Conn, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "nats")
	opts := []nats.Option{
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(backoff),
		nats.PingInterval(10 * time.Second),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS disconnected; reconnecting", "err", err)
			} else {
				log.Info("NATS disconnected")
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("NATS reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ClosedHandler(func(nc *nats.Conn) {
			log.Info("NATS connection closed")
		}),
		nats.ErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			log.Warn("NATS asynchronous error", "subject", subj, "err", err)
		}),
	}
	if o.Name != "" {
		opts = append(opts, nats.Name(o.Name))
	}
	if o.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(o.CredsFile))
	}
	if o.NKeyFile != "" {
		nk, err := nats.NkeyOptionFromSeed(o.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("sensors: nkey file %q: %w", o.NKeyFile, err)
		}
		opts = append(opts, nk)
	}
	if o.User != "" || o.Password != "" {
		opts = append(opts, nats.UserInfo(o.User, o.Password))
	}
	if o.Token != "" {
		opts = append(opts, nats.Token(o.Token))
	}
	if o.TLSCA != "" {
		opts = append(opts, nats.RootCAs(o.TLSCA))
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return nil, fmt.Errorf("sensors: TLS client certificate %q and key %q: give both or neither", o.TLSCert, o.TLSKey)
	}
	if o.TLSCert != "" {
		opts = append(opts, nats.ClientCert(o.TLSCert, o.TLSKey))
	}
	opts = append(opts, o.Options...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("sensors: connect to NATS at %q: %w", url, err)
	}
	return nc, nil
}

// backoff is the wait before reconnect round attempts: 100 ms doubling to
// 5 s, plus up to 20% jitter so that many clients do not return together.
func backoff(attempts int) time.Duration {
	d := 100 * time.Millisecond << min(max(attempts-1, 0), 6)
	d = min(d, 5*time.Second)
	return d + rand.N(d/5+1)
}
