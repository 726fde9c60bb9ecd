package sender

import (
	"context"
	"crypto/x509"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pregon/pregon/sender/sendertest"
)

// Over TLS, as every real brand is served, requests go through our own
// dialer and the pacer's gate runs once per request, at its first write.
func TestTLSRequestsAreGatedOncePerRequest(t *testing.T) {
	srv := httptest.NewTLSServer(sendertest.Handler(sendertest.Config{}))
	defer srv.Close()
	c, err := NewClient(srv.URL, "t", 4, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.roots = x509.NewCertPool()
	c.roots.AddCert(srv.Certificate())
	var gated atomic.Int32
	c.gate = func(context.Context) (func() int, error) { gated.Add(1); return func() int { return 1 }, nil }
	for i := range 5 {
		r := c.Send(context.Background(), "/v2/contact/id:1/message", []byte(`{"message":{"type":"text","text":"hola"}}`))
		if r.Err != nil || r.Status != 200 || !r.Wrote {
			t.Fatalf("request %d: %+v", i, r)
		}
	}
	if n := gated.Load(); n != 5 {
		t.Errorf("gate ran %d times for 5 requests", n)
	}
}

// A request whose context has ended is never admitted, even when a slot is
// free at that moment (a select picks at random among ready cases).
func TestAdmitRefusesAnEndedContext(t *testing.T) {
	p := NewPacer(25, PacerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 200 {
		if _, err := p.Admit(ctx); err == nil {
			t.Fatal("admitted a request whose context had ended")
		}
	}
	if n := p.window.(*LocalWindow).Count(time.Now()); n != 0 {
		t.Errorf("the window holds %d sends", n)
	}
}
