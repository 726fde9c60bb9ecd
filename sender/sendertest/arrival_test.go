package sendertest

import (
	"net/http"
	"runtime"
	"strings"
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
