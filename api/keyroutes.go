package api

import (
	"errors"
	"net/http"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// Listing, revoking and rotating API keys (ops). Keys are named by their
// public id (store.APIKey.ID); the secret is never shown again, nor its
// hash.

func (s *Server) keyInfo(k store.APIKey) KeyInfo {
	return KeyInfo{ID: k.ID(), Role: k.Role, Operator: k.Operator, Gates: k.Gates, Name: k.Name,
		Prefix: k.Prefix, CreatedAt: k.CreatedAt.In(s.loc), OpsFile: k.OpsFile}
}

// listKeys: GET /v1/keys, oldest first.
func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	keys, err := s.auth.List()
	if err != nil {
		s.log.Error("list api keys", "err", err)
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "the keys could not be read; retry later")
	}
	out := KeyList{Keys: make([]KeyInfo, 0, len(keys))}
	for _, k := range keys {
		out.Keys = append(out.Keys, s.keyInfo(k))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// revokeKey: DELETE /v1/keys/{id}; the key is refused at once everywhere.
func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	id := r.PathValue("id")
	k, err := s.auth.Revoke(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errf(http.StatusNotFound, scheduler.CodeNotFound, "id", "no API key %q (tafweej keys list shows them)", id)
	case errors.Is(err, auth.ErrLastOpsKey):
		return errf(http.StatusConflict, scheduler.CodeConflict, "id",
			"key %q is the last ops key: make another first (tafweej keys create --role ops) or replace it with tafweej keys rotate-ops", id)
	case err != nil:
		s.log.Error("revoke api key", "err", err)
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "the key could not be revoked; retry later")
	}
	s.log.Info("api key revoked", "id", k.ID(), "role", k.Role, "operator", k.Operator)
	writeJSON(w, http.StatusOK, s.keyInfo(k))
	return nil
}

// rotateOpsKey: POST /v1/keys/rotate-ops — a new ops key in the ops key
// file, the old one revoked.
func (s *Server) rotateOpsKey(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	if s.opts.OpsKeyFile == "" {
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "this server keeps no ops key file")
	}
	secret, k, revoked, err := s.auth.RotateOps(s.opts.OpsKeyFile, s.eng.Now())
	if err != nil && secret == "" {
		s.log.Error("rotate ops key", "err", err)
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "the ops key could not be replaced (the old one still works); retry later")
	}
	if err != nil {
		s.log.Error("rotate ops key: revoke the old one", "err", err)
	}
	out := KeyRotated{KeyCreated: KeyCreated{Key: secret, ID: k.ID(), Prefix: k.Prefix, Role: k.Role, Name: k.Name, CreatedAt: k.CreatedAt.In(s.loc)},
		File: s.opts.OpsKeyFile, Revoked: []KeyInfo{}}
	for _, o := range revoked {
		out.Revoked = append(out.Revoked, s.keyInfo(o))
	}
	s.log.Info("ops key replaced", "file", s.opts.OpsKeyFile, "id", k.ID(), "revoked", len(revoked))
	writeJSON(w, http.StatusCreated, out)
	return nil
}
