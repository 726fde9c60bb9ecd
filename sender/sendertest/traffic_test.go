package sendertest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// sameJSON says whether two JSON texts hold the same value.
func sameJSON(a, b []byte) bool {
	var va, vb any
	return json.Unmarshal(a, &va) == nil && json.Unmarshal(b, &vb) == nil && reflect.DeepEqual(va, vb)
}

func templateName(msg []byte) string {
	var m struct{ Template struct{ Name string } }
	json.Unmarshal(msg, &m)
	return m.Template.Name
}

// With OtherTraffic a contact's list holds, beside pregon's message, what
// the customer wrote and what agents, workflows and broadcasts sent: some
// of it the same template with other parameters, some of it after
// pregon's message. Pregon's message is the one with its content sent by
// the API, exactly once; a send cut before the platform took it is
// nowhere, though look-alikes sent after it are there.
func TestOtherTrafficSurroundsOurMessages(t *testing.T) {
	const cutContact = "phone:+593991000007"
	d := Delivery{After: 100 * time.Millisecond, ReadAfter: 100 * time.Millisecond}
	s := NewServer(t, Config{OtherTraffic: true, Delivery: d, Respond: func(r *Request) (int, string) {
		if r.Contact == cutContact {
			return -1, ""
		}
		return 0, ""
	}})
	ours := map[string]string{}
	for i := 1; i <= 8; i++ {
		contact := fmt.Sprintf("phone:+59399100000%d", i)
		ours[contact] = fmt.Sprintf(`{"type":"whatsapp_template","template":{"name":"delivery_order","languageCode":"es",`+
			`"components":[{"type":"body","parameters":[{"type":"text","text":"Cliente %d"},{"type":"text","text":"PED-1023%d"}]}]}}`, i, i)
		post(t, s, contact, `{"channelId":4242,"message":`+ours[contact]+`}`)
	}
	arrived := map[string]time.Time{}
	for _, r := range s.Messages() {
		arrived[r.Contact] = r.At
	}
	time.Sleep(time.Until(s.Messages()[7].At.Add(2*d.After + 2*d.ReadAfter)))

	sources := map[string]int{}
	lookAlikesAfter := 0
	for contact, msg := range ours {
		var items []gotMessage
		for _, p := range walk(t, s.URL+"/v2/contact/"+contact+"/message/list?limit=3") {
			items = append(items, p.Items...)
		}
		found := 0
		for _, m := range items {
			source := ""
			if m.Sender != nil {
				source = m.Sender.Source
			}
			sources[m.Traffic+"/"+source]++
			switch {
			case source == "api":
				if !sameJSON(m.Message, []byte(msg)) {
					t.Errorf("%s: the API's message %s, want %s", contact, m.Message, msg)
				}
				found++
			case sameJSON(m.Message, []byte(msg)):
				t.Errorf("%s: %s sent pregon's very message: %s", contact, source, m.Message)
			case m.Traffic == "outgoing" && templateName(m.Message) == "delivery_order" &&
				m.Status[0].Timestamp >= arrived[contact].Unix():
				lookAlikesAfter++
			}
		}
		want := 1
		if contact == cutContact {
			want = 0
		}
		if found != want {
			t.Errorf("%s: %d messages from the API in its list, want %d", contact, found, want)
		}
		if len(items) < 3+want {
			t.Errorf("%s: %d messages, want its past (3) and more", contact, len(items))
		}
	}
	for _, kind := range []string{"incoming/", "outgoing/user", "outgoing/workflow", "outgoing/broadcast", "outgoing/api"} {
		if sources[kind] == 0 {
			t.Errorf("no %s message in any list: %v", kind, sources)
		}
	}
	if lookAlikesAfter == 0 {
		t.Errorf("no other source sent delivery_order after pregon did: %v", sources)
	}
	api := 0
	for _, m := range s.Stored() {
		if m.Source == "api" {
			api++
		}
	}
	if api != 7 {
		t.Errorf("the platform keeps %d messages from the API, want 7", api)
	}
	// A contact pregon never wrote to has a past too.
	var l gotList
	if get(t, s.URL+"/v2/contact/phone:+593991000099/message/list", &l); len(l.Items) != 3 {
		t.Errorf("a contact first read: %d messages, want its past (3)", len(l.Items))
	}
}
