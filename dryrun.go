package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/i18n"
)

// printDryRun shows what a send would do, and decides the exit.
func printDryRun(stdout io.Writer, c *campaign.Campaign, f *sendFlags, d *engine.DryRun) error {
	exit := dryRunExit(f, d)
	if f.json {
		if err := writeDryRunJSON(stdout, c, f, d, codeOf(exit)); err != nil {
			return err
		}
		return exit
	}
	printDryRunText(stdout, c, f, d)
	return exit
}

// dryRunJSON is what `send -dry-run -json` prints: one object (see the
// README's flag reference).
type dryRunJSON struct {
	Campaign      string               `json:"campaign"`
	CampaignFile  string               `json:"campaign_file"`
	ContactsFile  string               `json:"contacts_file"`
	Encoding      string               `json:"encoding"`
	Destination   dryRunDestination    `json:"destination"`
	Counts        dryRunCounts         `json:"counts"`
	TemplateCheck engine.TemplateCheck `json:"template_check"`
	Errors        []dryRunError        `json:"errors"`
	Problems      []dryRunProblem      `json:"problems"`
	Warnings      []dryRunWarning      `json:"warnings"`
	Previews      []campaign.Preview   `json:"previews"`
	ExitCode      int                  `json:"exit_code"`
}

type dryRunDestination struct {
	Sandbox bool   `json:"sandbox"`
	URL     string `json:"url"` // "" with the sandbox, or when there is no address
}

type dryRunCounts struct {
	WouldSend   int `json:"would_send"`
	Invalid     int `json:"invalid"`
	Duplicate   int `json:"duplicate"`
	AlreadyDone int `json:"already_done"`
	Empty       int `json:"empty"`
}

// dryRunError is a value of the campaign that stops the send.
type dryRunError struct {
	Key     string `json:"key"`
	Value   string `json:"value"`
	Message string `json:"message"`
}

type dryRunProblem struct {
	State     string `json:"state"` // invalid or duplicate
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    string `json:"column"` // "" when the whole row is at fault
	Value     string `json:"value"`  // the cell; for a duplicate, the contact
	Reason    string `json:"reason"`
	FirstLine int    `json:"first_line,omitempty"` // duplicate: the line of the contact's first row
}

// dryRunWarning is something that will be sent as it is, but likely is
// not what was meant: a kind of it, counted, with its first occurrences.
type dryRunWarning struct {
	Code     string          `json:"code"` // single_brace, fixed_line, comma_in_name, or campaign
	Count    int             `json:"count"`
	Message  string          `json:"message"`
	Examples []dryRunExample `json:"examples"`
}

type dryRunExample struct {
	Line   int    `json:"line,omitempty"` // a row's; none for the campaign's
	Column string `json:"column"`
	Value  string `json:"value"`
	Path   string `json:"path,omitempty"` // single_brace: where in the message
}

func writeDryRunJSON(w io.Writer, c *campaign.Campaign, f *sendFlags, d *engine.DryRun, code int) error {
	out := dryRunJSON{Campaign: c.Name, CampaignFile: f.campaign, ContactsFile: f.contacts, Encoding: d.Encoding,
		Destination:   dryRunDestination{Sandbox: d.Destination.Sandbox, URL: d.Destination.URL},
		Counts:        dryRunCounts{WouldSend: d.Valid, Invalid: d.Invalid, Duplicate: d.Duplicate, AlreadyDone: d.Done, Empty: d.Empty},
		TemplateCheck: d.Template, Errors: []dryRunError{}, Problems: []dryRunProblem{}, Warnings: []dryRunWarning{},
		Previews: d.Previews, ExitCode: code}
	if out.Previews == nil {
		out.Previews = []campaign.Preview{}
	}
	for _, u := range d.Unfilled {
		out.Errors = append(out.Errors, dryRunError{Key: u.Key, Value: u.Value, Message: unfilledText(u)})
	}
	for _, p := range d.Problems {
		j := dryRunProblem{State: string(p.State), File: p.File, Line: p.Line}
		if p.State == campaign.Duplicate {
			j.Value, j.Reason, j.FirstLine = p.Contact, reasonText(i18n.For(i18n.English), campaign.DuplicateReason(p.FirstLine)), p.FirstLine
		} else {
			j.Column, j.Value, j.Reason = p.Row.Column, p.Row.Value, p.Row.Err.Error()
		}
		out.Problems = append(out.Problems, j)
	}
	for _, cw := range d.CampaignWarnings {
		out.Warnings = append(out.Warnings, dryRunWarning{Code: "campaign", Count: 1, Message: cw, Examples: []dryRunExample{}})
	}
	for _, warn := range d.Warnings {
		j := dryRunWarning{Code: string(warn.Code), Count: warn.Count, Message: warningSummary(warn.Code), Examples: []dryRunExample{}}
		for _, ex := range warn.First {
			j.Examples = append(j.Examples, dryRunExample{Line: ex.Line, Column: ex.Column, Value: ex.Value, Path: ex.Path})
		}
		out.Warnings = append(out.Warnings, j)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// dryRunExit is the exit a send would have: 2 for a campaign it would
// refuse, 1 when rows are invalid.
func dryRunExit(f *sendFlags, d *engine.DryRun) error {
	switch d.Code() {
	case engine.BadInput:
		return usageError{errors.New(unfilledMessage(f.campaign, d.Unfilled))}
	case engine.Incomplete:
		return &outcomeError{code: exitIncomplete, msg: fmt.Sprintf("%d rows are invalid and would not be sent", d.Invalid)}
	}
	return nil
}

func printDryRunText(w io.Writer, c *campaign.Campaign, f *sendFlags, d *engine.DryRun) {
	fmt.Fprintf(w, "Dry run of campaign %q (%s, %s): nothing was sent.\n", c.Name, f.contacts, d.Encoding)
	fmt.Fprintf(w, "  would send: %d   invalid: %d   duplicate: %d\n", d.Valid, d.Invalid, d.Duplicate)
	if d.Empty > 0 {
		fmt.Fprintf(w, "  %d empty rows skipped\n", d.Empty)
	}
	if d.Done > 0 {
		fmt.Fprintf(w, "  not sent again: %d (the ledger %s has them sent, in doubt or refused; see %s)\n", d.Done, f.ledger, statusCommand(f.ledger, c.Name))
	}
	fmt.Fprintln(w, "  "+destinationText(d.Destination))
	if s := templateCheckText(d.Template); s != "" {
		fmt.Fprintln(w, "  "+s)
	}
	if n := d.Invalid + d.Duplicate; n > 0 {
		fmt.Fprintf(w, "\n%s\n", problemsTitle(n, len(d.Problems)))
		for _, p := range d.Problems {
			fmt.Fprintln(w, "  "+problemText(p))
		}
		if more := n - len(d.Problems); more > 0 {
			fmt.Fprintln(w, "  "+moreProblemsText(more, c.Name))
		}
	}
	if len(d.Warnings)+len(d.CampaignWarnings) > 0 {
		fmt.Fprintf(w, "\n%s\n", warningsTitle())
		for _, cw := range d.CampaignWarnings {
			fmt.Fprintln(w, "  "+cw)
		}
		for _, warn := range d.Warnings {
			fmt.Fprintf(w, "  %s: %d\n", warningSummary(warn.Code), warn.Count)
			for _, ex := range warn.First {
				fmt.Fprintln(w, "    "+warningExample(ex))
			}
			if more := warn.Count - len(warn.First); more > 0 {
				fmt.Fprintln(w, "    "+moreWarningsText(more))
			}
		}
	}
	if len(d.Previews) > 0 {
		fmt.Fprintf(w, "\n%s\n", previewsTitle(len(d.Previews)))
		for _, p := range d.Previews {
			fmt.Fprintln(w)
			printPreview(w, p, d.Template)
		}
	}
}

// destinationText says where the send would post.
func destinationText(d engine.Destination) string {
	switch {
	case d.Sandbox:
		return "to: the built-in sandbox (a fake Messages API on this machine: nothing leaves it)"
	case d.URL == "":
		return `to: no address yet: set "baseUrl" in the campaign, or -base-url`
	}
	return "to: POST " + d.URL
}

// templateCheckText says what became of the WhatsApp template check.
func templateCheckText(check engine.TemplateCheck) string {
	switch check {
	case engine.TemplateChecked:
		return "WhatsApp template: on the platform, approved, in this language, with these parameters"
	case engine.TemplateNoToken:
		return fmt.Sprintf("WhatsApp template: not checked (set %s to check it against the platform)", tokenEnv)
	case engine.TemplateNoAddress:
		return "WhatsApp template: not checked (no baseUrl in the campaign, nor -base-url)"
	case engine.TemplateExample:
		return "WhatsApp template: not checked (baseUrl is still the example: the token goes only to your brand's API)"
	case engine.TemplateUnreadable:
		return "WhatsApp template: not checked (the platform's template list could not be read; check the address)"
	case engine.TemplateNotListed:
		return "WhatsApp template: not checked (the platform does not list this channel's templates)"
	}
	return ""
}

// problemsTitle heads the list of problems: how many, and how many shown.
func problemsTitle(total, shown int) string {
	if shown < total {
		return fmt.Sprintf("Problems: %d (the first %d):", total, shown)
	}
	return fmt.Sprintf("Problems: %d", total)
}

// problemText is one invalid or duplicate row.
func problemText(p engine.Problem) string {
	if p.State == campaign.Duplicate {
		return campaign.DuplicateNote(p.File, p.Line, p.FirstLine, p.Contact)
	}
	return p.Row.Error()
}

// moreProblemsText says how many problems are not listed, and where they
// all are.
func moreProblemsText(more int, name string) string {
	return fmt.Sprintf("… and %d more (see them all with -json, or after the send with pregon export -campaign %s -outcome invalid,duplicate)",
		more, shellQuote(name))
}

// warningsTitle heads the warnings.
func warningsTitle() string {
	return "Warnings (sent as they are, but likely not what you meant):"
}

// warningSummary says what a kind of warning means.
func warningSummary(code campaign.WarningCode) string {
	switch code {
	case campaign.SingleBrace:
		return "column names in single braces, sent as written, braces and all (write {{Nombre}} to fill one in)"
	case campaign.FixedLine:
		return "phone numbers that are fixed lines, which WhatsApp does not reach (it needs a mobile)"
	case campaign.CommaInName:
		return `names written "Apellido, Nombre", which the customer reads that way ("Hola Pérez, Ana")`
	}
	return string(code)
}

// warningExample is one occurrence of a warning.
func warningExample(w campaign.Warning) string {
	if w.Code == campaign.SingleBrace {
		return fmt.Sprintf("%s in %s (the column %q)", w.Value, w.Path, w.Column)
	}
	return fmt.Sprintf("line %d, column %q: %q", w.Line, w.Column, w.Value)
}

// moreWarningsText counts the occurrences not shown.
func moreWarningsText(more int) string {
	return fmt.Sprintf("… and %d more", more)
}

// previewsTitle heads the messages shown.
func previewsTitle(n int) string {
	if n == 1 {
		return "The first message, as the customer will see it:"
	}
	return fmt.Sprintf("The first %d messages, as the customer will see them:", n)
}

// printPreview lays out one message: a line saying which row, to whom
// and what kind of message, then its parts, one labelled line each.
func printPreview(w io.Writer, p campaign.Preview, check engine.TemplateCheck) {
	fmt.Fprintf(w, "  line %d, to %s: %s\n", p.Line, p.Contact, previewKind(p))
	var parts [][2]string // label, text
	part := func(label, text string) {
		if text != "" {
			parts = append(parts, [2]string{label, text})
		}
	}
	if t := p.Template; t != nil && !t.TextKnown {
		fmt.Fprintf(w, "    %s\n", templateTextUnknown(check))
		for _, prm := range t.Parameters {
			part(parameterLabel(prm), mediaText(prm.Value, prm.Filename))
		}
	}
	if h := p.Header; h != nil {
		if h.Format == "text" {
			part(labelHeader, h.Text)
		} else {
			part(labelHeader, h.Format+": "+mediaText(h.Link, h.Filename))
		}
	}
	part(labelSubject, p.Subject)
	part(labelQuestion, p.Title)
	part(labelText(p), p.Text)
	part(labelFooter, p.Footer)
	for _, b := range p.Buttons {
		part(labelButton, buttonText(b))
	}
	if len(p.Replies) > 0 {
		part(labelOptions, "["+strings.Join(p.Replies, "] [")+"]")
	}
	if a := p.Attachment; a != nil {
		part(a.Type, mediaText(a.URL, a.FileName))
	}
	if len(p.Payload) > 0 {
		part(labelPayload, string(p.Payload))
	}
	width := 0
	for _, pt := range parts {
		width = max(width, utf8.RuneCountInString(pt[0]))
	}
	for _, pt := range parts {
		// A text of several lines keeps its lines, under the first.
		label := pt[0] + strings.Repeat(" ", width-utf8.RuneCountInString(pt[0]))
		for _, l := range strings.Split(strings.ReplaceAll(pt[1], "\r\n", "\n"), "\n") {
			if width == 0 {
				fmt.Fprintf(w, "    %s\n", l)
			} else {
				fmt.Fprintf(w, "    %s  %s\n", label, l)
			}
			label = strings.Repeat(" ", width)
		}
	}
}

// The labels of a message's parts.
const (
	labelHeader   = "header"
	labelBody     = "body"
	labelFooter   = "footer"
	labelButton   = "button"
	labelSubject  = "subject"
	labelQuestion = "question"
	labelOptions  = "options"
	labelPayload  = "payload"
)

// labelText labels the main text: a template's body, or the text.
func labelText(p campaign.Preview) string {
	if p.Template != nil {
		return labelBody
	}
	return ""
}

// previewKind names the kind of message.
func previewKind(p campaign.Preview) string {
	switch p.Type {
	case "whatsapp_template":
		return fmt.Sprintf("WhatsApp template %q (%s)", p.Template.Name, p.Template.LanguageCode)
	case "quick_reply":
		return "a question with quick replies"
	case "text":
		return "text"
	case "email":
		return "e-mail"
	case "custom_payload":
		return "custom payload"
	}
	if p.Attachment != nil {
		return "attachment (" + p.Attachment.Type + ")"
	}
	return p.Type
}

// templateTextUnknown says why a template's text is not shown, and what
// would show it.
func templateTextUnknown(check engine.TemplateCheck) string {
	switch check {
	case engine.TemplateExample, engine.TemplateNoAddress:
		return fmt.Sprintf("its text is on the platform (put your brand's API address in baseUrl and set %s to see it here); the parameters, in order:", tokenEnv)
	case engine.TemplateNoToken:
		return fmt.Sprintf("its text is on the platform (set %s to see it here); the parameters, in order:", tokenEnv)
	}
	return "its text is on the platform, which did not list it; the parameters, in order:"
}

// parameterLabel names a template parameter: "body {{1}}", "header image".
func parameterLabel(p campaign.Parameter) string {
	if p.Type != "text" {
		return p.Component + " " + p.Type
	}
	return fmt.Sprintf("%s {{%d}}", p.Component, p.Index)
}

// mediaText is a file's link, with the name the customer sees when the
// link does not end in it.
func mediaText(link, name string) string {
	if name == "" || strings.HasSuffix(link, "/"+name) {
		return link
	}
	return fmt.Sprintf("%s (%s)", name, link)
}

// buttonText is a button as the customer sees it, and where it leads.
func buttonText(b campaign.Button) string {
	switch {
	case b.URL != "":
		return fmt.Sprintf("[%s] → %s", b.Text, b.URL)
	case b.PhoneNumber != "":
		return fmt.Sprintf("[%s] → %s", b.Text, b.PhoneNumber)
	}
	return "[" + b.Text + "]"
}
