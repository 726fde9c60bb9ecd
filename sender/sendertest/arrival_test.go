package sendertest

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// A request is stamped with the kernel's receive time: between the client's
// send and the answer, and (on Linux) not a time.Now of the handler, which
// carries a monotonic reading.
func TestArrivalIsWhenTheKernelReceived(t *testing.T) {
	s := NewServer(t, Config{})
	for i := range 3 { // a fresh connection, then kept-alive ones
		before := time.Now()
		req, err := http.NewRequest(http.MethodPost, s.URL+"/v2/contact/phone:+593990000001/message", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		after := time.Now()
		got := s.Requests()[i].At
		if got.Before(before.Round(0)) || got.After(after.Round(0)) {
			t.Errorf("request %d: arrival %v is not between send %v and answer %v", i, got, before, after)
		}
		if runtime.GOOS == "linux" && got != got.Round(0) {
			t.Errorf("request %d: arrival %v is the handler's clock, not the kernel's receive time", i, got)
		}
	}
}

// Serve, which pregon sandbox uses, stamps requests as New does: the
// limit counts the kernel's receive time, not the handler's start.
func TestServeStampsArrivals(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var stamps []time.Time
	cfg := Config{PerSecond: 25, Respond: func(r *Request) (int, string) {
		mu.Lock()
		stamps = append(stamps, r.At)
		mu.Unlock()
		return 0, ""
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- Serve(ctx, ln, cfg) }()
	url := "http://" + ln.Addr().String()
	for i := range 3 {
		before := time.Now()
		resp, _ := send(t, "POST", url+"/v2/contact/phone:+593990000001/message", "t", `{}`)
		after := time.Now()
		mu.Lock()
		got, inWindow := stamps[i], 0
		for _, at := range stamps {
			if got.Sub(at) < time.Second {
				inWindow++
			}
		}
		mu.Unlock()
		if want := strconv.Itoa(25 - inWindow); resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Remaining") != want {
			t.Errorf("request %d: %d, X-RateLimit-Remaining %q, want 200 and %s", i, resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"), want)
		}
		if got.Before(before.Round(0)) || got.After(after.Round(0)) {
			t.Errorf("request %d: arrival %v is not between send %v and answer %v", i, got, before, after)
		}
		if runtime.GOOS == "linux" && got != got.Round(0) {
			t.Errorf("request %d: arrival %v is the handler's clock, not the kernel's receive time", i, got)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
