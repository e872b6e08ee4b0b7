package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/store"
)

// Console sign-in links: nobody types or pastes an API key into a gate
// tablet or the control room's screen. Operations ask for a link
// (POST /v1/console-links, `tafweej console-link --gate ID` or `--ops`);
// the link opens the console with a link token in the URL's fragment
// (#link=…, which browsers never send to a server nor put in a Referer).
// The page removes the fragment from the address bar and its history
// entry at once and claims the token (POST /v1/console-links/claim),
// which answers a new API key for that console: a gate key for that one
// gate, or an ops key. The page keeps the key the way it keeps a typed
// one.
//
// The link token is not an API key: it opens nothing by itself, it is
// signed by the service (HMAC-SHA256 with a key derived from the ticket
// signing key, so a restart keeps links valid and no new key file is
// needed), it expires LinkTTL after it was made (wall clock), and it is
// claimed once: the key it becomes is named after the token's nonce, and a
// second claim finds that key and is refused.

// LinkTTL is how long a console sign-in link can be claimed.
const LinkTTL = 10 * time.Minute

// linkPrefix starts every link token.
const linkPrefix = "tfl1."

// Consoles a link can open.
const (
	ConsoleGate = "gate"
	ConsoleOps  = "ops"
)

// ConsoleLinkRequest is the body of POST /v1/console-links.
type ConsoleLinkRequest struct {
	Console string `json:"console"` // gate or ops
	Gate    string `json:"gate,omitempty"`
}

// ConsoleLink is the answer of POST /v1/console-links: Path is the
// console's path with the token in the fragment; put the service's own
// address before it.
type ConsoleLink struct {
	Path      string    `json:"path"`
	Token     string    `json:"token"`
	Console   string    `json:"console"`
	Gate      string    `json:"gate,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ClaimRequest is the body of POST /v1/console-links/claim.
type ClaimRequest struct {
	Token string `json:"token"`
}

// ClaimAnswer is the answer of a claim: the console's new API key.
type ClaimAnswer struct {
	Key     string   `json:"key"`
	Prefix  string   `json:"prefix"`
	Role    string   `json:"role"`
	Gates   []string `json:"gates,omitempty"`
	Console string   `json:"console"`
	Gate    string   `json:"gate,omitempty"`
}

var (
	consoleLinkBody = body{fields: []string{"console", "gate"}}
	claimBody       = body{fields: []string{"token"}}
)

// linkClaims is what a link token says.
type linkClaims struct {
	Console string `json:"c"`
	Gate    string `json:"g,omitempty"`
	Nonce   string `json:"n"`
	Expires int64  `json:"e"` // Unix seconds
}

func (s *Server) linkKey() []byte { return s.signer.Derive("console-link") }

func (s *Server) signLink(c linkClaims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, s.linkKey())
	m.Write(payload)
	enc := base64.RawURLEncoding
	return linkPrefix + enc.EncodeToString(payload) + "." + enc.EncodeToString(m.Sum(nil)), nil
}

var errLink = errors.New("not a console sign-in link of this service")

func (s *Server) verifyLink(token string) (linkClaims, error) {
	var c linkClaims
	rest, ok := strings.CutPrefix(token, linkPrefix)
	p64, s64, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return c, errLink
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p64)
	sig, err2 := enc.DecodeString(s64)
	if err1 != nil || err2 != nil {
		return c, errLink
	}
	m := hmac.New(sha256.New, s.linkKey())
	m.Write(payload)
	if !hmac.Equal(sig, m.Sum(nil)) {
		return c, errLink
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Nonce == "" || (c.Console != ConsoleGate && c.Console != ConsoleOps) {
		return c, errLink
	}
	return c, nil
}

// createConsoleLink: POST /v1/console-links (ops).
func (s *Server) createConsoleLink(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	var in ConsoleLinkRequest
	if _, e := decode(r, consoleLinkBody, &in); e != nil {
		return e
	}
	switch in.Console {
	case ConsoleGate:
		if in.Gate == "" {
			return badRequest("gate", "a gate console's link needs the gate it scans at (known: %s)", s.gateList())
		}
		if _, ok := s.cfg.Gate(in.Gate); !ok {
			return badRequest("gate", "unknown gate %q (known: %s)", in.Gate, s.gateList())
		}
	case ConsoleOps:
		if in.Gate != "" {
			return badRequest("gate", "gate %q is only for a link to the gate console", in.Gate)
		}
	default:
		return badRequest("console", "console %q is not a console (accepted: gate, ops)", in.Console)
	}
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "no link could be made now; retry")
	}
	exp := time.Now().Add(LinkTTL).Truncate(time.Second)
	token, err := s.signLink(linkClaims{Console: in.Console, Gate: in.Gate, Nonce: hex.EncodeToString(nonce[:]), Expires: exp.Unix()})
	if err != nil {
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "no link could be made now; retry")
	}
	writeJSON(w, http.StatusCreated, ConsoleLink{Path: "/" + in.Console + "#link=" + token, Token: token,
		Console: in.Console, Gate: in.Gate, ExpiresAt: exp.In(s.loc)})
	return nil
}

// claimConsoleLink: POST /v1/console-links/claim (no key: the token is
// the credential, once).
func (s *Server) claimConsoleLink(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	var in ClaimRequest
	if _, e := decode(r, claimBody, &in); e != nil {
		return e
	}
	c, err := s.verifyLink(in.Token)
	if err != nil {
		return errf(http.StatusUnauthorized, CodeUnauthorized, "token",
			"this sign-in link is not valid: ask operations for a new one (tafweej console-link)")
	}
	if time.Now().Unix() > c.Expires {
		return errf(http.StatusUnauthorized, CodeUnauthorized, "token",
			"this sign-in link expired at %s (links last %s): ask operations for a new one (tafweej console-link)",
			time.Unix(c.Expires, 0).In(s.loc).Format("15:04"), LinkTTL)
	}
	name := "console link " + c.Nonce
	role, gates := auth.RoleOps, []string(nil)
	if c.Console == ConsoleGate {
		role, gates = auth.RoleGate, []string{c.Gate}
	}
	s.claimMu.Lock()
	defer s.claimMu.Unlock()
	keys, err := s.st.ListKeys()
	if err != nil {
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "the link could not be checked now; retry")
	}
	if slices.ContainsFunc(keys, func(k store.APIKey) bool { return k.Name == name }) {
		return errf(http.StatusUnauthorized, CodeUnauthorized, "token",
			"this sign-in link was already used: ask operations for a new one (tafweej console-link)")
	}
	secret, k, err := auth.CreateKey(s.st, role, "", gates, name, time.Now())
	if err != nil {
		s.log.Error("store console key", "err", err)
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "the console's key could not be stored; retry")
	}
	s.log.Info("console link claimed", "console", c.Console, "gate", c.Gate, "key", k.Prefix)
	writeJSON(w, http.StatusCreated, ClaimAnswer{Key: secret, Prefix: k.Prefix, Role: k.Role, Gates: k.Gates,
		Console: c.Console, Gate: c.Gate})
	return nil
}
