package api

import (
	"container/list"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Slow clients. A client that holds no valid key must not be able to hold
// the server: the key is checked as soon as the headers are in, before any
// of the body is read; a refused request is answered at once and its
// connection closed without waiting for the rest of its body; every body
// has a read deadline (Options.BodyTimeout); headers have theirs
// (HTTPOptions.ReadHeaderTimeout); and connections that have not yet sent a
// whole request are limited in number (HTTPOptions.MaxPendingConns), the
// oldest dropped first, so that slow talkers are shed while a real client,
// whose request arrives in milliseconds, always gets in.

// CodeTimeout is the error code of a request whose body did not arrive in
// time.
const CodeTimeout = "request_timeout"

// Defaults of HTTPOptions and Options.BodyTimeout.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxPendingConns   = 256
	DefaultBodyTimeout       = 10 * time.Second
)

// HTTPOptions configures NewHTTPServer; the zero value means the defaults.
type HTTPOptions struct {
	// ReadHeaderTimeout bounds the time to read a request's headers
	// (default 5 s).
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle that long (default
	// 2 min).
	IdleTimeout time.Duration
	// MaxPendingConns bounds the connections that have not yet sent a
	// whole request's headers (default 256); past it the oldest is closed.
	MaxPendingConns int
	// BaseContext is http.Server.BaseContext.
	BaseContext func(net.Listener) context.Context
}

// NewHTTPServer returns the http.Server that serves h with the limits
// above. The body deadline is the API Server's own (Options.BodyTimeout),
// set per request once the key is checked.
func NewHTTPServer(h http.Handler, o HTTPOptions) *http.Server {
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxPendingConns <= 0 {
		o.MaxPendingConns = DefaultMaxPendingConns
	}
	g := &pendingConns{max: o.MaxPendingConns, order: list.New(), at: map[net.Conn]*list.Element{}}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       o.BaseContext,
		ConnState:         g.track,
	}
}

// pendingConns limits the connections in state http.StateNew: accepted,
// with no whole request read yet.
type pendingConns struct {
	max   int
	mu    sync.Mutex // guards order and at
	order *list.List // of net.Conn, oldest first
	at    map[net.Conn]*list.Element
}

func (p *pendingConns) track(c net.Conn, st http.ConnState) {
	var drop net.Conn
	p.mu.Lock()
	if st == http.StateNew {
		p.at[c] = p.order.PushBack(c)
		if p.order.Len() > p.max {
			oldest := p.order.Front()
			drop = oldest.Value.(net.Conn)
			p.order.Remove(oldest)
			delete(p.at, drop)
		}
	} else if e, ok := p.at[c]; ok {
		p.order.Remove(e)
		delete(p.at, c)
	}
	p.mu.Unlock()
	if drop != nil {
		drop.Close()
	}
}

// hasBody reports whether the request comes with a body still to read.
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// bodyDeadline gives the request's body a read deadline of d from now; the
// deadline is lifted when the body has been read to its end, so that a long
// handler is not cut short by it.
func bodyDeadline(w http.ResponseWriter, r *http.Request, d time.Duration) {
	if !hasBody(r) {
		return
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(d)) != nil {
		return
	}
	r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
}

// refuseBody marks a request refused before its body was read: the answer
// closes the connection, and the rest of the body is not waited for.
func refuseBody(w http.ResponseWriter, r *http.Request) {
	if !hasBody(r) {
		return
	}
	w.Header().Set("Connection", "close")
	http.NewResponseController(w).SetReadDeadline(time.Now())
}

type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// isTimeout reports whether a body read failed on its deadline.
func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}
