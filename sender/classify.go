package sender

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pregon/pregon/campaign"
)

// Verdict is what one answer means.
type Verdict struct {
	// Outcome is what to record for the contact.
	Outcome campaign.Outcome
	// Retry: the message was certainly not delivered and may be tried again
	// in this run (429, 449, 408, 503, or a request that never left).
	Retry bool
	// Stop, when not NoProblem, says no further request of the run can
	// succeed: the run stops after recording this outcome.
	Stop Problem
	// Platform: the answer is in one of the API's own shapes, so the
	// address and the API version are right, whatever it said.
	Platform bool
}

// Problem is why a whole run must stop.
type Problem int

// The problems that stop a run.
const (
	NoProblem       Problem = iota
	TokenRejected           // 401 from the API
	WrongAddress            // 405 from the API, or a redirect: wrong base URL or API version
	NotTheAPI               // an answer in none of the API's shapes: a web site, a proxy's page
	Unreachable             // the platform cannot be reached: DNS, TLS, refused connections
	SandboxMismatch         // a sandbox answered a real send, or the platform a rehearsal
)

// Classify decides what an answer means. It is the whole delivery policy,
// and the README's states table says the same:
//
//   - 2xx in the API's success shape (v2: an object with messageId; v1:
//     status "success" in any case): sent.
//   - 2xx in any other shape: something answered that is not the API, and
//     may have acted on the request: unknown, and the run stops.
//   - 401 (token), 405 (method or path) from the API, and any redirect:
//     the token or the address is wrong; the run stops, the contact stays
//     pending.
//   - 429, 449, 408, 503: not processed; retried later in the run.
//   - other 4xx from the API (400, 403, 404, 409): the platform refused this
//     contact; failed, permanently.
//   - 4xx in no API shape (a web server's 404 page, a WAF's 403): the API
//     never took the request; pending, and the run stops.
//   - 500, 502, 504 and other 5xx: the platform, or a gateway in front of it,
//     may have acted on the request; unknown. A 502 is a gateway that got a
//     bad answer from the API, which may have come after the API sent the
//     message: retrying it could message the customer twice.
//   - no answer, nothing written (refused, reset, timeout while waiting):
//     retried; a name that does not resolve or a TLS failure stops the run.
//   - no answer after bytes were written (reset, timeout): unknown.
func Classify(r Response) Verdict {
	if r.Err != nil {
		return classifyTransport(r)
	}
	o := campaign.Outcome{HTTPStatus: r.Status}
	shape := shapeOf(r.Body)
	platform := shape == successShape(r.API) || shape == errorShape(r.API)
	msg := platformMessage(r, shape)
	v := Verdict{Platform: platform}
	switch s := r.Status; {
	case s >= 200 && s < 300 && shape == successShape(r.API):
		o.State = campaign.Sent
		o.MessageID = messageID(r.Body)
	case s >= 200 && s < 300:
		o.State = campaign.Unknown
		o.Reason = why(campaign.NotAPISuccess, s, describeBody(r))
		v.Stop, v.Platform = NotTheAPI, false
	case s >= 300 && s < 400:
		o.State = campaign.Pending
		o.Reason = why(campaign.Redirect, s, r.Header.Get("Location"))
		v.Stop = WrongAddress
	case s == http.StatusTooManyRequests || s == 449 || s == http.StatusRequestTimeout || s == http.StatusServiceUnavailable:
		o.State = campaign.Pending
		o.Reason = why(campaign.TryLater, s, msg)
		v.Retry = true
	case s >= 400 && s < 500 && !platform:
		o.State = campaign.Pending
		o.Reason = why(campaign.NotAPIError, s, describeBody(r))
		v.Stop = NotTheAPI
	case s == http.StatusUnauthorized:
		o.State = campaign.Pending
		o.Reason = why(campaign.TokenRejected, s, msg)
		v.Stop = TokenRejected
	case s == http.StatusMethodNotAllowed:
		o.State = campaign.Pending
		o.Reason = why(campaign.WrongAddress, s, msg)
		v.Stop = WrongAddress
	case s >= 400 && s < 500:
		o.State = campaign.Failed
		o.Permanent = true
		o.Reason = why(campaign.Refused, s, msg)
	default: // 500, 502, 504 and anything else: the platform may have acted on it
		o.State = campaign.Unknown
		if !platform {
			msg = describeBody(r)
		}
		o.Reason = why(campaign.MaybeDelivered, s, msg)
	}
	v.Outcome = o
	return v
}

// classifyTransport decides what a request that got no answer means.
func classifyTransport(r Response) Verdict {
	cause := transportCause(r.Err)
	if r.Wrote {
		return Verdict{Outcome: campaign.Outcome{State: campaign.Unknown, Reason: campaign.Reason{Code: campaign.NoAnswer, Cause: &cause}}}
	}
	v := Verdict{Retry: true, Outcome: campaign.Outcome{State: campaign.Pending, Reason: campaign.Reason{Code: campaign.NotSent, Cause: &cause}}}
	if unreachable(r.Err) {
		v.Retry, v.Stop = false, Unreachable
	}
	return v
}

// unreachable reports an error that the next request would meet too: a
// host name that does not exist, or a TLS connection that cannot be
// trusted or is not TLS at all.
func unreachable(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsNotFound
	}
	var (
		verify   *tls.CertificateVerificationError
		header   tls.RecordHeaderError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		alert    tls.AlertError
	)
	return errors.As(err, &verify) || errors.As(err, &header) || errors.As(err, &unknown) ||
		errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &alert) ||
		// net/http turns a TLS record that looks like HTTP into this
		// untyped error: an https base URL for a plain http port.
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// shape is which of the API's forms a body has.
type shape int

const (
	otherShape shape = iota
	v1Success        // {"status":"Success"|"success", …}
	v2Success        // {"messageId": …}
	v1Error          // {"status":"error","message":…}
	v2Error          // {"code":N,"message":…}
)

// successShape and errorShape are the API version's own shapes: the other
// version's answer means a base URL for the wrong version.
func successShape(api string) shape {
	if api == "v1" {
		return v1Success
	}
	return v2Success
}

func errorShape(api string) shape {
	if api == "v1" {
		return v1Error
	}
	return v2Error
}

// shapeOf reads a body for the API's shapes; a web page, a proxy's JSON or
// an empty body are none of them.
func shapeOf(body []byte) shape {
	var v struct {
		Status    *string         `json:"status"`
		Message   json.RawMessage `json:"message"`
		Code      json.RawMessage `json:"code"`
		MessageID json.RawMessage `json:"messageId"`
	}
	if json.Unmarshal(body, &v) != nil {
		return otherShape
	}
	var code float64
	switch {
	case len(v.MessageID) > 0 && string(v.MessageID) != "null":
		return v2Success
	case v.Status != nil && strings.EqualFold(*v.Status, "success"):
		return v1Success
	case len(v.Message) == 0: // both error shapes carry a message, of any JSON type
	case v.Status != nil && strings.EqualFold(*v.Status, "error"):
		return v1Error
	case json.Unmarshal(v.Code, &code) == nil:
		return v2Error
	}
	return otherShape
}

// platformMessage is the "message" the platform put in an error answer
// (a validation error may carry a list of them), else the status text.
func platformMessage(r Response, s shape) string {
	if s != v1Error && s != v2Error {
		return http.StatusText(r.Status)
	}
	var body struct {
		Message json.RawMessage `json:"message"`
	}
	_ = json.Unmarshal(r.Body, &body)
	var text string
	var list []string
	switch {
	case json.Unmarshal(body.Message, &text) == nil:
	case json.Unmarshal(body.Message, &list) == nil:
		text = strings.Join(list, "; ")
	default:
		text = string(body.Message)
	}
	if text = strings.TrimSpace(text); text == "" {
		return http.StatusText(r.Status)
	}
	return clip(text, 300)
}

// describeBody says what came back, for an answer that is not the API's:
// its content type and first characters, on one line.
func describeBody(r Response) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "no content type"
	}
	text := strings.Join(strings.FieldsFunc(string(r.Body), unicode.IsSpace), " ")
	if text == "" {
		return fmt.Sprintf("%s, empty body", ct)
	}
	return fmt.Sprintf("%s, %q", ct, clip(text, 80))
}

// messageID reads v2's {"messageId": 123}, or the id in v1's
// {"data": {"id": 123}} that some brands answer; other v1 answers carry none.
func messageID(body []byte) string {
	var v struct {
		MessageID json.RawMessage `json:"messageId"`
		Data      json.RawMessage `json:"data"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	id := v.MessageID
	if len(id) == 0 || string(id) == "null" {
		var data struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(v.Data, &data) != nil {
			return ""
		}
		id = data.ID
	}
	if len(id) == 0 || string(id) == "null" {
		return ""
	}
	if s, err := strconv.Unquote(string(id)); err == nil {
		return s
	}
	return string(id)
}

// why is a reason with values.
func why(code campaign.Code, args ...any) campaign.Reason {
	return campaign.Reason{Code: code, Args: args}
}

// transportCause is why a request got no answer: a timeout, a stop, or
// the system's own words.
func transportCause(err error) campaign.Reason {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return campaign.Reason{Code: campaign.TimedOut}
	case errors.Is(err, context.Canceled):
		return campaign.Reason{Code: campaign.Cancelled}
	}
	return why(campaign.Network, transportReason(err))
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
