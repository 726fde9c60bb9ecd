package sendertest

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The first connections are reset once their request arrived, with no
// answer, and the request is on the record by the time the client sees
// the reset; later connections are served.
func TestResetFirstConnections(t *testing.T) {
	s := NewServer(t, Config{ResetFirst: 2, Sandbox: true})
	client := &http.Client{Transport: &http.Transport{}} // its own connections, none kept from other tests
	defer client.CloseIdleConnections()
	contacts := []string{"phone:+593990000001", "phone:+593990000002", "phone:+593990000003"}
	for i, c := range contacts {
		body := `{"message":{"type":"text","text":"hola"}}`
		req, err := http.NewRequest("POST", s.URL+"/v2/contact/"+c+"/message", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer t")
		resp, err := client.Do(req)
		if i < 2 {
			if err == nil {
				resp.Body.Close()
				t.Fatalf("request %d: answered %d, want a reset", i, resp.StatusCode)
			}
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("request %d: %v, want a connection reset", i, err)
			}
		} else {
			if err != nil {
				t.Fatalf("request %d: %v, want an answer", i, err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("request %d: status %d, want 200", i, resp.StatusCode)
			}
		}
		// The client saw the outcome: the fake has the request already.
		got := s.Requests()
		if len(got) != i+1 {
			t.Fatalf("after request %d the fake recorded %d requests", i, len(got))
		}
		r := got[i]
		want := 0
		if i == 2 {
			want = 200
		}
		if r.Status != want || r.Method != "POST" || r.Contact != c || r.Token != "t" || string(r.Body) != body || r.At.IsZero() {
			t.Errorf("request %d recorded as %+v", i, r)
		}
	}
	if got := s.ByContact(); len(got) != 1 || got[contacts[2]] != 1 {
		t.Errorf("ByContact = %v, want only the served request", got)
	}
}

// What arrives first need not be a whole request: the request line is
// recorded when it is there, and the connection is reset all the same.
func TestResetFirstRecordsWhatArrived(t *testing.T) {
	cases := []struct {
		name, sent, method, path, contact string
	}{
		{"headers cut short", "POST /api/v1/message/sendContent/3001 HTTP/1.1\r\nHost: x\r\nAuthori", "POST", "/api/v1/message/sendContent/3001", "3001"},
		{"escaped contact", "POST /v2/contact/phone:%2B593990000001/message HTTP/1.1\r\n", "POST", "/v2/contact/phone:%2B593990000001/message", "phone:+593990000001"},
		{"request line cut short", "POST /v1/message/sendCon", "", "", ""},
		{"not HTTP", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "", "", ""},
	}
	s := NewServer(t, Config{ResetFirst: len(cases)})
	for i, c := range cases {
		conn, err := net.Dial("tcp", s.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, c.sent); err != nil {
			t.Fatal(err)
		}
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("%s: read %v, want a connection reset", c.name, err)
		}
		got := s.Requests()
		if len(got) != i+1 {
			t.Fatalf("%s: the fake recorded %d requests, want %d", c.name, len(got), i+1)
		}
		if r := got[i]; r.Status != 0 || r.Method != c.method || r.Path != c.path || r.Contact != c.contact {
			t.Errorf("%s: recorded %+v", c.name, r)
		}
	}
}

// Closing the fake ends connections still waiting for their first bytes.
func TestResetFirstClosesWaitingConnections(t *testing.T) {
	s := New(Config{ResetFirst: 1})
	conn, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	l := s.Listener.(*resettingListener)
	for waiting := 0; waiting == 0; time.Sleep(time.Millisecond) {
		l.mu.Lock()
		waiting = len(l.pending)
		l.mu.Unlock()
	}
	s.Close()
	// A generous deadline only to fail rather than hang if Close left the
	// connection open.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var ne net.Error
	if _, err := conn.Read(make([]byte, 1)); err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("the connection is still open after Close (read: %v)", err)
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("recorded %d requests from a connection that sent nothing", n)
	}
}
