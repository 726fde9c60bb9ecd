package sendertest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Template is a WhatsApp template of a channel, as the platform lists it.
type Template struct {
	ID           int64 // 0: the fake numbers it, 7001 for the first of Config.Templates
	ChannelID    int64
	Name         string
	LanguageCode string
	Category     string          // UTILITY, MARKETING or AUTHENTICATION
	Status       string          // APPROVED, PENDING or REJECTED, in either case
	Components   json.RawMessage // a JSON array, in Meta's template format
}

// DefaultTemplates are DefaultChannel's templates when Config.Templates is
// nil: the samples' delivery_order (an image header, a body with {{1}}
// and {{2}}, a footer) and a text-only one, both approved; one pending and
// one rejected.
func DefaultTemplates() []Template {
	return []Template{
		{ID: 7001, ChannelID: DefaultChannel, Name: "delivery_order", LanguageCode: "es", Category: "UTILITY", Status: "APPROVED",
			Components: json.RawMessage(`[{"type":"HEADER","format":"IMAGE","example":{"header_handle":["https://scontent.whatsapp.net/pedido.jpg"]}},` +
				`{"type":"BODY","text":"Hola, {{1}} tu pedido {{2}} está en camino.","example":{"body_text":[["José","PED-10231"]]}},` +
				`{"type":"FOOTER","text":"Gracias por tu compra"}]`)},
		{ID: 7002, ChannelID: DefaultChannel, Name: "aviso_horario", LanguageCode: "es", Category: "UTILITY", Status: "APPROVED",
			Components: json.RawMessage(`[{"type":"BODY","text":"Hola {{1}}, desde el lunes atendemos de 9:00 a 18:00.","example":{"body_text":[["José"]]}}]`)},
		{ID: 7003, ChannelID: DefaultChannel, Name: "promo_fin_de_semana", LanguageCode: "es", Category: "MARKETING", Status: "PENDING",
			Components: json.RawMessage(`[{"type":"HEADER","format":"TEXT","text":"Solo este fin de semana"},` +
				`{"type":"BODY","text":"{{1}}, tienes {{2}} de descuento en tu próxima compra.","example":{"body_text":[["José","20 %"]]}},` +
				`{"type":"BUTTONS","buttons":[{"type":"URL","text":"Ver ofertas","url":"https://tienda.example-brand.com/ofertas"}]}]`)},
		{ID: 7004, ChannelID: DefaultChannel, Name: "encuesta_satisfaccion", LanguageCode: "es", Category: "MARKETING", Status: "REJECTED",
			Components: json.RawMessage(`[{"type":"BODY","text":"Hola {{1}}, ¿cómo calificarías tu última compra?","example":{"body_text":[["José"]]}},` +
				`{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Buena"},{"type":"QUICK_REPLY","text":"Mala"}]}]`)},
	}
}

type templateJSON struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	LanguageCode string `json:"languageCode"`
	Category     string `json:"category"`
	Status       string `json:"status"`
	Components   any    `json:"components"` // an array, or a string holding one
	ChannelID    int64  `json:"channelId"`
}

// listed are the templates as the fake lists them. Brands differ, so one
// answer mixes their shapes: the i-th of Config.Templates has its status
// in upper case for an even i and in lower case for an odd one, and its
// components as an array for i%4 of 0 or 3 and as a JSON string holding
// the array for 1 or 2.
func listed(ts []Template) []templateJSON {
	out := make([]templateJSON, len(ts))
	for i, t := range ts {
		if t.ID == 0 {
			t.ID = 7001 + int64(i)
		}
		out[i] = templateJSON{ID: t.ID, Name: t.Name, LanguageCode: t.LanguageCode, Category: t.Category,
			Status: strings.ToUpper(t.Status), ChannelID: t.ChannelID}
		if i%2 == 1 {
			out[i].Status = strings.ToLower(t.Status)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, t.Components); err != nil {
			panic("sendertest: template " + t.Name + ": components are not JSON: " + err.Error())
		}
		out[i].Components = json.RawMessage(compact.Bytes())
		if i%4 == 1 || i%4 == 2 {
			out[i].Components = compact.String()
		}
	}
	return out
}

// templatesOf answers a channel's templates, a page of them.
func (s *Server) templatesOf(r *http.Request, ep endpoint, status int) reply {
	limit, cursor, bad := paging(r.URL.Query())
	if bad != "" {
		return v2Reply(http.StatusBadRequest, bad)
	}
	channel, err := strconv.ParseInt(ep.channel, 10, 64)
	byID := map[int64]templateJSON{}
	var ids []int64
	for _, t := range s.templates {
		if err == nil && t.ChannelID == channel {
			byID[t.ID] = t
			ids = append(ids, t.ID)
		}
	}
	if len(ids) == 0 {
		return v2Reply(http.StatusNotFound, "Channel not found")
	}
	ids, p := page(r, ids, limit, cursor)
	out := list[templateJSON]{Items: []templateJSON{}, Pagination: p}
	for _, id := range ids {
		out.Items = append(out.Items, byID[id])
	}
	return reply{status: status, body: jsonLine(out)}
}
