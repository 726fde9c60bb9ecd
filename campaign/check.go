package campaign

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// The checks below are the platform's own rules (../shared/API.md): a
// message that breaks one is a failed send, so pregon refuses it first.
//
// One checker serves two passes. When the campaign is loaded, strings that
// hold placeholders are not known yet and are skipped: whatever fails then
// fails for every row, and is reported once as a campaign error. For each
// row, the same checks run on the filled-in values; a failure then names
// the column that supplied the value.

// numberedRE finds WhatsApp's positional placeholders: {{1}}, {{2}}…
var numberedRE = regexp.MustCompile(`\{\{\s*(\d+)\s*\}\}`)

// spaceRunRE finds runs of more than four spaces, which WhatsApp refuses
// in template parameters.
var spaceRunRE = regexp.MustCompile(` {5,}`)

// problem is one broken rule, at a place in the message.
type problem struct {
	path   string
	msg    string
	column string // the CSV column that supplied the value, when one did
	value  string
}

type checker struct {
	api       string
	channelID bool
	value     func(column string) string // nil in the load-time pass
	problems  []problem
	warnings  []string
}

// view is a node of the message with its path, for error messages.
type view struct {
	n    *node
	path string
}

func (v view) get(key string) view {
	if v.n == nil || v.n.kind != objectNode {
		return view{path: v.path + "." + key}
	}
	for i, k := range v.n.keys {
		if k == key {
			return view{n: v.n.children[i], path: v.path + "." + key}
		}
	}
	return view{path: v.path + "." + key}
}

func (v view) items() []view {
	if v.n == nil || v.n.kind != arrayNode {
		return nil
	}
	out := make([]view, len(v.n.children))
	for i, c := range v.n.children {
		out[i] = view{n: c, path: fmt.Sprintf("%s[%d]", v.path, i)}
	}
	return out
}

func (v view) isArray() bool  { return v.n != nil && v.n.kind == arrayNode }
func (v view) isObject() bool { return v.n != nil && v.n.kind == objectNode }
func (v view) missing() bool  { return v.n == nil }

// dynamic reports whether the string's value comes from the CSV.
func (v view) dynamic() bool {
	if v.n == nil || v.n.kind != stringNode {
		return false
	}
	for _, s := range v.n.segs {
		if s.column != "" {
			return true
		}
	}
	return false
}

// column is the CSV column a string's value comes from (the first, when
// several do).
func (v view) column() string {
	if v.n == nil {
		return ""
	}
	for _, s := range v.n.segs {
		if s.column != "" {
			return s.column
		}
	}
	return ""
}

// text returns a string's value, and false when it cannot be known in this
// pass (it holds placeholders and no row is at hand) or is not a string.
func (c *checker) text(v view) (string, bool) {
	if v.n == nil || v.n.kind != stringNode {
		return "", false
	}
	if v.dynamic() && c.value == nil {
		return "", false
	}
	var b strings.Builder
	for _, s := range v.n.segs {
		if s.column == "" {
			b.WriteString(s.text)
		} else {
			b.WriteString(c.value(s.column))
		}
	}
	return b.String(), true
}

func (c *checker) fail(v view, format string, args ...any) {
	p := problem{path: strings.TrimPrefix(v.path, "."), msg: fmt.Sprintf(format, args...)}
	if v.dynamic() && c.value != nil {
		p.column = v.column()
		p.value = c.value(p.column)
	}
	c.problems = append(c.problems, p)
}

// requireString checks that a field is a string; with nonEmpty, that its
// value (when known) is not blank. It returns the value and whether it is
// known.
func (c *checker) requireString(v view, nonEmpty bool) (string, bool) {
	if v.missing() {
		c.fail(v, "is missing")
		return "", false
	}
	if v.n.kind != stringNode {
		c.fail(v, "must be a text in quotes")
		return "", false
	}
	s, known := c.text(v)
	if known && nonEmpty && strings.TrimSpace(s) == "" {
		c.fail(v, "is empty")
	}
	return s, known
}

func (c *checker) maxChars(v view, n int, what string) {
	if s, ok := c.text(v); ok {
		if k := utf8.RuneCountInString(s); k > n {
			c.fail(v, "%s has %d characters; the most is %d", what, k, n)
		}
	}
}

func (c *checker) webURL(v view) {
	s, ok := c.requireString(v, true)
	if !ok || strings.TrimSpace(s) == "" {
		return
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.fail(v, "is not a web address (http:// or https://)")
	}
}

func (c *checker) oneOf(v view, allowed ...string) (string, bool) {
	s, ok := c.requireString(v, true)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if s == a {
			return s, true
		}
	}
	c.fail(v, "%q is not one of %s", s, strings.Join(allowed, ", "))
	return "", false
}

// checkMessage checks the message against the platform's rules.
func (c *checker) checkMessage(m view) {
	if !m.isObject() {
		c.fail(m, "must be a JSON object")
		return
	}
	if c.api == "v1" {
		c.checkV1(m)
		return
	}
	c.checkV2(m)
}

func (c *checker) checkV1(m view) {
	typ, ok := c.oneOf(m.get("type"), "text", "image", "video", "audio", "file", "quick_reply")
	if !ok {
		return
	}
	switch typ {
	case "text":
		c.requireString(m.get("text"), true)
	case "image", "video", "audio", "file":
		c.webURL(m.get("url"))
	case "quick_reply":
		c.quickReply(m)
	}
}

func (c *checker) checkV2(m view) {
	typ, ok := c.oneOf(m.get("type"), "text", "attachment", "quick_reply", "custom_payload", "email", "whatsapp_template")
	if !ok {
		return
	}
	switch typ {
	case "text":
		c.requireString(m.get("text"), true)
		if tag := m.get("messageTag"); !tag.missing() {
			c.oneOf(tag, "ACCOUNT_UPDATE", "POST_PURCHASE_UPDATE", "CONFIRMED_EVENT_UPDATE")
		}
	case "attachment":
		a := m.get("attachment")
		if !a.isObject() {
			c.fail(a, `must be an object like {"type": "image", "url": "https://…"}`)
			return
		}
		c.oneOf(a.get("type"), "image", "video", "audio", "file")
		c.webURL(a.get("url"))
	case "quick_reply":
		c.quickReply(m)
	case "custom_payload":
		if m.get("payload").missing() {
			c.fail(m.get("payload"), "is missing")
		}
		if !c.channelID {
			c.fail(m, `a custom_payload message needs "channelId" in the campaign`)
		}
	case "email":
		c.requireString(m.get("text"), true)
	case "whatsapp_template":
		c.template(m.get("template"))
	}
}

func (c *checker) quickReply(m view) {
	c.requireString(m.get("title"), true)
	replies := m.get("replies")
	if !replies.isArray() {
		c.fail(replies, "must be a list of 1 to 10 answers")
		return
	}
	items := replies.items()
	if len(items) == 0 || len(items) > 10 {
		c.fail(replies, "has %d answers; quick replies take 1 to 10", len(items))
	}
	for _, r := range items {
		c.requireString(r, true)
		c.maxChars(r, 20, "the answer")
	}
}

func (c *checker) template(t view) {
	if !t.isObject() {
		c.fail(t, `must be an object with "name", "languageCode" and "components"`)
		return
	}
	c.requireString(t.get("name"), true)
	c.requireString(t.get("languageCode"), true)
	comps := t.get("components")
	if comps.missing() {
		return // a template without parameters
	}
	if !comps.isArray() {
		c.fail(comps, "must be a list")
		return
	}
	for _, comp := range comps.items() {
		typ, ok := c.oneOf(comp.get("type"), "header", "body", "footer", "buttons")
		if !ok {
			continue
		}
		switch typ {
		case "header":
			c.header(comp)
		case "body":
			c.placeholdersMatch(comp)
			c.maxChars(comp.get("text"), 1024, "the body")
		case "footer":
			c.requireString(comp.get("text"), true)
			c.maxChars(comp.get("text"), 60, "the footer")
		case "buttons":
			c.buttons(comp.get("buttons"))
		}
	}
}

func (c *checker) header(h view) {
	format, ok := c.oneOf(h.get("format"), "text", "image", "video", "document")
	if !ok {
		return
	}
	if format == "text" {
		c.maxChars(h.get("text"), 60, "the header")
		if p := h.get("parameters"); len(p.items()) > 1 {
			c.fail(p, "a text header takes at most 1 parameter, not %d", len(p.items()))
		}
		c.placeholdersMatch(h)
		return
	}
	params := h.get("parameters").items()
	if len(params) != 1 {
		c.fail(h.get("parameters"), `a %s header needs one parameter: [{"type": "%s", "%s": {"link": "https://…"}}]`, format, format, format)
		return
	}
	media := params[0].get(format)
	c.webURL(media.get("link"))
	if format == "document" && media.get("filename").missing() && c.value == nil {
		c.warnings = append(c.warnings, fmt.Sprintf(`%s: the document has no "filename": customers will see it as null.pdf`, strings.TrimPrefix(media.path, ".")))
	}
}

// placeholdersMatch checks that a text's distinct {{n}} placeholders are
// as many as its parameters, and that text parameters are ones WhatsApp
// accepts.
func (c *checker) placeholdersMatch(comp view) {
	text := comp.get("text")
	params := comp.get("parameters")
	if s, ok := c.text(text); ok {
		distinct := map[string]bool{}
		for _, m := range numberedRE.FindAllStringSubmatch(s, -1) {
			distinct[m[1]] = true
		}
		if n := len(params.items()); len(distinct) != n {
			c.fail(comp, "the text has %d placeholders ({{1}}…) but %d parameters", len(distinct), n)
		}
	}
	for _, p := range params.items() {
		if t, _ := c.text(p.get("type")); t != "text" {
			continue
		}
		v := p.get("text")
		s, ok := c.requireString(v, true)
		if !ok {
			continue
		}
		switch {
		case strings.ContainsAny(s, "\n\r"):
			c.fail(v, "has a line break, which WhatsApp does not allow in a parameter")
		case strings.Contains(s, "\t"):
			c.fail(v, "has a tab, which WhatsApp does not allow in a parameter")
		case spaceRunRE.MatchString(s):
			c.fail(v, "has more than 4 spaces in a row, which WhatsApp does not allow in a parameter")
		}
	}
}

func (c *checker) buttons(b view) {
	if !b.isArray() {
		c.fail(b, "must be a list")
		return
	}
	items := b.items()
	if len(items) > 10 {
		c.fail(b, "has %d buttons; the most is 10", len(items))
	}
	urls, phones := 0, 0
	for _, btn := range items {
		typ, ok := c.oneOf(btn.get("type"), "url", "phone_number", "quick_reply")
		if !ok {
			continue
		}
		c.requireString(btn.get("text"), true)
		c.maxChars(btn.get("text"), 25, "the button text")
		switch typ {
		case "url":
			urls++
			c.webURL(btn.get("url"))
		case "phone_number":
			phones++
			if s, ok := c.requireString(btn.get("phone_number"), true); ok && s != "" {
				if p, err := normalizePhone(s, ""); err != nil || p != strings.TrimSpace(s) {
					c.fail(btn.get("phone_number"), "must be a phone number in E.164 form, like +593991000001")
				}
			}
		}
	}
	if urls > 2 {
		c.fail(b, "has %d url buttons; the most is 2", urls)
	}
	if phones > 1 {
		c.fail(b, "has %d phone_number buttons; the most is 1", phones)
	}
}
