package campaign

import (
	"encoding/json"
	"testing"
)

// A message reads back as the customer sees it: a template's text as the
// platform holds it, with this row's values in place of {{1}}, {{2}}…
func TestPreview(t *testing.T) {
	const tmpl = `{"name":"x","api":"v2","channelId":7,"message":{"type":"whatsapp_template","template":{"name":"aviso","languageCode":"es","components":[
		{"type":"header","format":"document","parameters":[{"type":"document","document":{"link":"{{pdf}}","filename":"factura.pdf"}}]},
		{"type":"body","text":"Hola {{1}}, tu factura {{2}}.","parameters":[{"type":"text","text":"{{nombre}}"},{"type":"text","text":"{{factura}}"}]},
		{"type":"buttons","buttons":[{"type":"url","text":"Pagar","url":"https://pagos.marca.com"}]}]}}}`
	platform := &PlatformTemplate{Components: []PlatformComponent{
		{Type: "HEADER", Format: "DOCUMENT"},
		{Type: "BODY", Text: "Hola {{1}}, adjuntamos tu factura {{ 2 }}; {{3}} queda así."},
		{Type: "FOOTER", Text: "Marca S.A."},
		{Type: "BUTTONS", Buttons: []Button{{Type: "URL", Text: "Ver", URL: "https://marca.com/f"}, {Type: "PHONE_NUMBER", Text: "Llamar", PhoneNumber: "+593991000001"}}},
	}}
	csv := "phone,nombre,factura,pdf\n+593991000001,Ana Peña,F-1,https://cdn.marca.com/f/1.pdf\n"
	params := []Parameter{
		{Component: "header", Index: 1, Type: "document", Value: "https://cdn.marca.com/f/1.pdf", Filename: "factura.pdf"},
		{Component: "body", Index: 1, Type: "text", Value: "Ana Peña"},
		{Component: "body", Index: 2, Type: "text", Value: "F-1"},
	}
	tests := []struct {
		name, campaign, csv string
		platform            *PlatformTemplate
		want                Preview
	}{
		{"template, its text known", tmpl, csv, platform, Preview{Line: 2, Contact: "phone:+593991000001", Type: "whatsapp_template",
			Template: &TemplateShown{Name: "aviso", LanguageCode: "es", TextKnown: true, Parameters: params},
			Header:   &Header{Format: "document", Link: "https://cdn.marca.com/f/1.pdf", Filename: "factura.pdf"},
			Text:     "Hola Ana Peña, adjuntamos tu factura F-1; {{3}} queda así.", Footer: "Marca S.A.",
			Buttons: []Button{{Type: "url", Text: "Ver", URL: "https://marca.com/f"}, {Type: "phone_number", Text: "Llamar", PhoneNumber: "+593991000001"}}}},
		{"template, its text not read", tmpl, csv, nil, Preview{Line: 2, Contact: "phone:+593991000001", Type: "whatsapp_template",
			Template: &TemplateShown{Name: "aviso", LanguageCode: "es", Parameters: params},
			Buttons:  []Button{{Type: "url", Text: "Pagar", URL: "https://pagos.marca.com"}}}},
		{"text header", `{"name":"x","api":"v2","message":{"type":"whatsapp_template","template":{"name":"t","languageCode":"es","components":[
			{"type":"header","format":"text","parameters":[{"type":"text","text":"{{nombre}}"}]}]}}}`, csv,
			&PlatformTemplate{Components: []PlatformComponent{{Type: "header", Format: "text", Text: "Para {{1}}"}}},
			Preview{Line: 2, Contact: "phone:+593991000001", Type: "whatsapp_template",
				Template: &TemplateShown{Name: "t", LanguageCode: "es", TextKnown: true, Parameters: []Parameter{{Component: "header", Index: 1, Type: "text", Value: "Ana Peña"}}},
				Header:   &Header{Format: "text", Text: "Para Ana Peña"}}},
		{"v2 text", `{"name":"x","api":"v2","message":{"type":"text","text":"Hola {{nombre}}\nchau"}}`, csv, nil,
			Preview{Line: 2, Contact: "phone:+593991000001", Type: "text", Text: "Hola Ana Peña\nchau"}},
		{"v2 attachment", `{"name":"x","api":"v2","message":{"type":"attachment","attachment":{"type":"file","url":"{{pdf}}"}}}`, csv, nil,
			Preview{Line: 2, Contact: "phone:+593991000001", Type: "attachment", Attachment: &Attachment{Type: "file", URL: "https://cdn.marca.com/f/1.pdf", FileName: "1.pdf"}}},
		{"v1 quick reply", `{"name":"x","api":"v1","forceCancelSurvey":true,"message":{"type":"quick_reply","title":"{{nombre}}, ¿vienes?","replies":["Sí","No"]}}`,
			"contact_id,nombre\n42,Ana\n", nil, Preview{Line: 2, Contact: "42", Type: "quick_reply", Title: "Ana, ¿vienes?", Replies: []string{"Sí", "No"}}},
		{"v1 image", `{"name":"x","api":"v1","message":{"type":"image","url":"https://cdn.marca.com/promo.jpg?v=2"}}`,
			"contact_id\n42\n", nil, Preview{Line: 2, Contact: "42", Type: "image", Attachment: &Attachment{Type: "image", URL: "https://cdn.marca.com/promo.jpg?v=2", FileName: "promo.jpg"}}},
		{"e-mail", `{"name":"x","api":"v2","message":{"type":"email","subject":"Tu pedido","text":"Hola {{nombre}}"}}`, csv, nil,
			Preview{Line: 2, Contact: "phone:+593991000001", Type: "email", Subject: "Tu pedido", Text: "Hola Ana Peña"}},
		{"custom payload", `{"name":"x","api":"v2","channelId":7,"message":{"type":"custom_payload","payload":{ "a": "{{nombre}}" }}}`, csv, nil,
			Preview{Line: 2, Contact: "phone:+593991000001", Type: "custom_payload", Payload: json.RawMessage(`{"a":"Ana Peña"}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.campaign)
			msgs := readAll(t, c, writeFile(t, "c.csv", tt.csv))
			if msgs[0].Problem != nil {
				t.Fatal(msgs[0].Problem)
			}
			got, _ := json.MarshalIndent(c.Preview(msgs[0], tt.platform), "", " ")
			want, _ := json.MarshalIndent(tt.want, "", " ")
			if string(got) != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
