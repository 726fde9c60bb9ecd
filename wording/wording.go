// Package wording puts the values pregon's packages hold in the reader's
// language, through package i18n's catalogs: why a contact was not sent,
// a contact's state, how a run ended, where a campaign's messages went,
// what a dry run found. The command line and the page (package ui) share
// it, so that both say the same things the same way. It decides nothing,
// reads nothing and prints nothing.
package wording

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/store"
)

// wordArgs are, for the codes that take one, the value that is a word
// to translate, and the words it may be.
var wordArgs = map[campaign.Code]struct {
	at    int
	words map[string]string
}{
	campaign.BeyondHeader: {3, map[string]string{
		";": i18n.K("word.semicolon"), ",": i18n.K("word.comma"), "\t": i18n.K("word.tab")}},
	campaign.TooLong: {2, map[string]string{
		"answer": i18n.K("word.answer"), "body": i18n.K("word.body"), "footer": i18n.K("word.footer"),
		"header": i18n.K("word.header"), "button": i18n.K("word.button")}},
}

// Reason puts a reason in words: its code's message with its values (and
// the reason under it, last), after the cell it is in.
func Reason(tr *i18n.Printer, r campaign.Reason) string {
	key := "reason." + string(r.Code)
	if !i18n.Has(key) {
		// A code of a newer pregon: its values are all there is.
		return strings.TrimSpace(fmt.Sprintln(append([]any{string(r.Code)}, r.Args...)...))
	}
	args := append([]any{}, r.Args...)
	if w, ok := wordArgs[r.Code]; ok && w.at < len(args) {
		if s, ok := args[w.at].(string); ok && w.words[s] != "" {
			args[w.at] = tr.T(w.words[s])
		}
	}
	if r.Cause != nil {
		args = append(args, Reason(tr, *r.Cause))
	}
	text := tr.T(key, args...)
	if r.Column != "" {
		text = tr.T("reason.in_cell", r.Column, r.Value, text)
	}
	return text
}

// Stored is a ledger's reason in words: the code's, or the prose an older
// pregon wrote.
func Stored(tr *i18n.Printer, why campaign.Reason, prose string) string {
	if why.IsZero() {
		return strings.TrimSpace(prose)
	}
	return Reason(tr, why)
}

// stateKeys are the states' names in words, plural (for counts) and
// singular.
var stateKeys = map[campaign.State][2]string{
	campaign.Pending:   {i18n.K("state.pending"), i18n.K("state.pending.one")},
	campaign.Sending:   {i18n.K("state.sending"), i18n.K("state.sending.one")},
	campaign.Sent:      {i18n.K("state.sent"), i18n.K("state.sent.one")},
	campaign.Failed:    {i18n.K("state.failed"), i18n.K("state.failed.one")},
	campaign.Unknown:   {i18n.K("state.unknown"), i18n.K("state.unknown.one")},
	campaign.Invalid:   {i18n.K("state.invalid"), i18n.K("state.invalid.one")},
	campaign.Duplicate: {i18n.K("state.duplicate"), i18n.K("state.duplicate.one")},
}

// State is the state as a heading over counts (sent, en duda).
func State(tr *i18n.Printer, s campaign.State) string {
	if k, ok := stateKeys[s]; ok {
		return tr.T(k[0])
	}
	return string(s)
}

// StateOne is one contact's state in words (sent, enviado).
func StateOne(tr *i18n.Printer, s campaign.State) string {
	if k, ok := stateKeys[s]; ok {
		return tr.T(k[1])
	}
	return string(s)
}

// endedKeys say how a run ended, by the ledger's ended_by.
var endedKeys = map[string]string{
	string(engine.Finished): i18n.K("ended.finished"), string(engine.Interrupted): i18n.K("ended.interrupted"),
	string(engine.Deadline): i18n.K("ended.deadline"), string(engine.NotAfter): i18n.K("ended.not_after"),
	string(engine.TokenRejected): i18n.K("ended.token_rejected"), string(engine.WrongAddress): i18n.K("ended.wrong_address"),
	string(engine.Unreachable): i18n.K("ended.unreachable"), string(engine.Broken): i18n.K("ended.error"),
	"dry run": i18n.K("ended.dry_run"),
}

// Ended says how a run ended, in words.
func Ended(tr *i18n.Printer, endedBy string) string {
	if k, ok := endedKeys[endedBy]; ok {
		return tr.T(k)
	}
	return endedBy
}

// Destination names where a campaign's messages went.
func Destination(tr *i18n.Printer, d store.Destination) string {
	where := d.BaseURL
	switch {
	case d.Sandbox:
		where = tr.T("destination.sandbox")
	case where == "":
		where = tr.T("destination.unrecorded")
	case d.Rehearsal:
		where = tr.T("destination.rehearsal", where)
	}
	if d.API == "" || d.Sandbox || d.Rehearsal {
		return where // a rehearsal: which API it played does not matter to the reader
	}
	return tr.T("destination.api", d.API, where)
}

// Part is a part of a message (body, header, footer, button, answer) in
// words; another name as it is.
func Part(tr *i18n.Printer, part string) string {
	if k, ok := wordArgs[campaign.TooLong].words[part]; ok {
		return tr.T(k)
	}
	return part
}

// TemplateCheck says what became of a dry run's WhatsApp template check;
// tokenEnv names the variable that holds the token.
func TemplateCheck(tr *i18n.Printer, check engine.TemplateCheck, tokenEnv string) string {
	switch check {
	case engine.TemplateChecked:
		return tr.T("dry.template.checked")
	case engine.TemplateNoToken:
		return tr.T("dry.template.no_token", tokenEnv)
	case engine.TemplateNoAddress:
		return tr.T("dry.template.no_address")
	case engine.TemplateExample:
		return tr.T("dry.template.example")
	case engine.TemplateUnreadable:
		return tr.T("dry.template.unreadable")
	case engine.TemplateNotListed:
		return tr.T("dry.template.not_listed")
	}
	return ""
}

// TextUnknown says why a template's text is not in a preview, and what
// would show it.
func TextUnknown(tr *i18n.Printer, check engine.TemplateCheck, tokenEnv string) string {
	switch check {
	case engine.TemplateExample, engine.TemplateNoAddress:
		return tr.T("dry.text_unknown.address", tokenEnv)
	case engine.TemplateNoToken:
		return tr.T("dry.text_unknown.token", tokenEnv)
	}
	return tr.T("dry.text_unknown.unlisted")
}

// Warning says what a kind of warning means.
func Warning(tr *i18n.Printer, code campaign.WarningCode) string {
	switch code {
	case campaign.SingleBrace:
		return tr.T("warning.single_brace")
	case campaign.FixedLine:
		return tr.T("warning.fixed_line")
	case campaign.CommaInName:
		return tr.T("warning.comma_in_name")
	}
	return string(code)
}

// WarningExample is one occurrence of a warning.
func WarningExample(tr *i18n.Printer, w campaign.Warning) string {
	if w.Code == campaign.SingleBrace {
		return tr.T("warning.example_brace", w.Value, w.Path, w.Column)
	}
	return tr.T("warning.example", strconv.Itoa(w.Line), w.Column, w.Value)
}

// Unfilled says what to do about a value of the campaign that is still
// one of init's examples.
func Unfilled(tr *i18n.Printer, u campaign.Unfilled) string {
	switch u.Kind {
	case campaign.UnfilledBaseURL:
		return tr.T("unfilled.base_url", u.Key, u.Value)
	case campaign.UnfilledChannelID:
		return tr.T("unfilled.channel", u.Key, u.Value)
	case campaign.UnfilledTemplateName:
		return tr.T("unfilled.template_name", u.Key, u.Value)
	case campaign.UnfilledURL:
		return tr.T("unfilled.url", u.Key, u.Value)
	}
	return tr.T("unfilled.text", u.Key, u.Value, campaign.ToWrite)
}

// Contact is a contact as people write it: the phone number, the e-mail
// address, or "id 123", without the API's prefix.
func Contact(tr *i18n.Printer, ident string) string {
	kind, v, ok := strings.Cut(ident, ":")
	switch {
	case !ok:
		return ident
	case kind == "id":
		return tr.T("contact.id", v)
	}
	return v
}

// CellReason is a row's problem without the cell it is in, for a table
// that shows the column and the value apart.
func CellReason(tr *i18n.Printer, e *campaign.RowError) string {
	r := e.Reason()
	r.Column, r.Value = "", ""
	return Reason(tr, r)
}
