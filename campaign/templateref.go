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

// Template returns the campaign's WhatsApp template reference; ok is false
// for any other kind of message (and for v1, which has no templates).
func (c *Campaign) Template() (ref TemplateRef, ok bool) {
	var m struct {
		Type     string `json:"type"`
		Template struct {
			Name         string `json:"name"`
			LanguageCode string `json:"languageCode"`
			Components   []struct {
				Type       string            `json:"type"`
				Parameters []json.RawMessage `json:"parameters"`
			} `json:"components"`
		} `json:"template"`
	}
	if c.API != "v2" || json.Unmarshal(c.Message, &m) != nil || m.Type != "whatsapp_template" {
		return TemplateRef{}, false
	}
	ref = TemplateRef{Name: m.Template.Name, LanguageCode: m.Template.LanguageCode, Parameters: map[string]int{}}
	for _, comp := range m.Template.Components {
		if len(comp.Parameters) > 0 {
			ref.Parameters[strings.ToLower(comp.Type)] += len(comp.Parameters)
		}
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
