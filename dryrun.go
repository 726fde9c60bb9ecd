package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/wording"
)

// printDryRun shows what a send would do, and decides the exit.
func printDryRun(tr *i18n.Printer, stdout io.Writer, c *campaign.Campaign, f *sendFlags, d *engine.DryRun) error {
	exit := dryRunExit(tr, f, d)
	if f.json {
		if err := writeDryRunJSON(stdout, c, f, d, codeOf(exit)); err != nil {
			return err
		}
		return exit
	}
	printDryRunText(tr, stdout, c, f, d)
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

// writeDryRunJSON writes the dry run for programs: codes and English
// messages, whatever the reader's language.
func writeDryRunJSON(w io.Writer, c *campaign.Campaign, f *sendFlags, d *engine.DryRun, code int) error {
	en := i18n.For(i18n.English)
	out := dryRunJSON{Campaign: c.Name, CampaignFile: f.campaign, ContactsFile: f.contacts, Encoding: d.Encoding,
		Destination:   dryRunDestination{Sandbox: d.Destination.Sandbox, URL: d.Destination.URL},
		Counts:        dryRunCounts{WouldSend: d.Valid, Invalid: d.Invalid, Duplicate: d.Duplicate, AlreadyDone: d.Done, Empty: d.Empty},
		TemplateCheck: d.Template, Errors: []dryRunError{}, Problems: []dryRunProblem{}, Warnings: []dryRunWarning{},
		Previews: d.Previews, ExitCode: code}
	if out.Previews == nil {
		out.Previews = []campaign.Preview{}
	}
	for _, u := range d.Unfilled {
		out.Errors = append(out.Errors, dryRunError{Key: u.Key, Value: u.Value, Message: wording.Unfilled(en, u)})
	}
	for _, p := range d.Problems {
		j := dryRunProblem{State: string(p.State), File: p.File, Line: p.Line}
		if p.State == campaign.Duplicate {
			j.Value, j.Reason, j.FirstLine = p.Contact, wording.Reason(en, campaign.DuplicateReason(p.FirstLine)), p.FirstLine
		} else {
			j.Column, j.Value, j.Reason = p.Row.Column, p.Row.Value, wording.CellReason(en, p.Row)
		}
		out.Problems = append(out.Problems, j)
	}
	for _, cw := range d.CampaignWarnings {
		out.Warnings = append(out.Warnings, dryRunWarning{Code: "campaign", Count: 1, Message: cw, Examples: []dryRunExample{}})
	}
	for _, warn := range d.Warnings {
		j := dryRunWarning{Code: string(warn.Code), Count: warn.Count, Message: wording.Warning(en, warn.Code), Examples: []dryRunExample{}}
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
func dryRunExit(tr *i18n.Printer, f *sendFlags, d *engine.DryRun) error {
	switch d.Code() {
	case engine.BadInput:
		return usageError{&unfilledError{file: f.campaign, values: d.Unfilled}}
	case engine.Incomplete:
		return &outcomeError{code: exitIncomplete, msg: tr.T("dry.invalid", d.Invalid)}
	}
	return nil
}

func printDryRunText(tr *i18n.Printer, w io.Writer, c *campaign.Campaign, f *sendFlags, d *engine.DryRun) {
	fmt.Fprintln(w, tr.T("dry.title", c.Name, f.contacts, d.Encoding))
	fmt.Fprintln(w, "  "+tr.T("dry.counts", d.Valid, d.Invalid, d.Duplicate))
	if d.Empty > 0 {
		fmt.Fprintln(w, "  "+tr.T("dry.empty", d.Empty))
	}
	if d.Done > 0 {
		fmt.Fprintln(w, "  "+tr.T("dry.done", d.Done, f.ledger, statusCommand(f.ledger, c.Name)))
	}
	fmt.Fprintln(w, "  "+destinationText(tr, d.Destination, c))
	if s := wording.TemplateCheck(tr, d.Template, tokenEnv); s != "" {
		fmt.Fprintln(w, "  "+s)
	}
	if n := d.Invalid + d.Duplicate; n > 0 {
		fmt.Fprintf(w, "\n%s\n", problemsTitle(tr, n, len(d.Problems)))
		for _, p := range d.Problems {
			fmt.Fprintln(w, "  "+problemText(tr, p))
		}
		if more := n - len(d.Problems); more > 0 {
			fmt.Fprintln(w, "  "+tr.T("dry.more_problems", more, shellQuote(c.Name)))
		}
	}
	if len(d.Warnings)+len(d.CampaignWarnings) > 0 {
		fmt.Fprintf(w, "\n%s\n", tr.T("dry.warnings"))
		for _, cw := range d.CampaignWarnings {
			fmt.Fprintln(w, "  "+cw)
		}
		for _, warn := range d.Warnings {
			fmt.Fprintf(w, "  %s: %s\n", wording.Warning(tr, warn.Code), tr.Int(warn.Count))
			for _, ex := range warn.First {
				fmt.Fprintln(w, "    "+wording.WarningExample(tr, ex))
			}
			if more := warn.Count - len(warn.First); more > 0 {
				fmt.Fprintln(w, "    "+tr.T("dry.more", more))
			}
		}
	}
	if len(d.Previews) > 0 {
		fmt.Fprintf(w, "\n%s\n", tr.T("dry.previews", len(d.Previews)))
		for _, p := range d.Previews {
			fmt.Fprintln(w)
			printPreview(tr, w, p, d.Template)
		}
	}
}

// destinationText says where the send would post: the platform's address
// and the API's version, in words (-json has the whole URL).
func destinationText(tr *i18n.Printer, d engine.Destination, c *campaign.Campaign) string {
	switch {
	case d.Sandbox:
		return tr.T("dry.to.sandbox")
	case d.URL == "":
		return tr.T("dry.to.none")
	}
	base, ok := strings.CutSuffix(d.URL, c.PathPattern())
	if !ok {
		base = d.URL
	}
	return tr.T("dry.to.url", base, c.API)
}

// problemsTitle heads the list of problems: how many, and how many shown.
func problemsTitle(tr *i18n.Printer, total, shown int) string {
	if shown < total {
		return tr.T("dry.problems_some", total, shown)
	}
	return tr.T("dry.problems", total)
}

// problemText is one invalid or duplicate row.
func problemText(tr *i18n.Printer, p engine.Problem) string {
	if p.State == campaign.Duplicate {
		return tr.T("dry.duplicate", rowPlace(tr, p.File, p.Line), strconv.Itoa(p.FirstLine), wording.Contact(tr, p.Contact))
	}
	return describe(tr, p.Row)
}

// printPreview lays out one message: a line saying which row, to whom
// and what kind of message, then its parts, one labelled line each.
func printPreview(tr *i18n.Printer, w io.Writer, p campaign.Preview, check engine.TemplateCheck) {
	fmt.Fprintf(w, "  %s\n", tr.T("dry.preview", strconv.Itoa(p.Line), wording.Contact(tr, p.Contact), previewKind(tr, p)))
	var parts [][2]string // label, text
	part := func(label, text string) {
		if text != "" {
			parts = append(parts, [2]string{label, text})
		}
	}
	if t := p.Template; t != nil && !t.TextKnown {
		fmt.Fprintf(w, "    %s\n", wording.TextUnknown(tr, check, tokenEnv))
		for _, prm := range t.Parameters {
			part(parameterLabel(tr, prm), mediaText(prm.Value, prm.Filename))
		}
	}
	if h := p.Header; h != nil {
		if h.Format == "text" {
			part(label(tr, "header"), h.Text)
		} else {
			part(label(tr, "header"), label(tr, h.Format)+": "+mediaText(h.Link, h.Filename))
		}
	}
	part(label(tr, "subject"), p.Subject)
	part(label(tr, "question"), p.Title)
	if p.Template != nil {
		part(label(tr, "body"), p.Text)
	} else {
		part("", p.Text)
	}
	part(label(tr, "footer"), p.Footer)
	for _, b := range p.Buttons {
		part(label(tr, "button"), buttonText(b))
	}
	if len(p.Replies) > 0 {
		part(label(tr, "options"), "["+strings.Join(p.Replies, "] [")+"]")
	}
	if a := p.Attachment; a != nil {
		part(label(tr, a.Type), mediaText(a.URL, a.FileName))
	}
	if len(p.Payload) > 0 {
		part(label(tr, "payload"), string(p.Payload))
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

// labelKeys name the parts of a message and the kinds of media.
var labelKeys = map[string]string{
	"header": i18n.K("label.header"), "body": i18n.K("label.body"), "footer": i18n.K("label.footer"),
	"button": i18n.K("label.button"), "subject": i18n.K("label.subject"), "question": i18n.K("label.question"),
	"options": i18n.K("label.options"), "payload": i18n.K("label.payload"), "image": i18n.K("label.image"),
	"video": i18n.K("label.video"), "audio": i18n.K("label.audio"), "document": i18n.K("label.document"),
	"file": i18n.K("label.file"),
}

// label is a part of a message, or a kind of media, in words; one pregon
// does not know stays as the campaign names it.
func label(tr *i18n.Printer, name string) string {
	if k, ok := labelKeys[name]; ok {
		return tr.T(k)
	}
	return name
}

// previewKind names the kind of message.
func previewKind(tr *i18n.Printer, p campaign.Preview) string {
	switch p.Type {
	case "whatsapp_template":
		return tr.T("kind.template", p.Template.Name, p.Template.LanguageCode)
	case "quick_reply":
		return tr.T("kind.quick_reply")
	case "text":
		return tr.T("kind.text")
	case "email":
		return tr.T("kind.email")
	case "custom_payload":
		return tr.T("kind.custom_payload")
	}
	if p.Attachment != nil {
		return tr.T("kind.attachment", label(tr, p.Attachment.Type))
	}
	return p.Type
}

// parameterLabel names a template parameter: "body {{1}}", "header image".
func parameterLabel(tr *i18n.Printer, p campaign.Parameter) string {
	if p.Type != "text" {
		return label(tr, p.Component) + " " + label(tr, p.Type)
	}
	return fmt.Sprintf("%s {{%d}}", label(tr, p.Component), p.Index)
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
