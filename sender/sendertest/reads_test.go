package sendertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// gotMessage is a message as a client decodes the fake's answer.
type gotMessage struct {
	MessageID        int64
	ChannelMessageID string
	ContactID        int64
	ChannelID        int64
	Traffic          string
	Message          json.RawMessage
	Status           []struct {
		Value     string
		Timestamp int64
		Message   string
	}
	Sender *struct{ Source string }
}

type gotList struct {
	Items      []gotMessage
	Pagination struct{ Next, Previous string }
}

// get reads url with the token t and decodes a 200's JSON into v; it
// returns the answer, its body read.
func get(t *testing.T, url string, v any) (*http.Response, string) {
	t.Helper()
	resp, body := send(t, "GET", url, "t", "")
	if resp.StatusCode == http.StatusOK && v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: %v in %s", url, err, body)
		}
	}
	return resp, body
}

func (m gotMessage) values() string {
	var v []string
	for _, s := range m.Status {
		v = append(v, s.Value)
	}
	return strings.Join(v, ",")
}

// A message read back shows what was sent and the status history Delivery
// gives its age: read right away, no further on than its age allows; read
// once every step is past, the whole history, each step stamped in the
// platform's clock and unit.
func TestReadAMessageAsItsStatusAdvances(t *testing.T) {
	const skew = 90 * time.Second
	for _, millis := range []bool{false, true} {
		t.Run(fmt.Sprintf("millis=%v", millis), func(t *testing.T) {
			d := Delivery{After: 300 * time.Millisecond, ReadAfter: 300 * time.Millisecond, ReadEvery: 1, FailEvery: -1}
			s := NewServer(t, Config{Delivery: d, TimestampMillis: millis, ClockSkew: skew})
			const msg = `{"type":"text","text":"Hola José"}`
			id := post(t, s, "phone:+593991000001", `{"channelId":4242,"message":`+msg+`}`)
			url := fmt.Sprintf("%s/v2/contact/phone:+593991000001/message/%d", s.URL, id)
			var early gotMessage
			get(t, url, &early)
			asked := time.Now()
			created := s.Stored()[0].At
			full := d.History(id, created, created.Add(time.Hour))
			if n := len(d.History(id, created, asked)); len(early.Status) == 0 || len(early.Status) > n {
				t.Errorf("read at age %v: %s, want at most %d steps", asked.Sub(created), early.values(), n)
			}
			time.Sleep(time.Until(created.Add(600*time.Millisecond + 10*time.Millisecond)))
			var late gotMessage
			get(t, url, &late)
			contactID := s.Stored()[0].ContactID
			if late.MessageID != id || late.ContactID != contactID || late.ChannelID != 4242 || late.Traffic != "outgoing" ||
				string(late.Message) != msg || late.Sender == nil || late.Sender.Source != "api" ||
				!strings.HasPrefix(late.ChannelMessageID, "wamid.") {
				t.Errorf("read %+v", late)
			}
			if late.values() != "pending,sent,delivered,read" || len(full) != 4 {
				t.Fatalf("read after every step: %s, want pending,sent,delivered,read", late.values())
			}
			for i, st := range late.Status {
				want := full[i].At.Add(skew).Unix()
				if millis {
					want = full[i].At.Add(skew).UnixMilli()
				}
				if st.Timestamp != want {
					t.Errorf("%s at %d, want %d", st.Value, st.Timestamp, want)
				}
			}
			if !slices.Equal(strings.Split(early.values(), ","), strings.Split(late.values(), ",")[:len(early.Status)]) {
				t.Errorf("early history %s is not the start of %s", early.values(), late.values())
			}
		})
	}
}

// A failed message's last status says why, in WhatsApp's words.
func TestReadAFailedMessage(t *testing.T) {
	s := NewServer(t, Config{Delivery: Delivery{After: -1, FailEvery: 1}})
	id := post(t, s, "phone:+593991000001", `{"message":{"type":"text","text":"hola"}}`)
	var m gotMessage
	get(t, fmt.Sprintf("%s/v2/contact/phone:+593991000001/message/%d", s.URL, id), &m)
	last := m.Status[len(m.Status)-1]
	ok := false
	for _, f := range failures {
		ok = ok || f.text == last.Message
	}
	if last.Value != "failed" || !ok {
		t.Errorf("history %+v, want it to end failed with one of WhatsApp's texts", m.Status)
	}
}

// A message is read through its own contact only: another contact, an id
// the platform never gave and one that is no number get the API's 404.
// "id:N" names the contact the platform numbered N, however it was first
// addressed.
func TestReadAnotherContactsMessageIsNotFound(t *testing.T) {
	s := NewServer(t, Config{})
	mine := post(t, s, "phone:+593991000001", `{"message":{"type":"text","text":"hola"}}`)
	post(t, s, "phone:+593991000002", `{"message":{"type":"text","text":"hola"}}`)
	for _, path := range []string{
		fmt.Sprintf("/v2/contact/phone:+593991000002/message/%d", mine),
		fmt.Sprintf("/v2/contact/email:jose@example.com/message/%d", mine),
		"/v2/contact/phone:+593991000001/message/999999",
		"/v2/contact/phone:+593991000001/message/abc",
	} {
		resp, body := get(t, s.URL+path, nil)
		if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/json" || body != `{"code":404,"message":"Message not found"}`+"\n" {
			t.Errorf("GET %s: %d %q %q, want the API's 404", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	byNumber := fmt.Sprintf("%s/v2/contact/id:%d/message/%d", s.URL, s.Stored()[0].ContactID, mine)
	if resp, body := get(t, byNumber, nil); resp.StatusCode != 200 {
		t.Errorf("GET by the contact's number: %d %s", resp.StatusCode, body)
	}
}

// walk follows a list's next links from its first page and returns the
// pages.
func walk(t *testing.T, first string) []gotList {
	t.Helper()
	var pages []gotList
	for url := first; url != ""; {
		var p gotList
		if resp, body := get(t, url, &p); resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
		}
		pages = append(pages, p)
		if len(pages) > 200 {
			t.Fatalf("more than 200 pages from %s", first)
		}
		url = p.Pagination.Next
	}
	return pages
}

// A contact's list, at any page size from 1 to 100, gives each of its
// messages exactly once across its pages, no other contact's; next and
// previous are full URLs carrying cursorId, next empty on the last page
// and previous on the first; the order follows neither time nor id.
func TestListPagesCoverEveryMessageOnce(t *testing.T) {
	s := NewServer(t, Config{})
	const contact = "phone:+593991000001"
	var sent []int64
	for i := range 37 {
		sent = append(sent, post(t, s, contact, fmt.Sprintf(`{"message":{"type":"text","text":"mensaje %d"}}`, i)))
		post(t, s, "phone:+593991000002", `{"message":{"type":"text","text":"otro"}}`)
	}
	base := s.URL + "/v2/contact/" + contact + "/message/list"
	for _, limit := range []int{1, 2, 7, 10, 36, 37, 100} {
		pages := walk(t, base+"?limit="+strconv.Itoa(limit))
		var got []int64
		for i, p := range pages {
			if len(p.Items) == 0 || len(p.Items) > limit {
				t.Errorf("limit %d, page %d: %d items", limit, i, len(p.Items))
			}
			for _, m := range p.Items {
				got = append(got, m.MessageID)
			}
			last := i == len(pages)-1
			if last != (p.Pagination.Next == "") || (i == 0) != (p.Pagination.Previous == "") {
				t.Errorf("limit %d, page %d of %d: next %q, previous %q", limit, i, len(pages), p.Pagination.Next, p.Pagination.Previous)
			}
			for _, link := range []string{p.Pagination.Next, p.Pagination.Previous} {
				if link != "" && (!strings.HasPrefix(link, base+"?") || !strings.Contains(link, "cursorId=")) {
					t.Errorf("limit %d, page %d: link %q is not a full URL of the list carrying cursorId", limit, i, link)
				}
			}
		}
		if want := (37 + limit - 1) / limit; len(pages) != want {
			t.Errorf("limit %d: %d pages, want %d", limit, len(pages), want)
		}
		sorted := slices.Sorted(slices.Values(got))
		if !slices.Equal(sorted, sent) {
			t.Errorf("limit %d: listed %v, want each of %v once", limit, got, sent)
		}
		if limit >= 10 && (slices.IsSorted(got) || slices.IsSortedFunc(got, func(a, b int64) int { return int(b - a) })) {
			t.Errorf("limit %d: listed in the order they were sent: %v", limit, got)
		}
		// previous from the second page leads back to the first.
		if len(pages) > 1 {
			var back gotList
			get(t, pages[1].Pagination.Previous, &back)
			if !slices.EqualFunc(back.Items, pages[0].Items, func(a, b gotMessage) bool { return a.MessageID == b.MessageID }) {
				t.Errorf("limit %d: previous of the second page is not the first", limit)
			}
		}
	}
	var def gotList
	get(t, base, &def)
	if len(def.Items) != 10 {
		t.Errorf("no limit: %d items, want 10", len(def.Items))
	}
	var none gotList
	if get(t, s.URL+"/v2/contact/phone:+593991000009/message/list", &none); len(none.Items) != 0 || none.Pagination.Next != "" || none.Items == nil {
		t.Errorf("a contact with no messages: %+v, want no items and no next page", none)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=diez", "limit=5&cursorId=x"} {
		resp, body := get(t, base+"?"+q, nil)
		if resp.StatusCode != 400 || !strings.HasPrefix(body, `{"code":400,"message":`) {
			t.Errorf("%s: %d %s, want the API's 400", q, resp.StatusCode, body)
		}
	}
}

// A dropped answer (-2) leaves the message on the platform: the client
// got no id, and the contact's list shows the message, sent by the API.
func TestDroppedAnswerIsInTheList(t *testing.T) {
	s := NewServer(t, Config{Respond: func(r *Request) (int, string) {
		if strings.Contains(string(r.Body), "PED-10232") {
			return -2, ""
		}
		return 0, ""
	}})
	const contact = "phone:+593991000002"
	first := post(t, s, contact, `{"message":{"type":"text","text":"Tu pedido PED-10231 está en camino"}}`)
	if id := post(t, s, contact, `{"message":{"type":"text","text":"Tu pedido PED-10232 está en camino"}}`); id != 0 {
		t.Fatalf("the dropped answer answered id %d", id)
	}
	var l gotList
	get(t, s.URL+"/v2/contact/"+contact+"/message/list?limit=100", &l)
	found := 0
	for _, m := range l.Items {
		if strings.Contains(string(m.Message), "PED-10232") && m.MessageID == first+1 && m.Traffic == "outgoing" && m.Sender.Source == "api" {
			found++
		}
	}
	if found != 1 || len(l.Items) != 2 {
		t.Errorf("the list %+v, want both messages, the dropped answer's once", l.Items)
	}
}

// Reads need the token, answer as the API does without one, and are
// recorded with their method and path; Messages and ByContact leave them
// out.
func TestReadsNeedTheTokenAndAreRecorded(t *testing.T) {
	s := NewServer(t, Config{Token: "t"})
	id := post(t, s, "phone:+593991000001", `{"message":{"type":"text","text":"hola"}}`)
	paths := []string{
		fmt.Sprintf("/v2/contact/phone:+593991000001/message/%d", id),
		"/v2/contact/phone:+593991000001/message/list",
		"/v2/space/channel/4242/template",
	}
	for _, p := range paths {
		for _, token := range []string{"", "otro"} {
			resp, body := send(t, "GET", s.URL+p, token, "")
			if resp.StatusCode != 401 || body != `{"code":401,"message":"API Token is invalid."}`+"\n" {
				t.Errorf("GET %s with token %q: %d %s, want the API's 401", p, token, resp.StatusCode, body)
			}
		}
		if resp, _ := send(t, "GET", s.URL+p, "t", ""); resp.StatusCode != 200 {
			t.Errorf("GET %s with the token: %d", p, resp.StatusCode)
		}
	}
	reqs := s.Requests()
	if len(reqs) != 1+3*len(paths) {
		t.Fatalf("recorded %d requests, want %d", len(reqs), 1+3*len(paths))
	}
	for i, r := range reqs[1:] {
		if r.Method != "GET" || r.Path != paths[i/3] {
			t.Errorf("request %d recorded as %s %s, want GET %s", i+1, r.Method, r.Path, paths[i/3])
		}
	}
	if m := s.Messages(); len(m) != 1 || m[0].Method != "POST" {
		t.Errorf("Messages = %+v, want the one send", m)
	}
	if got := s.ByContact(); len(got) != 1 || got["phone:+593991000001"] != 1 {
		t.Errorf("ByContact = %v, want the one send", got)
	}
}

// Reads spend the organization's quota with the sends, in one window,
// counted at arrival: each answer's Remaining counts the sends and reads
// before it, and the one beyond the limit gets 429 whatever it is.
func TestReadsShareTheLimitWithSends(t *testing.T) {
	const limit = 3
	s := NewServer(t, Config{PerSecond: limit})
	type step struct {
		method, path string
	}
	steps := []step{
		{"POST", "/v2/contact/phone:+593991000001/message"},
		{"GET", "/v2/contact/phone:+593991000001/message/list"},
		{"GET", "/v2/space/channel/4242/template"},
		{"GET", "/v2/contact/phone:+593991000001/message/1000"},
		{"POST", "/v2/contact/phone:+593991000002/message"},
	}
	var got []*http.Response
	for _, st := range steps {
		resp, _ := send(t, st.method, s.URL+st.path, "t", `{"message":{"type":"text","text":"hola"}}`)
		got = append(got, resp)
	}
	// What the limit must have said, from the arrivals the fake recorded:
	// a request is counted when fewer than limit were in the second
	// before it.
	reqs := s.Requests()
	var counted []time.Time
	for i, r := range reqs {
		in := 0
		for _, at := range counted {
			if at.After(r.At.Add(-time.Second)) {
				in++
			}
		}
		status, remaining := got[i].StatusCode, got[i].Header.Get("X-RateLimit-Remaining")
		wantRemaining := "0"
		if in < limit {
			counted = append(counted, r.At)
			wantRemaining = strconv.Itoa(limit - in - 1)
			if status == 429 {
				t.Errorf("%s %s: 429 with %d counted before it", steps[i].method, steps[i].path, in)
			}
		} else if status != 429 || got[i].Header.Get("Retry-After") != "1" {
			t.Errorf("%s %s: %d with %d counted before it, want 429 and Retry-After", steps[i].method, steps[i].path, status, in)
		}
		if remaining != wantRemaining || got[i].Header.Get("X-RateLimit-Limit") != "3" {
			t.Errorf("%s %s: X-RateLimit-Remaining %q of %q, want %s of 3", steps[i].method, steps[i].path, remaining, got[i].Header.Get("X-RateLimit-Limit"), wantRemaining)
		}
	}
	if len(counted) == len(reqs) {
		t.Errorf("every request was counted: the machine took over a second for %d requests, so the test proves nothing", len(reqs))
	}
}

// RespondRead fails or cuts reads and leaves sends alone; Respond leaves
// reads alone.
func TestRespondRead(t *testing.T) {
	s := NewServer(t, Config{
		Respond: func(r *Request) (int, string) { return http.StatusInternalServerError, "" },
		RespondRead: func(r *Request) (int, string) {
			switch {
			case strings.HasSuffix(r.Path, "/list"):
				return -1, ""
			case strings.HasSuffix(r.Path, "/template"):
				return http.StatusServiceUnavailable, "Service Unavailable"
			}
			return 0, ""
		},
	})
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} // no retry on a reused connection
	do := func(method, path string) (int, string, error) {
		req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer t")
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, err = io.Copy(&b, resp.Body)
		return resp.StatusCode, b.String(), err
	}
	if code, _, _ := do("POST", "/v2/contact/phone:+593991000001/message"); code != 500 {
		t.Errorf("send: %d, want Respond's 500", code)
	}
	if code, body, _ := do("GET", "/v2/contact/phone:+593991000001/message/1000"); code != 404 || !strings.Contains(body, "Message not found") {
		t.Errorf("read: %d %s, want a read (the send was refused: 404)", code, body)
	}
	if code, body, err := do("GET", "/v2/contact/phone:+593991000001/message/list"); err == nil {
		t.Errorf("list: %d %s, want the connection cut", code, body)
	}
	if code, body, _ := do("GET", "/v2/space/channel/4242/template"); code != 503 || body != `{"code":503,"message":"Service Unavailable"}`+"\n" {
		t.Errorf("templates: %d %s, want RespondRead's 503 in v2's shape", code, body)
	}
}
