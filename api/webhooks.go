package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// Webhooks are an operator's webhook endpoints and their deliveries; the
// internal/webhooks package provides them (cmd/tafweej wires it in). Errors
// wrapping store.ErrNotFound answer 404; an error with a Field() method is
// a refused input (400).
type Webhooks interface {
	Add(ctx context.Context, operator, url string) (store.WebhookEndpoint, error)
	List(operator string) []store.WebhookEndpoint
	Remove(operator, id string) error
	Rotate(operator, id string) (store.WebhookEndpoint, error)
	Deliveries(operator, id string) ([]store.WebhookDelivery, error)
	Replay(operator, id, delivery string) (store.WebhookDelivery, error)
}

// WebhookRequest is the body of POST /v1/webhooks.
type WebhookRequest struct {
	URL string `json:"url"`
}

// WebhookCreated answers POST /v1/webhooks and POST
// /v1/webhooks/{id}/rotate: the only answers that show the secret.
type WebhookCreated struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Secret    string    `json:"secret"`
	CreatedAt time.Time `json:"created_at"`
	RotatedAt time.Time `json:"rotated_at,omitzero"`
}

// Webhook is an endpoint as listed (no secret).
type Webhook struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
	RotatedAt time.Time `json:"rotated_at,omitzero"`
}

// WebhookList answers GET /v1/webhooks.
type WebhookList struct {
	Webhooks []Webhook `json:"webhooks"`
}

// WebhookDeliveryList answers GET /v1/webhooks/{id}/deliveries, newest
// first.
type WebhookDeliveryList struct {
	Deliveries []store.WebhookDelivery `json:"deliveries"`
}

var webhookBody = body{fields: []string{"url"}, forbidden: forbid(assigned, "id", "secret", "operator", "created_at")}

// maxDeliveriesListed bounds GET /v1/webhooks/{id}/deliveries.
const maxDeliveriesListed = 500

// webhookRoutes are the endpoints of operators' webhooks.
func (s *Server) webhookRoutes() []route {
	op := []string{auth.RoleOperator}
	return []route{
		{"POST", "/v1/webhooks", op, s.addWebhook},
		{"GET", "/v1/webhooks", op, s.listWebhooks},
		{"DELETE", "/v1/webhooks/{id}", op, s.removeWebhook},
		{"POST", "/v1/webhooks/{id}/rotate", op, s.rotateWebhook},
		{"GET", "/v1/webhooks/{id}/deliveries", op, s.webhookDeliveries},
		{"POST", "/v1/webhooks/{id}/deliveries/{delivery}/replay", op, s.replayDelivery},
	}
}

func (s *Server) webhooks() (Webhooks, *apiError) {
	if s.opts.Webhooks == nil {
		return nil, errf(http.StatusServiceUnavailable, CodeUnavailable, "", "webhooks are not enabled on this service")
	}
	return s.opts.Webhooks, nil
}

func webhookError(err error) *apiError {
	var field interface{ Field() string }
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errf(http.StatusNotFound, scheduler.CodeNotFound, "id", "%s", trimStorePrefix(err.Error()))
	case errors.As(err, &field):
		return badRequest(field.Field(), "%s", err.Error())
	}
	return errf(http.StatusInternalServerError, CodeInternal, "", "the webhook change could not be stored; retry later")
}

func trimStorePrefix(msg string) string {
	const p = "store: not found: "
	if len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}

// addWebhook: POST /v1/webhooks.
func (s *Server) addWebhook(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	wh, e := s.webhooks()
	if e != nil {
		return e
	}
	var in WebhookRequest
	present, e := decode(r, webhookBody, &in)
	if e != nil {
		return e
	}
	if !present["url"] || in.URL == "" {
		return badRequest("url", "url is required: where to POST the events (e.g. \"https://hooks.example.com/tafweej\")")
	}
	ep, err := wh.Add(r.Context(), p.Operator, in.URL)
	if err != nil {
		return webhookError(err)
	}
	w.Header().Set("Location", "/v1/webhooks/"+ep.ID)
	writeJSON(w, http.StatusCreated, WebhookCreated{ID: ep.ID, URL: ep.URL, Secret: ep.Secret, CreatedAt: ep.CreatedAt.In(s.loc)})
	return nil
}

// listWebhooks: GET /v1/webhooks — the caller's endpoints.
func (s *Server) listWebhooks(w http.ResponseWriter, _ *http.Request, p *principal) *apiError {
	wh, e := s.webhooks()
	if e != nil {
		return e
	}
	out := WebhookList{Webhooks: []Webhook{}}
	for _, ep := range wh.List(p.Operator) {
		h := Webhook{ID: ep.ID, URL: ep.URL, CreatedAt: ep.CreatedAt.In(s.loc)}
		if !ep.RotatedAt.IsZero() {
			h.RotatedAt = ep.RotatedAt.In(s.loc)
		}
		out.Webhooks = append(out.Webhooks, h)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// removeWebhook: DELETE /v1/webhooks/{id}.
func (s *Server) removeWebhook(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	wh, e := s.webhooks()
	if e != nil {
		return e
	}
	if err := wh.Remove(p.Operator, r.PathValue("id")); err != nil {
		return webhookError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateWebhook: POST /v1/webhooks/{id}/rotate.
func (s *Server) rotateWebhook(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	wh, e := s.webhooks()
	if e != nil {
		return e
	}
	ep, err := wh.Rotate(p.Operator, r.PathValue("id"))
	if err != nil {
		return webhookError(err)
	}
	writeJSON(w, http.StatusOK, WebhookCreated{ID: ep.ID, URL: ep.URL, Secret: ep.Secret,
		CreatedAt: ep.CreatedAt.In(s.loc), RotatedAt: ep.RotatedAt.In(s.loc)})
	return nil
}

// webhookDeliveries: GET /v1/webhooks/{id}/deliveries.
func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	wh, e := s.webhooks()
	if e != nil {
		return e
	}
	ds, err := wh.Deliveries(p.Operator, r.PathValue("id"))
	if err != nil {
		return webhookError(err)
	}
	if len(ds) > maxDeliveriesListed {
		ds = ds[:maxDeliveriesListed]
	}
	if ds == nil {
		ds = []store.WebhookDelivery{}
	}
	writeJSON(w, http.StatusOK, WebhookDeliveryList{Deliveries: ds})
	return nil
}

// replayDelivery: POST /v1/webhooks/{id}/deliveries/{delivery}/replay.
func (s *Server) replayDelivery(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	wh, e := s.webhooks()
	if e != nil {
		return e
	}
	d, err := wh.Replay(p.Operator, r.PathValue("id"), r.PathValue("delivery"))
	if err != nil {
		return webhookError(err)
	}
	writeJSON(w, http.StatusAccepted, d)
	return nil
}
