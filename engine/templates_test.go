package engine

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/sender"
)

func TestMatchTemplate(t *testing.T) {
	approved := sender.Template{Name: "pedido_en_camino", LanguageCode: "es", Status: "APPROVED", Components: []sender.TemplateComponent{
		{Type: "HEADER", Format: "IMAGE"},
		{Type: "BODY", Text: "Hola {{1}}, tu pedido {{2}} está en camino. {{1}}, gracias."},
		{Type: "FOOTER", Text: "Gracias por tu compra"},
	}}
	list := []sender.Template{approved,
		{Name: "pedido_en_camino", LanguageCode: "en", Status: "APPROVED"},
		{Name: "promo_navidad", LanguageCode: "es", Status: "PENDING"},
		{Name: "recordatorio", LanguageCode: "es", Status: "REJECTED"},
	}
	ok := campaign.TemplateRef{Name: "pedido_en_camino", LanguageCode: "es", Parameters: map[string]int{"header": 1, "body": 2}}
	for _, tc := range []struct {
		name string
		ref  campaign.TemplateRef
		want string // "" for no error
	}{
		{"matches", ok, ""},
		{"language case", campaign.TemplateRef{Name: ok.Name, LanguageCode: "ES", Parameters: ok.Parameters}, ""},
		{"misspelt", campaign.TemplateRef{Name: "pedido_en_camno", LanguageCode: "es"}, `no template of that name; the closest: "pedido_en_camino"`},
		{"absent", campaign.TemplateRef{Name: "zzz", LanguageCode: "es"}, `no template of that name; its approved templates: "pedido_en_camino" (en), "pedido_en_camino" (es)`},
		{"other language", campaign.TemplateRef{Name: ok.Name, LanguageCode: "pt_BR", Parameters: ok.Parameters}, `it exists in es, en, not in "pt_BR"`},
		{"pending", campaign.TemplateRef{Name: "promo_navidad", LanguageCode: "es"}, "status on the platform is PENDING"},
		{"rejected", campaign.TemplateRef{Name: "recordatorio", LanguageCode: "es"}, "REJECTED"},
		{"one body parameter short", campaign.TemplateRef{Name: ok.Name, LanguageCode: "es", Parameters: map[string]int{"header": 1, "body": 1}}, "its body takes 2 parameters on the platform, the campaign gives 1"},
		{"no image", campaign.TemplateRef{Name: ok.Name, LanguageCode: "es", Parameters: map[string]int{"body": 2}}, "its header takes 1 parameters on the platform, the campaign gives 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := matchTemplate(tc.ref, list)
			var te *TemplateError
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected: %v", err)
			case tc.want != "" && (!errors.As(err, &te) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSameMessage(t *testing.T) {
	ours := []byte(`{"type":"whatsapp_template","template":{"name":"pedido","languageCode":"es","components":[{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"PED-1"}]}]}}`)
	for _, tc := range []struct {
		name   string
		theirs string
		same   bool
	}{
		{"identical", string(ours), true},
		{"keys reordered", `{"template":{"components":[{"parameters":[{"text":"Ana","type":"text"},{"text":"PED-1","type":"text"}],"type":"body"}],"languageCode":"es","name":"pedido"},"type":"whatsapp_template"}`, true},
		{"fields the platform adds", `{"type":"whatsapp_template","id":"wamid.x","template":{"name":"pedido","languageCode":"es","components":[{"type":"BODY","text":"Hola Ana","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"PED-1"}]}]}}`, true},
		{"other parameters", `{"type":"whatsapp_template","template":{"name":"pedido","languageCode":"es","components":[{"type":"body","parameters":[{"type":"text","text":"Luis"},{"type":"text","text":"PED-1"}]}]}}`, false},
		{"other template", `{"type":"whatsapp_template","template":{"name":"promo","languageCode":"es","components":[{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"PED-1"}]}]}}`, false},
		{"a text", `{"type":"text","text":"Ana"}`, false},
		{"empty", ``, false},
	} {
		if got := sameMessage(ours, []byte(tc.theirs)); got != tc.same {
			t.Errorf("%s: same = %v", tc.name, got)
		}
	}
	if !sameMessage([]byte(`{"type":"text","text":"Hola Ana"}`), []byte(`{"type":"text","text":"Hola Ana","messageTag":null}`)) {
		t.Error("a text with an extra field")
	}
}

// A listed message counts as ours only when it surely is; what could be
// ours and cannot be told apart leaves the contact unknown, never pending.
func TestJudgeItem(t *testing.T) {
	attempt := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	since := attempt.Add(-clockSkew)
	ours := json.RawMessage(`{"type":"text","text":"Hola Ana"}`)
	at := func(d time.Duration) []sender.Status { return []sender.Status{{Value: "sent", At: attempt.Add(d)}} }
	for _, tc := range []struct {
		name string
		m    sender.Message
		want itemVerdict
	}{
		{"ours", sender.Message{Outgoing: true, Source: "api", ChannelID: "1", Body: ours, Status: at(time.Second)}, itemOurs},
		{"incoming", sender.Message{Incoming: true, Body: ours, Status: at(time.Second)}, itemNotOurs},
		{"older", sender.Message{Outgoing: true, Body: ours, Status: at(-time.Hour)}, itemNotOurs},
		{"other channel", sender.Message{Outgoing: true, ChannelID: "2", Body: ours, Status: at(time.Second)}, itemNotOurs},
		{"other text", sender.Message{Outgoing: true, Body: json.RawMessage(`{"type":"text","text":"Hola Luis"}`), Status: at(time.Second)}, itemNotOurs},
		{"same text from a broadcast", sender.Message{Outgoing: true, Source: "broadcast", Body: ours, Status: at(time.Second)}, itemDoubt},
		{"no traffic said", sender.Message{Source: "api", Body: ours, Status: at(time.Second)}, itemDoubt},
		{"undated", sender.Message{Outgoing: true, Body: ours}, itemDoubt},
		{"cannot compare", sender.Message{Outgoing: true, Body: json.RawMessage(`{"type":"attachment","attachment":{"type":"image","url":"x"},"fileName":"a.jpg"}`), Status: at(time.Second)}, itemDoubt},
	} {
		if got := judgeItem(tc.m, ours, "1", since); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
