package campaign

import (
	"reflect"
	"testing"
)

func TestUnfilled(t *testing.T) {
	tests := []struct {
		name, campaign string
		want           []Unfilled
	}{
		{"filled", `{"name":"x","api":"v2","baseUrl":"https://api.marca.com","channelId":7,"message":{"type":"text","text":"Hola {{nombre}}, tenemos novedades…"}}`, nil},
		{"example address and channel", `{"name":"x","api":"v2","baseUrl":"https://API.example-brand.com/","channelId":0,"message":{"type":"text","text":"Hola"}}`,
			[]Unfilled{{UnfilledBaseURL, "baseUrl", "https://API.example-brand.com/"}, {UnfilledChannelID, "channelId", "0"}}},
		{"v1 example address", `{"name":"x","api":"v1","baseUrl":"https://app.example-brand.com/api","message":{"type":"text","text":"Hola"}}`,
			[]Unfilled{{UnfilledBaseURL, "baseUrl", "https://app.example-brand.com/api"}}},
		{"template name", `{"name":"x","api":"v2","message":{"type":"whatsapp_template","template":{"name":"nombre_de_la_plantilla","languageCode":"es"}}}`,
			[]Unfilled{{UnfilledTemplateName, "message.template.name", "nombre_de_la_plantilla"}}},
		{"words to write", `{"name":"x","api":"v1","message":{"type":"quick_reply","title":"{{Nombre}}, ¿…?","replies":["Sí","No"]}}`,
			[]Unfilled{{UnfilledText, "message.title", "{{Nombre}}, ¿…?"}}},
		{"text to write", `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{Nombre}}, …"}}`,
			[]Unfilled{{UnfilledText, "message.text", "Hola {{Nombre}}, …"}}},
		{"example image", `{"name":"x","api":"v2","message":{"type":"attachment","attachment":{"type":"image","url":"https://example-brand.com/imagen.jpg"}}}`,
			[]Unfilled{{UnfilledURL, "message.attachment.url", "https://example-brand.com/imagen.jpg"}}},
		{"an address filled in per row is the row's", `{"name":"x","api":"v2","message":{"type":"attachment","attachment":{"type":"image","url":"{{foto}}"}}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustParse(t, tt.campaign).Unfilled(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
