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
// The checker runs once, when the campaign is loaded. Whatever fails then
// fails for every row, and is reported once as a campaign error. A rule on
// a string filled in from the CSV cannot be decided yet: it becomes a
// rowCheck, and only those run for each row, naming the column that
// supplied the value when they fail.

// numberedRE finds WhatsApp's positional placeholders: {{1}}, {{2}}…
var numberedRE = regexp.MustCompile(`\{\{\s*(\d+)\s*\}\}`)

// spaceRunRE finds runs of more than four spaces, which WhatsApp refuses
// in template parameters.
var spaceRunRE = regexp.MustCompile(` {5,}`)

// problem is one broken rule, at a place in the message.
type problem struct {
	path string
	err  error // a *ReasonError
}

// rule decides a value: nil when it is fine, else what is wrong with it.
type rule func(value string) error

// rowCheck is a rule on a string of the message that the CSV fills in.
type rowCheck struct {
	n    *node
	rule rule
}

type checker struct {
	api       string
	channelID bool
	problems  []problem
	warnings  []string
	rows      []rowCheck
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

// text returns a string's value, and false when it is not a string or is
// filled in from the CSV (not known until a row is at hand).
func (c *checker) text(v view) (string, bool) {
	if v.n == nil || v.n.kind != stringNode || v.dynamic() {
		return "", false
	}
	var b strings.Builder
	for _, s := range v.n.segs {
		b.WriteString(s.text)
	}
	return b.String(), true
}

// apply checks a string with r now when its value is known, or for every
// row when the CSV fills it in.
func (c *checker) apply(v view, r rule) {
	if v.n == nil || v.n.kind != stringNode {
		return
	}
	if v.dynamic() {
		c.rows = append(c.rows, rowCheck{n: v.n, rule: r})
		return
	}
	s, _ := c.text(v)
	if err := r(s); err != nil {
		c.fail(v, err)
	}
}

func (c *checker) fail(v view, err error) {
	c.problems = append(c.problems, problem{path: strings.TrimPrefix(v.path, "."), err: err})
}

// requireString checks that a field is a string; with nonEmpty, that its
// value is not blank.
func (c *checker) requireString(v view, nonEmpty bool) {
	if v.missing() {
		c.fail(v, reasonf(FieldMissing, "is missing"))
		return
	}
	if v.n.kind != stringNode {
		c.fail(v, reasonf(NotText, "must be a text in quotes"))
		return
	}
	if nonEmpty {
		c.apply(v, notBlank)
	}
}

func notBlank(s string) error {
	if strings.TrimSpace(s) == "" {
		return reasonf(ValueEmpty, "is empty")
	}
	return nil
}

// partNames are the parts of a message that have a length limit, by the
// word a TooLong reason gives them.
var partNames = map[string]string{"answer": "the answer", "body": "the body", "footer": "the footer",
	"header": "the header", "button": "the button text"}

func (c *checker) maxChars(v view, n int, what string) {
	c.apply(v, func(s string) error {
		if k := utf8.RuneCountInString(s); k > n {
			e := reasonf(TooLong, "%[3]s has %[1]d characters; the most is %[2]d", k, n, partNames[what])
			e.Reason.Args[2] = what
			return e
		}
		return nil
	})
}

func (c *checker) webURL(v view) {
	c.requireString(v, false)
	c.apply(v, webURL)
}

func webURL(s string) error {
	if strings.TrimSpace(s) == "" {
		return reasonf(ValueEmpty, "is empty")
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return reasonf(NotWebAddress, "is not a web address (http:// or https://)")
	}
	return nil
}

// oneOf checks a field that decides the message's shape: it must be one of
// allowed, and written in the campaign (a row cannot change the shape).
func (c *checker) oneOf(v view, allowed ...string) (string, bool) {
	c.requireString(v, true)
	if v.dynamic() {
		c.fail(v, reasonf(NotFromCSV, "must be written in the campaign, not taken from the CSV"))
		return "", false
	}
	s, ok := c.text(v)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if s == a {
			return s, true
		}
	}
	c.fail(v, reasonf(NotOneOf, "%q is not one of %s", s, strings.Join(allowed, ", ")))
	return "", false
}

// checkMessage checks the message against the platform's rules.
func (c *checker) checkMessage(m view) {
	if !m.isObject() {
		c.fail(m, reasonf(NotObject, "must be a JSON object"))
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
			c.fail(a, reasonf(AttachmentShape, `must be an object like {"type": "image", "url": "https://…"}`))
			return
		}
		c.oneOf(a.get("type"), "image", "video", "audio", "file")
		c.webURL(a.get("url"))
	case "quick_reply":
		c.quickReply(m)
	case "custom_payload":
		if m.get("payload").missing() {
			c.fail(m.get("payload"), reasonf(FieldMissing, "is missing"))
		}
		if !c.channelID {
			c.fail(m, reasonf(PayloadNeedsChannel, `a custom_payload message needs "channelId" in the campaign`))
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
		c.fail(replies, reasonf(RepliesList, "must be a list of 1 to 10 answers"))
		return
	}
	items := replies.items()
	if len(items) == 0 || len(items) > 10 {
		c.fail(replies, reasonf(RepliesCount, "has %d answers; quick replies take 1 to 10", len(items)))
	}
	for _, r := range items {
		c.requireString(r, true)
		c.maxChars(r, 20, "answer")
	}
}

func (c *checker) template(t view) {
	if !t.isObject() {
		c.fail(t, reasonf(TemplateShape, `must be an object with "name", "languageCode" and "components"`))
		return
	}
	c.requireString(t.get("name"), true)
	c.requireString(t.get("languageCode"), true)
	comps := t.get("components")
	if comps.missing() {
		return // a template without parameters
	}
	if !comps.isArray() {
		c.fail(comps, reasonf(NotList, "must be a list"))
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
			c.maxChars(comp.get("text"), 1024, "body")
		case "footer":
			c.requireString(comp.get("text"), true)
			c.maxChars(comp.get("text"), 60, "footer")
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
		c.maxChars(h.get("text"), 60, "header")
		if p := h.get("parameters"); len(p.items()) > 1 {
			c.fail(p, reasonf(TextHeaderParams, "a text header takes at most 1 parameter, not %d", len(p.items())))
		}
		c.placeholdersMatch(h)
		return
	}
	params := h.get("parameters").items()
	if len(params) != 1 {
		c.fail(h.get("parameters"), reasonf(MediaHeaderParam, `a %[1]s header needs one parameter: [{"type": "%[1]s", "%[1]s": {"link": "https://…"}}]`, format))
		return
	}
	media := params[0].get(format)
	c.webURL(media.get("link"))
	if format == "document" && media.get("filename").missing() {
		c.warnings = append(c.warnings, fmt.Sprintf(`%s: the document has no "filename": customers will see it as null.pdf`, strings.TrimPrefix(media.path, ".")))
	}
}

// placeholdersMatch checks that a text's distinct {{n}} placeholders are
// as many as its parameters, and that text parameters are ones WhatsApp
// accepts.
func (c *checker) placeholdersMatch(comp view) {
	n := len(comp.get("parameters").items())
	c.apply(comp.get("text"), func(s string) error {
		distinct := map[string]bool{}
		for _, m := range numberedRE.FindAllStringSubmatch(s, -1) {
			distinct[m[1]] = true
		}
		if len(distinct) != n {
			return reasonf(PlaceholderCount, "the text has %d placeholders ({{1}}…) but %d parameters", len(distinct), n)
		}
		return nil
	})
	for _, p := range comp.get("parameters").items() {
		if t, _ := c.text(p.get("type")); t != "text" {
			continue
		}
		v := p.get("text")
		c.requireString(v, true)
		c.apply(v, parameterText)
	}
}

// parameterText is what WhatsApp accepts in a template's text parameter.
func parameterText(s string) error {
	switch {
	case strings.ContainsAny(s, "\n\r"):
		return reasonf(ParamLineBreak, "has a line break, which WhatsApp does not allow in a parameter")
	case strings.Contains(s, "\t"):
		return reasonf(ParamTab, "has a tab, which WhatsApp does not allow in a parameter")
	case spaceRunRE.MatchString(s):
		return reasonf(ParamSpaces, "has more than 4 spaces in a row, which WhatsApp does not allow in a parameter")
	}
	return nil
}

func (c *checker) buttons(b view) {
	if !b.isArray() {
		c.fail(b, reasonf(NotList, "must be a list"))
		return
	}
	items := b.items()
	if len(items) > 10 {
		c.fail(b, reasonf(ButtonsCount, "has %d buttons; the most is 10", len(items)))
	}
	urls, phones := 0, 0
	for _, btn := range items {
		typ, ok := c.oneOf(btn.get("type"), "url", "phone_number", "quick_reply")
		if !ok {
			continue
		}
		c.requireString(btn.get("text"), true)
		c.maxChars(btn.get("text"), 25, "button")
		switch typ {
		case "url":
			urls++
			c.webURL(btn.get("url"))
		case "phone_number":
			phones++
			c.requireString(btn.get("phone_number"), true)
			c.apply(btn.get("phone_number"), func(s string) error {
				if p, _, err := normalizePhone(s, ""); err != nil || p != strings.TrimSpace(s) {
					return reasonf(NotE164, "must be a phone number in E.164 form, like +593991000001")
				}
				return nil
			})
		}
	}
	if urls > 2 {
		c.fail(b, reasonf(URLButtons, "has %d url buttons; the most is 2", urls))
	}
	if phones > 1 {
		c.fail(b, reasonf(PhoneButtons, "has %d phone_number buttons; the most is 1", phones))
	}
}
