package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// Error codes of the API's own (the scheduler's refusal codes are passed
// through as they are).
const (
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeInFlight         = "idempotency_key_in_flight"
	CodeTooLarge         = "request_too_large"
	CodeMediaType        = "unsupported_media_type"
	CodeRateLimited      = "rate_limited"
	CodeNotReady         = "not_ready"
	CodeUnavailable      = "unavailable"
	// CodeInsufficientStorage (507): the disk is nearly full; the change
	// was not made (store.ErrInsufficientStorage).
	CodeInsufficientStorage = "insufficient_storage"
	CodeInternal            = "internal"
)

// apiError is an error answer with its HTTP status.
type apiError struct {
	status int
	body   Error
	// retryAfter, in seconds, is sent as Retry-After when positive.
	retryAfter int
}

func (e *apiError) Error() string { return e.body.Code + ": " + e.body.Message }

func errf(status int, code, field, format string, args ...any) *apiError {
	return &apiError{status: status, body: Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}}
}

func badRequest(field, format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, scheduler.CodeInvalid, field, format, args...)
}

// statusOf is the HTTP status of a scheduler refusal code.
func statusOf(code string) int {
	switch code {
	case scheduler.CodeInvalid:
		return http.StatusBadRequest
	case scheduler.CodeNotFound:
		return http.StatusNotFound
	case scheduler.CodeNoCapacity, scheduler.CodeClosed, scheduler.CodeOverShare, scheduler.CodeConflict,
		scheduler.CodeRequestWindow, scheduler.CodeCutoff:
		return http.StatusConflict
	case scheduler.CodeOutsideHours, scheduler.CodeIdempotencyMismatch:
		return http.StatusUnprocessableEntity
	}
	return http.StatusUnprocessableEntity
}

// fromEngine turns what Engine.Do or Read returned into an error answer, or
// nil if the command was applied and not refused.
func fromEngine(res scheduler.Result, err error) *apiError {
	if err != nil {
		return engineError(err)
	}
	if res.Err != nil {
		return fromRefusal(res.Err)
	}
	return nil
}

func fromRefusal(err error) *apiError {
	var se *scheduler.Error
	if errors.As(err, &se) {
		return &apiError{status: statusOf(se.Code), body: Error{
			Code: se.Code, Message: se.Message, Field: se.Field, Alternatives: se.Alternatives}}
	}
	return errf(http.StatusInternalServerError, CodeInternal, "", "%v", err)
}

func engineError(err error) *apiError {
	var ie *engine.InternalError
	switch {
	case errors.Is(err, store.ErrInsufficientStorage):
		e := errf(http.StatusInsufficientStorage, CodeInsufficientStorage, "", "%v; retry later", err)
		e.retryAfter = 30
		return e
	case errors.As(err, &ie):
		return internalError(ie.ID)
	case errors.Is(err, engine.ErrStore):
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "",
			"the change could not be stored and was not made; retry later")
	case errors.Is(err, engine.ErrStopped):
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "the service is shutting down; retry later")
	default:
		return errf(http.StatusServiceUnavailable, CodeUnavailable, "", "the request was not completed: %v", err)
	}
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	encodeAnswer(status, v).write(w)
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tafweej"`)
	}
	writeJSON(w, e.status, ErrorResponse{Error: e.body})
}
