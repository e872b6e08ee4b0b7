package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/internal/subjects"
)

// Secrets the instances of a site share, in the bucket TAFWEEJ_<SITE>_SECRETS
// (replicated, no TTL). Only the service's own NATS user may read it: the
// operator grants $JS.API.DIRECT.GET.KV_TAFWEEJ_<SITE>_SECRETS.> and
// $KV.TAFWEEJ_<SITE>_SECRETS.> to that user alone (docs/cluster.md).
const (
	secretTicketKey = "ticket-key" // DATA/ticket.key, PEM
	secretOpsKey    = "ops-key"    // DATA/ops.key of the instance that made it
)

// ErrSecretDiffers: a secret file in the data directory is not the one
// the site's other instances share.
var ErrSecretDiffers = errors.New("cluster: differs from the secret the site's other instances share")

// Secrets is the site's shared secrets bucket.
type Secrets struct{ kv jetstream.KeyValue }

// OpenSecrets creates or opens the site's secrets bucket.
func OpenSecrets(ctx context.Context, js jetstream.JetStream, site string, replicas int) (*Secrets, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      subjects.For(site).SecretsBucket(),
		Description: "tafweej: secrets shared by the instances of site " + site,
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: secrets bucket: %w", err)
	}
	return &Secrets{kv: kv}, nil
}

// ShareFile makes the file at path the same on every instance: if the
// cluster has the secret, the file is written from it (an existing file
// that differs is an error: two clusters' keys are never mixed silently);
// otherwise create makes the file (if missing) and its content is offered
// to the cluster; if another instance offered first, its content wins
// over a file just created here. It reports whether the file was written
// from the cluster.
func (s *Secrets) ShareFile(ctx context.Context, name, path string, create func() error) (fromCluster bool, err error) {
	e, err := s.kv.Get(ctx, name)
	if err == nil {
		return true, writeSame(path, e.Value())
	}
	if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, fmt.Errorf("cluster: read shared secret %q: %w", name, err)
	}
	_, statErr := os.Stat(path)
	existed := statErr == nil
	if err := create(); err != nil {
		return false, err
	}
	local, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	if _, err := s.kv.Create(ctx, name, local); err == nil {
		return false, nil
	} else if !errors.Is(err, jetstream.ErrKeyExists) {
		return false, fmt.Errorf("cluster: share secret %q: %w", name, err)
	}
	// Another instance shared its own first.
	e, err = s.kv.Get(ctx, name)
	if err != nil {
		return false, fmt.Errorf("cluster: read shared secret %q: %w", name, err)
	}
	if !existed {
		return true, os.WriteFile(path, e.Value(), 0o600)
	}
	return true, writeSame(path, e.Value())
}

// Has reports whether the cluster holds the secret.
func (s *Secrets) Has(ctx context.Context, name string) (bool, error) {
	_, err := s.kv.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Offer shares the content of path as the secret, unless the cluster has
// one already.
func (s *Secrets) Offer(ctx context.Context, name, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if _, err := s.kv.Create(ctx, name, b); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("cluster: share secret %q: %w", name, err)
	}
	return nil
}

// writeSame writes val to path if it is missing; an existing file must
// hold val.
func writeSame(path string, val []byte) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return os.WriteFile(path, val, 0o600)
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(bytes.TrimSpace(b), bytes.TrimSpace(val)) {
		return fmt.Errorf("%s: %w; move it aside to use the cluster's, or point this instance at its own cluster", path, ErrSecretDiffers)
	}
	return nil
}

// Secret names, for the service.
const (
	TicketKeySecret = secretTicketKey
	OpsKeySecret    = secretOpsKey
)
