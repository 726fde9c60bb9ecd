package sendertest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// post sends one v2 message and returns the id the fake answered, or 0
// when it answered none (an error or a cut connection).
func post(t *testing.T, s *Server, contact, body string) int64 {
	t.Helper()
	req, err := http.NewRequest("POST", s.URL+"/v2/contact/"+contact+"/message", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var got struct{ MessageID int64 }
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&got) != nil {
		return 0
	}
	return got.MessageID
}

// The platform keeps each v2 message it took, a dropped answer's too
// (Respond's -2), and nothing of a refused send, a connection cut before
// the platform took it (-1), or a v1 send.
func TestThePlatformKeepsWhatItTook(t *testing.T) {
	s := NewServer(t, Config{Respond: func(r *Request) (int, string) {
		switch r.Contact {
		case "phone:+593991000002":
			return -2, ""
		case "phone:+593991000003":
			return -1, ""
		case "phone:+593991000004":
			return http.StatusForbidden, "Contact is blocked"
		}
		return 0, ""
	}})
	const text = `{"type":"text","text":"Hola José"}`
	first := post(t, s, "phone:+593991000001", `{"channelId":77,"message":`+text+`}`)
	if id := post(t, s, "phone:+593991000002", `{"channelId":"77","message":{"type":"text","text":"Hola María"}}`); id != 0 {
		t.Errorf("a dropped answer answered id %d", id)
	}
	post(t, s, "phone:+593991000003", `{"message":{"type":"text","text":"Hola Ana"}}`)
	post(t, s, "phone:+593991000004", `{"message":{"type":"text","text":"Hola Luis"}}`)
	send(t, "POST", s.URL+"/v1/message/sendContent/3001", "t", `{"body":[{"type":"text","text":"hola"}]}`)
	after := post(t, s, "phone:+593991000001", `{"message":{"type":"text","text":"Otra vez"}}`)

	got := s.Stored()
	if len(got) != 3 {
		t.Fatalf("the platform keeps %d messages, want 3: %+v", len(got), got)
	}
	sends := s.Messages() // the v2 sends, then the v1 one, then the last
	want := []struct {
		id      int64
		contact string
		channel int64
		message string
	}{
		{first, "phone:+593991000001", 77, text},
		{first + 1, "phone:+593991000002", 77, `{"type":"text","text":"Hola María"}`},
		// The channel of the contact's last message, when the body names none.
		{after, "phone:+593991000001", 77, `{"type":"text","text":"Otra vez"}`},
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.id || g.Contact != w.contact || g.ChannelID != w.channel || string(g.Message) != w.message ||
			g.Traffic != "outgoing" || g.Source != "api" || g.Status[0].Value != "pending" {
			t.Errorf("kept %d: %+v, want id %d, %s, channel %d, %s, outgoing from the api, pending first", i, g, w.id, w.contact, w.channel, w.message)
		}
	}
	for i, j := range []int{0, 1, 5} {
		if !got[i].At.Equal(sends[j].At) {
			t.Errorf("kept %d at %v, want its arrival %v", i, got[i].At, sends[j].At)
		}
	}
	if got[0].ContactID != got[2].ContactID || got[0].ContactID == got[1].ContactID {
		t.Errorf("contact ids %d, %d, %d: want one per contact", got[0].ContactID, got[1].ContactID, got[2].ContactID)
	}
	// The v1 send took an id; refused and cut sends took none.
	if after != first+3 {
		t.Errorf("ids %d then %d, want the dropped answer's and the v1 send's between", first, after)
	}
	statuses := map[string]int{}
	for _, r := range s.Requests() {
		statuses[r.Contact] = r.Status
	}
	if statuses["phone:+593991000002"] != -2 || statuses["phone:+593991000003"] != -1 {
		t.Errorf("recorded statuses %v, want -2 and -1 for the cut connections", statuses)
	}
	if n := s.ByContact()["phone:+593991000002"]; n != 0 {
		t.Errorf("ByContact counts %d answered sends to the dropped answer's contact, want 0", n)
	}
}

// Each status comes at the age Delivery says, the same for a message's id
// whenever it is asked, and failures carry WhatsApp's words.
func TestDeliveryHistoryAdvancesWithAge(t *testing.T) {
	d := Delivery{After: 10 * time.Second, ReadAfter: time.Minute, ReadEvery: 3, FailEvery: 4}
	created := time.Unix(1_700_000_000, 0)
	values := func(h []Status) string {
		var v []string
		for _, s := range h {
			v = append(v, s.Value)
		}
		return strings.Join(v, ",")
	}
	finals := map[string]int{}
	for id := int64(1000); id < 3000; id++ {
		final := d.History(id, created, created.Add(time.Hour))
		last := final[len(final)-1]
		finals[last.Value]++
		cases := []struct {
			age  time.Duration
			want string
		}{
			{0, "pending"},
			{4 * time.Second, "pending"},
			{5 * time.Second, "pending,sent"},
			{10 * time.Second, "pending,sent,delivered"},
			{70 * time.Second, "pending,sent,delivered,read"},
		}
		for _, c := range cases {
			got := d.History(id, created, created.Add(c.age))
			want := c.want
			switch {
			case last.Value == "failed" && c.age >= 10*time.Second:
				want = values(final)
			case last.Value == "failed" && c.age >= 5*time.Second && len(final) == 2:
				want = "pending" // refused before it was ever sent
			case last.Value == "delivered" && c.age >= 70*time.Second:
				want = "pending,sent,delivered"
			}
			if values(got) != want {
				t.Fatalf("id %d at %v: %s, want %s", id, c.age, values(got), want)
			}
			for i, st := range got {
				if i > 0 && st.At.Before(got[i-1].At) {
					t.Fatalf("id %d at %v: %+v not newest last", id, c.age, got)
				}
			}
		}
		if last.Value == "failed" {
			ok := false
			for _, f := range failures {
				ok = ok || last.Message == f.text
			}
			if !ok || !last.At.Equal(created.Add(10*time.Second)) {
				t.Fatalf("id %d failed with %+v, want one of WhatsApp's texts at After", id, last)
			}
		} else if last.Message != "" {
			t.Fatalf("id %d: %+v carries a failure text", id, last)
		}
	}
	// About 1 in 4 fail; of the rest about 1 in 3 are read.
	if f := finals["failed"]; f < 400 || f > 600 {
		t.Errorf("%d of 2000 failed, want about 500: %v", f, finals)
	}
	if r := finals["read"]; r < 400 || r > 600 {
		t.Errorf("%d of 2000 read, want about 500: %v", r, finals)
	}
	never := Delivery{After: -1, FailEvery: -1, ReadEvery: -1}
	for id := int64(1000); id < 1100; id++ {
		if got := values(never.History(id, created, created)); got != "pending,sent,delivered" {
			t.Fatalf("id %d with no failures, no reads, delivered at once: %s", id, got)
		}
	}
}
