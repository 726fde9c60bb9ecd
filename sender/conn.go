package sender

import (
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"
	"time"
)

// gatedConn holds the first write of each request until the pacer admits
// it, so that the moment the rate limit counts is the moment the request
// leaves, not the moment a connection was found for it (another goroutine
// does the writing, and may run a few milliseconds later on a busy
// machine).
type gatedConn struct {
	net.Conn
	client *Client
	armed  atomic.Bool // set by the request's GotConn: its next write starts it
}

func (c *gatedConn) Write(p []byte) (int, error) {
	if c.armed.CompareAndSwap(true, false) && c.client.gate != nil {
		written := c.client.gate()
		defer written()
	}
	return c.Conn.Write(p)
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
