package sendertest

import (
	"context"
	"net"
	"sync/atomic"
	"time"
)

// The fake stamps each request with the moment the kernel received it, not
// the moment its handler ran: a handler can start milliseconds late when
// the test's process is busy (seen: 9.8 ms), and the rate limit the tests
// check is counted in windows only 3 ms wider than a second. Where the
// kernel gives no timestamps, the handler's start is used.

// stampingListener accepts connections whose reads carry the kernel's
// receive time, and counts them.
type stampingListener struct {
	net.Listener
	accepted *atomic.Int64
}

func (l stampingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	l.accepted.Add(1)
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	read := kernelStamps(tc)
	if read == nil {
		return c, nil
	}
	return &stampedConn{Conn: tc, read: read}, nil
}

// stampedConn remembers when the kernel received the bytes of its latest
// read: a request's headers arrive in one segment and are read at once, so
// when the handler starts this is the request's arrival.
//
// It embeds net.Conn, not *net.TCPConn, whose WriteTo would read past Read.
type stampedConn struct {
	net.Conn // a *net.TCPConn
	read     func(p []byte) (int, time.Time, error)
	last     atomic.Int64 // Unix nanoseconds
}

// SetLinger lets cut reset the connection, as on a bare TCP connection.
func (c *stampedConn) SetLinger(sec int) error { return c.Conn.(*net.TCPConn).SetLinger(sec) }

func (c *stampedConn) Read(p []byte) (int, error) {
	n, at, err := c.read(p)
	if n > 0 {
		c.last.Store(at.UnixNano())
	}
	return n, err
}

type connKey struct{}

// conn is what handlers know of their connection.
type conn struct {
	net.Conn
	answers atomic.Int64 // for CloseEvery
}

// withConn is the server's ConnContext: handlers find their connection.
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &conn{Conn: c})
}

// connOf is the connection of the request being handled; nil when the
// server was not given withConn (Handler).
func connOf(ctx context.Context) *conn {
	c, _ := ctx.Value(connKey{}).(*conn)
	return c
}

// arrival is when the request being handled reached the machine.
func arrival(ctx context.Context) time.Time {
	if c := connOf(ctx); c != nil {
		return lastRead(c.Conn)
	}
	return time.Now()
}

// lastRead is when the kernel received the bytes of the connection's
// latest read, or now where it gave no timestamp.
func lastRead(c net.Conn) time.Time {
	if c, ok := c.(*stampedConn); ok {
		if ns := c.last.Load(); ns != 0 {
			return time.Unix(0, ns)
		}
	}
	return time.Now()
}
