package main

import (
	"encoding/json"
	"strings"

	"github.com/pregon/pregon/i18n"
)

// readable is a message as its reader gets it, line by line, from the
// request's payload: a text's text, a template's body with its parameters
// in place, an attachment's address. What it cannot read it shows as the
// payload itself.
func readable(tr *i18n.Printer, payload []byte) []string {
	var req struct {
		Message json.RawMessage   `json:"message"` // v2
		Body    []json.RawMessage `json:"body"`    // v1
	}
	if json.Unmarshal(payload, &req) != nil {
		return []string{string(payload)}
	}
	var lines []string
	if req.Message != nil {
		lines = readMessage(tr, req.Message)
	}
	for _, b := range req.Body {
		lines = append(lines, readMessage(tr, b)...)
	}
	if len(lines) == 0 {
		return []string{string(payload)}
	}
	return lines
}

// partOf names a template component's part for the catalog.
func partOf(typ string) string {
	switch strings.ToLower(typ) {
	case "header", "button", "footer":
		return strings.ToLower(typ)
	}
	return "body"
}

// readMessage reads one message object of either API.
func readMessage(tr *i18n.Printer, raw json.RawMessage) []string {
	var m struct {
		Type       string   `json:"type"`
		Text       string   `json:"text"`
		Subject    string   `json:"subject"`
		URL        string   `json:"url"`
		Title      string   `json:"title"`
		Replies    []string `json:"replies"`
		Attachment struct{ URL string }
		Template   struct {
			Name       string `json:"name"`
			Components []struct {
				Type       string `json:"type"`
				Text       string `json:"text"`
				Parameters []struct {
					Type  string                `json:"type"`
					Text  string                `json:"text"`
					Image struct{ Link string } `json:"image"`
					Doc   struct{ Link string } `json:"document"`
					Video struct{ Link string } `json:"video"`
				} `json:"parameters"`
			} `json:"components"`
		} `json:"template"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	var lines []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			lines = append(lines, s)
		}
	}
	switch m.Type {
	case "whatsapp_template":
		// The template's own text is on the platform, not in the ledger
		// (the campaign file's copy may be init's stand-in): the report
		// shows what the platform got, the template and its values.
		add(tr.T("sample.template", m.Template.Name))
		for _, c := range m.Template.Components {
			var texts []string
			for _, p := range c.Parameters {
				switch {
				case p.Image.Link != "":
					add(tr.T("sample.image", p.Image.Link))
				case p.Doc.Link != "":
					add(tr.T("sample.document", p.Doc.Link))
				case p.Video.Link != "":
					add(tr.T("sample.video", p.Video.Link))
				case p.Text != "":
					texts = append(texts, p.Text)
				}
			}
			if len(texts) > 0 {
				add(tr.T("sample.values", label(tr, partOf(c.Type)), strings.Join(texts, " · ")))
			}
		}
		add(tr.T("sample.template_text"))
	case "quick_reply":
		add(m.Title)
		if len(m.Replies) > 0 {
			add(tr.T("sample.replies", strings.Join(m.Replies, " · ")))
		}
	default:
		if m.Subject != "" {
			add(tr.T("sample.subject", m.Subject))
		}
		add(m.Text)
		if m.URL != "" {
			add(tr.T("sample.attachment", m.URL))
		}
		if m.Attachment.URL != "" {
			add(tr.T("sample.attachment", m.Attachment.URL))
		}
	}
	return lines
}
