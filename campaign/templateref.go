package campaign

import (
	"encoding/json"
	"strings"
)

// TemplateRef is what a whatsapp_template campaign asks of the platform's
// template: its name and language, and how many parameters the campaign
// gives each component that takes them ("body", "header").
type TemplateRef struct {
	Name         string
	LanguageCode string
	Parameters   map[string]int
}

// MessageContent is what a v2 message object says, as far as telling two
// messages apart needs: its type, a text's text, a template's name,
// language and parameters by component type (lower case).
type MessageContent struct {
	Type         string
	Text         string
	Name         string
	LanguageCode string
	Parameters   []ComponentParameters
}

// ComponentParameters are one template component's parameters.
type ComponentParameters struct {
	Type       string
	Parameters []json.RawMessage
}

// ReadMessage reads a v2 message object (pregon's own, or the platform's
// copy of one); ok is false when it is not one.
func ReadMessage(raw json.RawMessage) (m MessageContent, ok bool) {
	var w struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		Template struct {
			Name         string `json:"name"`
			LanguageCode string `json:"languageCode"`
			Components   []struct {
				Type       string            `json:"type"`
				Parameters []json.RawMessage `json:"parameters"`
			} `json:"components"`
		} `json:"template"`
	}
	if json.Unmarshal(raw, &w) != nil {
		return m, false
	}
	m = MessageContent{Type: w.Type, Text: w.Text, Name: w.Template.Name, LanguageCode: w.Template.LanguageCode}
	for _, c := range w.Template.Components {
		if len(c.Parameters) > 0 {
			m.Parameters = append(m.Parameters, ComponentParameters{Type: strings.ToLower(c.Type), Parameters: c.Parameters})
		}
	}
	return m, true
}

// Template returns the campaign's WhatsApp template reference; ok is false
// for any other kind of message (and for v1, which has no templates).
func (c *Campaign) Template() (ref TemplateRef, ok bool) {
	m, ok := ReadMessage(c.Message)
	if c.API != "v2" || !ok || m.Type != "whatsapp_template" {
		return TemplateRef{}, false
	}
	ref = TemplateRef{Name: m.Name, LanguageCode: m.LanguageCode, Parameters: map[string]int{}}
	for _, comp := range m.Parameters {
		ref.Parameters[comp.Type] += len(comp.Parameters)
	}
	return ref, true
}

// Placeholders counts the distinct {{1}}, {{2}}… in a template's text.
func Placeholders(text string) int {
	seen := map[string]bool{}
	for _, m := range numberedRE.FindAllStringSubmatch(text, -1) {
		seen[m[1]] = true
	}
	return len(seen)
}
