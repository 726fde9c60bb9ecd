package sendertest

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"time"
)

// Other traffic (Config.OtherTraffic) is what a contact's list holds
// beside pregon's messages: what the customer wrote, what agents,
// workflows and broadcasts sent, some of it the same template as
// pregon's with other parameters, some of it sent moments after pregon's
// message. A client that takes the first outgoing message after its
// attempt, or any message with its template's name, for its own is
// caught; one that compares the content and the sender is not. It is a
// function of the contact's identifier and of the requests, so a test
// sees the same traffic each run.

// Texts the other traffic draws from.
var (
	customerTexts = []string{
		"Hola, quisiera saber el estado de mi pedido",
		"Buenas tardes, ¿hacen envíos a Cuenca?",
		"¿Tienen la talla M en azul?",
		"Gracias por la información",
	}
	agentTexts = []string{
		"Hola, con gusto le ayudamos. Su pedido ya fue despachado.",
		"Buenas tardes, sí hacemos envíos a todo el país.",
		"Le escribe Andrea, de atención al cliente. ¿En qué le ayudo?",
	}
	replyTexts = []string{
		"Gracias 🙌",
		"¿A qué hora llega?",
		"Ok, estaré pendiente",
		"No hice ningún pedido",
	}
	reminderTexts = []string{
		"Recordatorio: tu pedido sigue en camino.",
		"¿Cómo calificarías nuestra atención? Responde del 1 al 5.",
	}
	// otherValues replace a template's parameters in a look-alike.
	otherValues = []string{"Carla Mendoza", "PED-09876", "Luis Andrade", "PED-11002", "Gabriela Ríos", "PED-10555"}
)

// seed is a stable number for a contact's identifier.
func seed(identifier string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(identifier))
	return mix(h.Sum64())
}

// touch finds the contact an identifier names; one seen for the first
// time at at has, with OtherTraffic, a past: a message from the customer
// and an agent's answer hours before, and a broadcast days before of the
// template first sent to it (first, a v2 send's message; nil when the
// contact is first read).
func (s *Server) touch(identifier string, at time.Time, channel int64, first json.RawMessage) *contact {
	c, created := s.kept.contact(identifier)
	if !created || !s.cfg.OtherTraffic {
		return c
	}
	h := seed(identifier)
	wrote := at.Add(-time.Hour - time.Duration(h%47)*time.Hour)
	s.other(c, identifier, channel, "incoming", "", text(customerTexts[h%uint64(len(customerTexts))]), wrote)
	s.other(c, identifier, channel, "outgoing", "user", text(agentTexts[(h>>8)%uint64(len(agentTexts))]), wrote.Add(7*time.Minute))
	broadcast, ok := lookAlike(first, h)
	if !ok {
		broadcast, _ = lookAlike(json.RawMessage(`{"type":"whatsapp_template","template":{"name":"delivery_order","languageCode":"es",`+
			`"components":[{"type":"body","parameters":[{"type":"text","text":"José"},{"type":"text","text":"PED-10231"}]}]}}`), h)
	}
	s.other(c, identifier, channel, "outgoing", "broadcast", broadcast, at.Add(-48*time.Hour-time.Duration(h>>16%5)*24*time.Hour))
	return c
}

// around adds, with OtherTraffic, what comes after a v2 send the fake
// read (taken or not) for some contacts: a workflow's message like it
// (the same template with other parameters, or another text) before its
// delivery, and the customer's reply once it could have been read.
func (s *Server) around(c *contact, identifier string, at time.Time, channel int64, msg json.RawMessage) {
	if !s.cfg.OtherTraffic {
		return
	}
	d := s.cfg.Delivery.withDefaults()
	k := mix(seed(identifier) ^ uint64(len(c.messages)))
	if k%2 == 0 {
		like, ok := lookAlike(msg, k)
		if !ok {
			like = text(reminderTexts[(k>>4)%uint64(len(reminderTexts))])
		}
		s.other(c, identifier, channel, "outgoing", "workflow", like, at.Add(d.After*time.Duration(1+k>>8%4)/4))
	}
	if k%3 == 0 {
		s.other(c, identifier, channel, "incoming", "", text(replyTexts[(k>>12)%uint64(len(replyTexts))]),
			at.Add(d.After+d.ReadAfter*time.Duration(1+k>>16%4)/4))
	}
}

// other keeps a message another source sent, or the customer wrote.
func (s *Server) other(c *contact, identifier string, channel int64, traffic, source string, msg json.RawMessage, at time.Time) {
	s.kept.keep(&message{id: s.kept.id(), contact: c, identifier: identifier, channel: channel,
		traffic: traffic, source: source, body: msg, at: at})
}

// text is a text message.
func text(s string) json.RawMessage {
	b, err := json.Marshal(struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}{"text", s})
	if err != nil {
		panic(err)
	}
	return b
}

// lookAlike is a WhatsApp template message with the same template as msg
// and other values for its parameters (the same message when it has
// none); ok is false when msg is no template message.
func lookAlike(msg json.RawMessage, k uint64) (json.RawMessage, bool) {
	var m map[string]any
	if json.Unmarshal(msg, &m) != nil || m["type"] != "whatsapp_template" {
		return nil, false
	}
	tmpl, _ := m["template"].(map[string]any)
	comps, _ := tmpl["components"].([]any)
	n := k
	for _, c := range comps {
		c, _ := c.(map[string]any)
		params, _ := c["parameters"].([]any)
		for _, p := range params {
			p, _ := p.(map[string]any)
			n++
			switch kind, _ := p["type"].(string); kind {
			case "text":
				v := otherValues[n%uint64(len(otherValues))]
				if v == p["text"] {
					v = otherValues[(n+1)%uint64(len(otherValues))]
				}
				p["text"] = v
			case "image", "video", "document":
				if media, ok := p[kind].(map[string]any); ok {
					media["link"] = fmt.Sprintf("https://cdn.example-brand.com/otros/%d.jpg", n%100000)
				}
			}
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, false
	}
	return b, true
}
