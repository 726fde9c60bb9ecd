package campaign

import (
	"encoding/json"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// Preview is one message as the customer will see it: its payload read
// back part by part, for a dry run to show. It holds the parts only; how
// they are laid out and labelled is the front end's business.
type Preview struct {
	Line    int    `json:"line"`
	Contact string `json:"contact"`
	Type    string `json:"type"` // the message's "type", as in the campaign
	// Template names a WhatsApp template and the parameters sent for it.
	Template *TemplateShown `json:"template,omitempty"`
	Header   *Header        `json:"header,omitempty"`
	Title    string         `json:"title,omitempty"`   // a quick reply's question
	Subject  string         `json:"subject,omitempty"` // an e-mail's
	// Text is a text's or an e-mail's text, or a template's body filled in.
	Text       string          `json:"text,omitempty"`
	Footer     string          `json:"footer,omitempty"`
	Buttons    []Button        `json:"buttons,omitempty"`
	Replies    []string        `json:"replies,omitempty"` // a quick reply's options
	Attachment *Attachment     `json:"attachment,omitempty"`
	Payload    json.RawMessage `json:"payload,omitempty"` // a custom_payload's, as sent
}

// TemplateShown is what a preview knows of a WhatsApp template.
type TemplateShown struct {
	Name         string `json:"name"`
	LanguageCode string `json:"language_code"`
	// TextKnown says that the preview's Header, Text, Footer and Buttons
	// are the platform's template filled in with the parameters. Without
	// it (the platform's text was not read) only Parameters tell.
	TextKnown  bool        `json:"text_known"`
	Parameters []Parameter `json:"parameters"`
}

// Parameter is one value sent for a template's placeholder, in order.
type Parameter struct {
	Component string `json:"component"` // header, body, button
	Index     int    `json:"index"`     // n of {{n}}, from 1, within its component
	Type      string `json:"type"`      // text, image, video, document, …
	Value     string `json:"value"`     // the text, or the media's link
	Filename  string `json:"filename,omitempty"`
}

// Header is a template's header: a text, or a medium by its link.
type Header struct {
	Format   string `json:"format"` // text, image, video, document
	Text     string `json:"text,omitempty"`
	Link     string `json:"link,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// Button is a template's button.
type Button struct {
	Type        string `json:"type"` // url, phone_number, quick_reply
	Text        string `json:"text"`
	URL         string `json:"url,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
}

// Attachment is a file sent as the message.
type Attachment struct {
	Type string `json:"type"` // image, video, audio, file
	URL  string `json:"url"`
	// FileName is the last part of the URL's path: the name a customer
	// sees for a file.
	FileName string `json:"file_name,omitempty"`
}

// PlatformTemplate is a WhatsApp template's text as the platform lists it:
// what the customer receives, whatever text the campaign carries.
type PlatformTemplate struct {
	Components []PlatformComponent
}

// PlatformComponent is a part of a PlatformTemplate.
type PlatformComponent struct {
	Type    string // HEADER, BODY, FOOTER, BUTTONS, in any case
	Format  string // a header's: TEXT, IMAGE, VIDEO, DOCUMENT, in any case
	Text    string
	Buttons []Button
}

// Preview reads a rendered message back as the customer will see it. t
// is the platform's copy of the campaign's WhatsApp template, when known.
func (c *Campaign) Preview(m Message, t *PlatformTemplate) Preview {
	p := Preview{Line: m.Line, Contact: m.Contact}
	raw := c.messageOf(m.Payload)
	var msg struct {
		Type       string          `json:"type"`
		Text       string          `json:"text"`
		Subject    string          `json:"subject"`
		Title      string          `json:"title"`
		Replies    []string        `json:"replies"`
		URL        string          `json:"url"`
		Payload    json.RawMessage `json:"payload"`
		Attachment struct {
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"attachment"`
		Template struct {
			Name         string          `json:"name"`
			LanguageCode string          `json:"languageCode"`
			Components   []sentComponent `json:"components"`
		} `json:"template"`
	}
	if json.Unmarshal(raw, &msg) != nil {
		return p
	}
	p.Type = msg.Type
	switch msg.Type {
	case "text", "email":
		p.Text, p.Subject = msg.Text, msg.Subject
	case "quick_reply":
		p.Title, p.Replies = msg.Title, msg.Replies
	case "image", "video", "audio", "file": // v1
		p.Attachment = attachment(msg.Type, msg.URL)
	case "attachment": // v2
		p.Attachment = attachment(msg.Attachment.Type, msg.Attachment.URL)
	case "custom_payload":
		p.Payload = compactJSON(msg.Payload)
	case "whatsapp_template":
		tmpl := msg.Template
		p.Template = &TemplateShown{Name: tmpl.Name, LanguageCode: tmpl.LanguageCode, Parameters: []Parameter{}}
		for _, comp := range tmpl.Components {
			p.Template.Parameters = append(p.Template.Parameters, comp.parameters()...)
		}
		if t != nil {
			p.fill(t, tmpl.Components)
		}
		if p.Buttons == nil {
			// Buttons the campaign gives are sent with the message,
			// whether or not the platform's text is known.
			for _, comp := range tmpl.Components {
				if strings.EqualFold(comp.Type, "buttons") {
					p.Buttons = append(p.Buttons, comp.Buttons...)
				}
			}
		}
	}
	return p
}

// messageOf is the message object of a payload: v1 sends it as the one
// element of "body", v2 as "message".
func (c *Campaign) messageOf(payload []byte) json.RawMessage {
	if c.API == "v1" {
		var v1 struct {
			Body []json.RawMessage `json:"body"`
		}
		if json.Unmarshal(payload, &v1) != nil || len(v1.Body) == 0 {
			return nil
		}
		return v1.Body[0]
	}
	var v2 struct {
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(payload, &v2) != nil {
		return nil
	}
	return v2.Message
}

// sentComponent is a template component as the payload sends it.
type sentComponent struct {
	Type       string          `json:"type"`
	Parameters []sentParameter `json:"parameters"`
	Buttons    []Button        `json:"buttons"`
}

type sentParameter struct {
	Type string `json:"type"`
	Text string `json:"text"`
	raw  json.RawMessage
}

func (p *sentParameter) UnmarshalJSON(b []byte) error {
	type plain sentParameter
	if err := json.Unmarshal(b, (*plain)(p)); err != nil {
		return err
	}
	p.raw = append(json.RawMessage(nil), b...)
	return nil
}

// parameters are the component's parameters as a preview lists them.
func (comp sentComponent) parameters() []Parameter {
	kind := strings.ToLower(comp.Type)
	if kind == "buttons" {
		kind = "button"
	}
	out := make([]Parameter, 0, len(comp.Parameters))
	for i, sp := range comp.Parameters {
		p := Parameter{Component: kind, Index: i + 1, Type: sp.Type, Value: sp.Text}
		if sp.Type != "text" {
			var fields map[string]json.RawMessage
			var media struct {
				Link     string `json:"link"`
				Filename string `json:"filename"`
			}
			if json.Unmarshal(sp.raw, &fields) == nil && json.Unmarshal(fields[sp.Type], &media) == nil && media.Link != "" {
				p.Value, p.Filename = media.Link, media.Filename
			} else {
				p.Value = string(compactJSON(sp.raw)) // currency, date_time…: as sent
			}
		}
		out = append(out, p)
	}
	return out
}

// fill sets the preview's header, body, footer and buttons from the
// platform's template, with the parameters the payload sends.
func (p *Preview) fill(t *PlatformTemplate, sent []sentComponent) {
	p.Template.TextKnown = true
	params := func(kind string) []Parameter {
		var out []Parameter
		for _, s := range sent {
			if strings.EqualFold(s.Type, kind) {
				out = append(out, s.parameters()...)
			}
		}
		return out
	}
	for _, comp := range t.Components {
		switch strings.ToLower(comp.Type) {
		case "header":
			hp := params("header")
			h := &Header{Format: strings.ToLower(comp.Format)}
			if h.Format == "" || h.Format == "text" {
				h.Format, h.Text = "text", fillNumbered(comp.Text, hp)
			} else if len(hp) > 0 {
				h.Link, h.Filename = hp[0].Value, hp[0].Filename
			}
			p.Header = h
		case "body":
			p.Text = fillNumbered(comp.Text, params("body"))
		case "footer":
			p.Footer = comp.Text
		case "buttons":
			for _, b := range comp.Buttons {
				b.Type = strings.ToLower(b.Type)
				p.Buttons = append(p.Buttons, b)
			}
		}
	}
}

// fillNumbered replaces WhatsApp's {{1}}, {{2}}… in text with the
// parameters' values; a placeholder without a parameter stays as it is.
func fillNumbered(text string, params []Parameter) string {
	return numberedRE.ReplaceAllStringFunc(text, func(ph string) string {
		n, _ := strconv.Atoi(numberedRE.FindStringSubmatch(ph)[1])
		if n < 1 || n > len(params) {
			return ph
		}
		return params[n-1].Value
	})
}

func attachment(typ, link string) *Attachment {
	a := &Attachment{Type: typ, URL: link}
	if u, err := url.Parse(link); err == nil && u.Path != "" && !strings.HasSuffix(u.Path, "/") {
		a.FileName = path.Base(u.Path)
	}
	return a
}
