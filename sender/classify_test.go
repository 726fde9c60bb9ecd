package sender

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"

	"github.com/pregon/pregon/campaign"
)

func TestClassify(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}
	reset := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}
	timeout := &url.Error{Op: "Post", URL: "http://x", Err: context.DeadlineExceeded}
	tests := []struct {
		name      string
		resp      Response
		state     campaign.State
		retry     bool
		stop      bool
		permanent bool
		msgID     string
	}{
		{"200 v1", Response{Status: 200, Body: []byte(`{"status":"Success","message":"Message Sent","data":[]}`)}, campaign.Sent, false, false, false, ""},
		{"201 template", Response{Status: 201}, campaign.Sent, false, false, false, ""},
		{"200 v2 with messageId", Response{Status: 200, Body: []byte(`{"messageId":123}`)}, campaign.Sent, false, false, false, "123"},
		{"401 token", Response{Status: 401, Body: []byte(`{"status":"error","message":"API Token is invalid."}`)}, campaign.Pending, false, true, false, ""},
		{"405 endpoint", Response{Status: 405}, campaign.Pending, false, true, false, ""},
		{"301 redirect", Response{Status: 301, Header: http.Header{"Location": {"https://x"}}}, campaign.Pending, false, true, false, ""},
		{"400 validation", Response{Status: 400}, campaign.Failed, false, false, true, ""},
		{"403 refused", Response{Status: 403, Body: []byte(`{"status":"error","message":"Sorry, Url provided is not an image/audio/video file"}`)}, campaign.Failed, false, false, true, ""},
		{"404 contact", Response{Status: 404}, campaign.Failed, false, false, true, ""},
		{"409 conflict", Response{Status: 409}, campaign.Failed, false, false, true, ""},
		{"429 rate limit", Response{Status: 429}, campaign.Pending, true, false, false, ""},
		{"449 try later", Response{Status: 449}, campaign.Pending, true, false, false, ""},
		{"502 bad gateway", Response{Status: 502}, campaign.Pending, true, false, false, ""},
		{"503 unavailable", Response{Status: 503}, campaign.Pending, true, false, false, ""},
		{"500 may have delivered", Response{Status: 500}, campaign.Unknown, false, false, false, ""},
		{"504 may have delivered", Response{Status: 504}, campaign.Unknown, false, false, false, ""},
		{"refused before writing", Response{Err: refused}, campaign.Pending, true, false, false, ""},
		{"reset after writing", Response{Err: reset, Wrote: true}, campaign.Unknown, false, false, false, ""},
		{"timeout after writing", Response{Err: timeout, Wrote: true}, campaign.Unknown, false, false, false, ""},
		{"timeout before writing", Response{Err: timeout}, campaign.Pending, true, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Classify(tt.resp)
			if v.Outcome.State != tt.state || v.Retry != tt.retry || v.Stop != tt.stop || v.Outcome.Permanent != tt.permanent || v.Outcome.MessageID != tt.msgID {
				t.Errorf("got state=%s retry=%v stop=%v permanent=%v id=%q, want %s %v %v %v %q (%s)",
					v.Outcome.State, v.Retry, v.Stop, v.Outcome.Permanent, v.Outcome.MessageID,
					tt.state, tt.retry, tt.stop, tt.permanent, tt.msgID, v.Outcome.Error)
			}
		})
	}
}

func TestClassifyKeepsPlatformMessage(t *testing.T) {
	v := Classify(Response{Status: 403, Body: []byte(`{"code":403,"message":"Contact has opted out"}`)})
	if v.Outcome.Error != "403 Contact has opted out" {
		t.Errorf("error = %q", v.Outcome.Error)
	}
	v = Classify(Response{Err: &url.Error{Op: "Post", URL: "http://h/v2/contact/phone:+1/message", Err: errors.New("boom")}, Wrote: true})
	if want := "the request was sent but no answer came back (boom): it may or may not have been delivered"; v.Outcome.Error != want {
		t.Errorf("error = %q, want %q", v.Outcome.Error, want)
	}
}
