package sendertest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// resettingListener resets the first connections it accepts once their
// first bytes have arrived, before any answer, the way a platform (or a
// proxy in front of it) drops a connection after the request was written.
// The HTTP server never sees those connections: the reset belongs to the
// connection, so the client meets it on the first read or write after its
// request went out, not after a handler parsed the request.
type resettingListener struct {
	net.Listener
	s *Server

	mu      sync.Mutex
	left    int // connections still to reset
	closed  bool
	pending map[net.Conn]bool // waiting for their first bytes
	wg      sync.WaitGroup
}

func (l *resettingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return c, err
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			c.Close()
			return nil, net.ErrClosed
		}
		if l.left == 0 {
			l.mu.Unlock()
			return c, nil
		}
		l.left--
		l.pending[c] = true
		l.wg.Add(1)
		l.mu.Unlock()
		go l.reset(c)
	}
}

// Close also ends the connections still waiting for their first bytes, so
// closing the server leaves no goroutine behind.
func (l *resettingListener) Close() error {
	err := l.Listener.Close()
	l.mu.Lock()
	l.closed = true
	for c := range l.pending {
		c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
	return err
}

// reset reads what arrived first, records it, then resets the connection.
// The request is on the record before the reset leaves the machine, so by
// the time the client sees the reset the fake has counted the request.
func (l *resettingListener) reset(c net.Conn) {
	defer l.wg.Done()
	buf := make([]byte, 64<<10)
	n, _ := c.Read(buf)
	if n > 0 {
		req := partialRequest(buf[:n])
		req.At = lastRead(c)
		l.s.record(req)
		if l.s.cfg.Log != nil {
			fmt.Fprintf(l.s.cfg.Log, "sandbox: %s %s reset %s\n", req.At.Format("15:04:05.000"), req.Path, summarize(req.Body))
		}
	}
	if tc, ok := c.(interface{ SetLinger(int) error }); ok {
		tc.SetLinger(0) // close with a RST, not a FIN
	}
	c.Close()
	l.mu.Lock()
	delete(l.pending, c)
	l.mu.Unlock()
}

// partialRequest makes a Request (Status 0) of the first bytes of a
// connection: the whole request when they hold its headers, with as much
// of the body as arrived; else the method and path of the request line
// when that line is complete.
func partialRequest(b []byte) Request {
	if r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b))); err == nil {
		body, _ := io.ReadAll(r.Body) // what arrived of it
		ep := route(r.URL.Path, false)
		return Request{Method: r.Method, Path: r.URL.EscapedPath(), Contact: ep.contact, Body: body, Token: bearer(r.Header), endpoint: ep.kind}
	}
	line, _, complete := bytes.Cut(b, []byte("\r\n"))
	method, rest, ok := strings.Cut(string(line), " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !complete || !ok || !ok2 || !strings.HasPrefix(proto, "HTTP/") {
		return Request{}
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return Request{Method: method}
	}
	ep := route(u.Path, false)
	return Request{Method: method, Path: u.EscapedPath(), Contact: ep.contact, endpoint: ep.kind}
}
