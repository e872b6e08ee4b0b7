package webhooks

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tafweej/tafweej/store"
)

// deliveryHeap orders pending deliveries by their next attempt.
type deliveryHeap []store.WebhookDelivery

func (h deliveryHeap) Len() int           { return len(h) }
func (h deliveryHeap) Less(i, j int) bool { return h[i].NextAttempt.Before(h[j].NextAttempt) }
func (h deliveryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deliveryHeap) Push(x any)        { *h = append(*h, x.(store.WebhookDelivery)) }
func (h *deliveryHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	old[len(old)-1] = store.WebhookDelivery{}
	*h = old[:len(old)-1]
	return d
}

func queueKey(d store.WebhookDelivery) string { return d.Endpoint + "/" + d.ID }

// push queues a pending delivery. The caller holds s.mu.
func (s *Service) push(d store.WebhookDelivery) {
	k := queueKey(d)
	if s.queued[k] {
		return
	}
	s.queued[k] = true
	heap.Push(&s.queue, d)
	s.m.pending.Set(float64(len(s.queued)))
}

// signal wakes the dispatcher.
func (s *Service) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Committed queues the deliveries of a turn, now durable (engine.Outbox).
// It never blocks on the network.
func (s *Service) Committed(out []store.WebhookDelivery) {
	s.mu.Lock()
	for _, d := range out {
		s.push(d)
	}
	s.mu.Unlock()
	s.signal()
}

// Pending is the number of deliveries waiting or being attempted.
func (s *Service) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queued)
}

// Run delivers the outbox until ctx is done: a dispatcher hands the due
// deliveries to Options.Workers workers.
func (s *Service) Run(ctx context.Context) error {
	jobs := make(chan store.WebhookDelivery)
	var wg sync.WaitGroup
	for range s.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range jobs {
				s.attempt(ctx, d)
			}
		}()
	}
	defer wg.Wait()
	defer close(jobs)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var (
			due  store.WebhookDelivery
			have bool
			wait = time.Hour
		)
		if len(s.queue) > 0 {
			if w := s.queue[0].NextAttempt.Sub(s.now()); w <= 0 {
				due, have = heap.Pop(&s.queue).(store.WebhookDelivery), true
			} else {
				wait = w
			}
		}
		s.mu.Unlock()
		if have {
			select {
			case jobs <- due:
			case <-ctx.Done():
				return nil
			}
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// attempt makes one attempt of d and records its outcome (synced) before
// queueing the next one, if any.
func (s *Service) attempt(ctx context.Context, d store.WebhookDelivery) {
	defer func() {
		s.mu.Lock()
		s.m.pending.Set(float64(len(s.queued)))
		s.mu.Unlock()
	}()
	s.mu.Lock()
	ep, ok := s.endpoints[d.Endpoint]
	var epc store.WebhookEndpoint
	if ok {
		epc = *ep
	} else {
		delete(s.queued, queueKey(d)) // the endpoint was removed
	}
	s.mu.Unlock()
	if !ok {
		return
	}
	now := s.now()
	code, answer, err := s.post(ctx, epc, d, now)
	if ctx.Err() != nil {
		// Stopping: the attempt was cut short; it stays pending on disk
		// and is tried again at the next start.
		s.mu.Lock()
		delete(s.queued, queueKey(d))
		s.mu.Unlock()
		return
	}
	d.Attempts++
	d.LastAttempt, d.ResponseCode, d.Response, d.Error = now.UTC(), code, answer, ""
	outcome := "delivered"
	switch {
	case err == nil && code >= 200 && code < 300:
		d.Status, d.Delivered, d.NextAttempt = store.DeliveryDelivered, now.UTC(), time.Time{}
	default:
		if err != nil {
			d.Error = err.Error()
		} else {
			d.Error = fmt.Sprintf("answered HTTP %d; only 2xx delivers", code)
		}
		from := d.CreatedAt
		if d.Replayed.After(from) {
			from = d.Replayed
		}
		next := now.Add(s.backoff(d.Attempts))
		if next.Sub(from) > s.opts.MaxAge {
			d.Status, d.NextAttempt = store.DeliveryFailed, time.Time{}
			outcome = "failed"
		} else {
			d.NextAttempt = next.UTC()
			outcome = "retried"
		}
	}
	s.m.attempts.WithLabelValues(outcome).Inc()
	if outcome != "retried" {
		s.m.deliveries.WithLabelValues(outcome).Inc()
	}
	if outcome == "delivered" {
		s.m.latency.Observe(now.Sub(d.CreatedAt).Seconds())
	}
	perr := s.st.PutDelivery(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case errors.Is(perr, store.ErrNotFound):
		delete(s.queued, queueKey(d)) // the endpoint was removed meanwhile
	case perr != nil:
		// The outcome is not on disk: keep trying from memory; a restart
		// tries it again from its last stored state.
		s.log.Error("webhooks: store the outcome of a delivery", "endpoint", d.Endpoint, "delivery", d.ID, "err", perr)
		if d.Status != store.DeliveryPending {
			delete(s.queued, queueKey(d))
			return
		}
		heap.Push(&s.queue, d)
	case d.Status == store.DeliveryPending:
		heap.Push(&s.queue, d) // still in queued
		s.signal()
	default:
		delete(s.queued, queueKey(d))
		if d.Status == store.DeliveryFailed {
			s.log.Warn("webhooks: delivery failed after its retry period; it can be replayed",
				"endpoint", d.Endpoint, "delivery", d.ID, "attempts", d.Attempts, "last_error", d.Error)
		}
	}
}

// backoff is the wait after the n-th failed attempt: MinBackoff doubled
// n-1 times, at most MaxBackoff, and a random half to all of it (jitter,
// so that the retries of a burst spread out).
func (s *Service) backoff(n int) time.Duration {
	d := s.opts.MinBackoff
	for i := 1; i < n && d < s.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.opts.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// maxAnswer is how much of an answer's body is kept.
const maxAnswer = 256

// post sends d to ep, signed, and returns the answer's status and the start
// of its body.
func (s *Service) post(ctx context.Context, ep store.WebhookEndpoint, d store.WebhookDelivery, now time.Time) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, "", fmt.Errorf("build request: %v", err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	secrets := []string{ep.Secret}
	if ep.PreviousSecret != "" && now.Before(ep.PreviousUntil) {
		secrets = append(secrets, ep.PreviousSecret)
	}
	sig, err := Sign(secrets, d.ID, ts, d.Payload)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tafweej-webhooks/1")
	req.Header.Set("webhook-id", d.ID)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", sig)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", scrubURL(err, ep.URL)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	for !utf8.Valid(body) && len(body) > 0 {
		body = body[:len(body)-1]
	}
	return resp.StatusCode, string(body), nil
}

// scrubURL removes the endpoint's URL from a transport error (its query may
// hold a receiver's token), keeping the cause.
func scrubURL(err error, u string) error {
	return errors.New(strings.ReplaceAll(err.Error(), strconv.Quote(u), "the endpoint"))
}

// Sign is the webhook-signature header of a message: "v1,<signature>" for
// each secret, space-separated, where the signature is the base64
// HMAC-SHA256 of "<id>.<timestamp>.<body>" keyed with the base64-decoded
// part of the secret after "whsec_" (Standard Webhooks).
func Sign(secrets []string, id, timestamp string, body []byte) (string, error) {
	var parts []string
	for _, sec := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sec, "whsec_"))
		if err != nil {
			return "", errors.New("webhooks: an endpoint secret is not base64 after whsec_")
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + timestamp + "."))
		mac.Write(body)
		parts = append(parts, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(parts, " "), nil
}
