package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pregon/pregon/campaign"
)

// Verdict is what one answer means.
type Verdict struct {
	// Outcome is what to record for the contact.
	Outcome campaign.Outcome
	// Retry: the message was certainly not delivered and may be tried again
	// in this run (connection refused, 429, 449, 502, 503).
	Retry bool
	// Stop: the token or the endpoint is wrong; no further request can
	// succeed, so the run stops. The contact stays pending.
	Stop bool
}

// Classify decides what an answer means. It is the whole delivery policy:
//
//   - 2xx: sent.
//   - 401, 405, and redirects: the token or the URL is wrong; stop the run,
//     the contact stays pending.
//   - 400, 403, 404, 409 (and other 4xx): the platform refused this contact;
//     failed, permanently.
//   - 429, 449, 502, 503: not delivered, try again later.
//   - 500, 504 and other 5xx: the platform may have delivered it; unknown.
//   - no answer, request not fully written (refused, DNS, TLS): retry.
//   - no answer after the request was written (reset, timeout): unknown.
func Classify(r Response) Verdict {
	if r.Err != nil {
		reason := transportReason(r.Err)
		if !r.Wrote {
			return Verdict{Retry: true, Outcome: campaign.Outcome{State: campaign.Pending, Error: "not sent: " + reason}}
		}
		return Verdict{Outcome: campaign.Outcome{State: campaign.Unknown,
			Error: "the request was sent but no answer came back (" + reason + "): it may or may not have been delivered"}}
	}
	o := campaign.Outcome{HTTPStatus: r.Status}
	msg := platformMessage(r)
	switch s := r.Status; {
	case s >= 200 && s < 300:
		o.State = campaign.Sent
		o.MessageID = messageID(r.Body)
		return Verdict{Outcome: o}
	case s == http.StatusUnauthorized || s == http.StatusMethodNotAllowed || (s >= 300 && s < 400):
		o.State = campaign.Pending
		o.Error = fmt.Sprintf("%d %s: run stopped before this contact", s, msg)
		if s >= 300 && s < 400 {
			o.Error = fmt.Sprintf("%d redirect to %q: check the base URL", s, r.Header.Get("Location"))
		}
		return Verdict{Outcome: o, Stop: true}
	case s == http.StatusTooManyRequests || s == 449 || s == http.StatusBadGateway || s == http.StatusServiceUnavailable:
		o.State = campaign.Pending
		o.Error = fmt.Sprintf("%d %s", s, msg)
		return Verdict{Outcome: o, Retry: true}
	case s >= 400 && s < 500:
		o.State = campaign.Failed
		o.Permanent = true
		o.Error = fmt.Sprintf("%d %s", s, msg)
		return Verdict{Outcome: o}
	default: // 500, 504 and anything else: the platform may have acted on it
		o.State = campaign.Unknown
		o.Error = fmt.Sprintf("%d %s: it may or may not have been delivered", s, msg)
		return Verdict{Outcome: o}
	}
}

// platformMessage is the "message" the platform put in an error answer
// ({"status":"error","message":…} in v1, {"code":…,"message":…} in v2),
// else the status text.
func platformMessage(r Response) string {
	var body struct {
		Message any `json:"message"`
	}
	if json.Unmarshal(r.Body, &body) == nil {
		if m, ok := body.Message.(string); ok && strings.TrimSpace(m) != "" {
			return clip(strings.TrimSpace(m), 300)
		}
	}
	if t := strings.TrimSpace(string(r.Body)); t != "" && !strings.HasPrefix(t, "<") && !strings.HasPrefix(t, "{") {
		return clip(t, 300)
	}
	return http.StatusText(r.Status)
}

// messageID reads v2's {"messageId": 123}; v1 answers carry none.
func messageID(body []byte) string {
	var v struct {
		MessageID json.RawMessage `json:"messageId"`
	}
	if json.Unmarshal(body, &v) != nil || len(v.MessageID) == 0 || string(v.MessageID) == "null" {
		return ""
	}
	if s, err := strconv.Unquote(string(v.MessageID)); err == nil {
		return s
	}
	return string(v.MessageID)
}

func transportReason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	var ue *url.Error // drop the "Post <url>:" prefix: the contact is already on the record
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return clip(err.Error(), 300)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
