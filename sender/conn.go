package sender

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// errAbandoned is returned by a write for a request its caller has already
// given up on (a timeout or a stop while it waited for its slot): those
// bytes must never leave, or "not written" would be a lie.
var errAbandoned = errors.New("request abandoned before it was written")

// attempt is one request's passage through a gatedConn. The HTTP transport
// writes from its own goroutine, after the request's trace hooks ran, so
// the connection is where pregon learns whether any byte left.
type attempt struct {
	ctx context.Context // the request's: a wait for the slot ends with it

	mu        sync.Mutex // held by the write, and by the caller to abandon it
	abandoned bool
	held      bool      // the gate did not admit it: it never reached the wire
	wrote     bool      // some of the request's bytes went to the connection
	wroteAt   time.Time // when its first write ended
	inWindow  int       // sends in the rate window at that moment
}

// abandon makes sure no byte of the request is written from now on, and
// reports whether any was: a write in progress finishes first.
func (a *attempt) abandon() (wrote, held bool, at time.Time, inWindow int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.abandoned = true
	return a.wrote, a.held && !a.wrote, a.wroteAt, a.inWindow
}

// gatedConn holds the first write of each request until the gate admits
// it, so that the moment the rate limit counts is the moment the request
// leaves, not the moment a connection was found for it (another goroutine
// does the writing, and may run a few milliseconds later on a busy
// machine).
type gatedConn struct {
	net.Conn
	client *Client
	next   atomic.Pointer[attempt] // handed over by the request's GotConn
	cur    *attempt                // the request being written; the writer's own
}

func (c *gatedConn) Write(p []byte) (int, error) {
	first := false
	if a := c.next.Swap(nil); a != nil {
		c.cur, first = a, true
	}
	a := c.cur
	if a == nil { // a connection not made for one of our requests
		return c.Conn.Write(p)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.abandoned {
		return 0, errAbandoned
	}
	if first && c.client.gate != nil {
		written, err := c.client.gate(a.ctx)
		if err != nil {
			a.held = true
			return 0, err // not admitted: nothing of it leaves
		}
		defer func() { a.inWindow = written() }()
	}
	n, err := c.Conn.Write(p)
	if n > 0 && !a.wrote {
		a.wrote, a.wroteAt = true, time.Now()
	}
	return n, err
}

// dialers returns the transport's dial functions that wrap every
// connection in a gatedConn. TLS is done here, and only HTTP/1.1 is
// offered: with HTTP/2 many requests share one connection's writes, and
// the platform takes one message per call anyway.
func (c *Client) dialers() (plain, withTLS func(ctx context.Context, network, addr string) (net.Conn, error)) {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	plain = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &gatedConn{Conn: conn, client: c}, nil
	}
	withTLS = func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		host, _, _ := net.SplitHostPort(addr)
		tc := tls.Client(raw, &tls.Config{ServerName: host, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12, RootCAs: c.roots})
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			raw.Close()
			return nil, err
		}
		return &gatedConn{Conn: tc, client: c}, nil
	}
	return plain, withTLS
}
