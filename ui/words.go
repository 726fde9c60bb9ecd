package ui

import (
	"errors"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/store"
)

// errorText says what stopped a check or a send, and what to do.
func errorText(l lang, err error) string {
	var locked *store.LockedError
	var unfilled *engine.UnfilledError
	var changed *store.ChangedError
	var dest *store.DestinationError
	var input *engine.InputError
	var camp *campaign.Error
	switch {
	case errors.As(err, &locked):
		if locked.Holder.PID == 0 {
			return l.t("error.locked_unnamed")
		}
		return l.t("error.locked", locked.Holder.PID, locked.Holder.Host, l.when(locked.Holder.Since))
	case errors.As(err, &unfilled):
		texts := make([]string, len(unfilled.Values))
		for i, u := range unfilled.Values {
			texts[i] = unfilledText(l, u)
		}
		return l.t("error.unfilled", strings.Join(texts, "; "))
	case errors.As(err, &changed):
		return l.t("error.changed", campaign.DescribeChange(changed.Recorded, changed.Current))
	case errors.As(err, &dest):
		if dest.Recorded.Rehearsal {
			return l.t("error.dest_rehearsal", dest.Recorded.String(), dest.Current.String())
		}
		return l.t("error.dest", dest.Recorded.String(), dest.Current.String())
	case errors.Is(err, os.ErrNotExist):
		return l.t("error.no_ledger")
	case errors.As(err, &camp):
		return l.t("error.campaign", err)
	case errors.As(err, &input):
		return l.t("error.input", input.Err)
	}
	return l.t("error.other", err)
}

// unfilledText is what to do about a value init left to fill in.
func unfilledText(l lang, u campaign.Unfilled) string {
	switch u.Kind {
	case campaign.UnfilledBaseURL:
		return l.t("unfilled.base_url", u.Key, u.Value)
	case campaign.UnfilledChannelID:
		return l.t("unfilled.channel", u.Key, u.Value)
	case campaign.UnfilledTemplateName:
		return l.t("unfilled.template", u.Key, u.Value)
	case campaign.UnfilledURL:
		return l.t("unfilled.url", u.Key, u.Value)
	}
	return l.t("unfilled.text", u.Key, u.Value, campaign.ToWrite)
}

// templateCheckText says what became of the WhatsApp template check.
func templateCheckText(l lang, c engine.TemplateCheck) string {
	if c == engine.TemplateNone {
		return ""
	}
	return l.t("template." + string(c))
}

// textUnknown says why a template's text is not in its preview.
func textUnknown(l lang, c engine.TemplateCheck) string {
	switch c {
	case engine.TemplateExample, engine.TemplateNoAddress:
		return l.t("preview.unknown_address")
	case engine.TemplateNoToken:
		return l.t("preview.unknown_token")
	}
	return l.t("preview.unknown_unlisted")
}

// warningText says what a kind of warning means.
func warningText(l lang, code campaign.WarningCode) string {
	switch code {
	case campaign.SingleBrace, campaign.FixedLine, campaign.CommaInName:
		return l.t("warning." + string(code))
	}
	return string(code)
}

func warningExample(l lang, w campaign.Warning) string {
	if w.Code == campaign.SingleBrace {
		return l.t("warning.example_brace", w.Value, w.Path, w.Column)
	}
	return l.t("warning.example_row", w.Line, w.Column, w.Value)
}

// stateLabel is a contact's state in words.
func stateLabel(l lang, s campaign.State) string { return l.t("state." + string(s)) }

// endedByText says how a run ended, as the ledger records it.
func endedByText(l lang, endedBy string) string {
	key := "ended." + strings.ReplaceAll(endedBy, " ", "_")
	if _, ok := texts[key]; !ok {
		return endedBy
	}
	return l.t(key)
}

// holderText says who sends a campaign now.
func holderText(l lang, h *store.Holder) string {
	if h.PID == 0 {
		return l.t("live.elsewhere_unnamed")
	}
	if h.PID == os.Getpid() {
		return l.t("live.here", l.when(h.Since))
	}
	return l.t("live.elsewhere", h.PID, h.Host, l.when(h.Since))
}

// holderWhere says briefly which run holds a campaign.
func holderWhere(l lang, h *store.Holder) string {
	switch h.PID {
	case 0:
		return l.t("now.unnamed")
	case os.Getpid():
		return l.t("now.here")
	}
	return l.t("now.there", h.PID, h.Host, l.when(h.Since))
}

// endText says how a run the page started ended.
func endText(l lang, res *engine.Result, err error) string {
	if err != nil {
		return errorText(l, err)
	}
	text := capital(endedByText(l, string(res.EndedBy))) + ". " + l.t("live.this_run", l.num(int(res.Stats.Sent)),
		l.num(int(res.Stats.Failed)), l.num(int(res.Stats.Unknown)), l.dur(res.Elapsed))
	switch res.EndedBy {
	case engine.Finished:
		if res.Code == engine.Incomplete {
			text += " " + l.t("live.incomplete")
		}
	case engine.Interrupted:
		text += " " + l.t("live.resume")
	default:
		if res.Err != nil {
			text += " " + l.t("error.other", res.Err)
		}
	}
	return text
}

// capital is s with its first letter in upper case.
func capital(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// lastRunText says how the campaign's last send went.
func lastRunText(l lang, r store.Run) string {
	if r.Ended.IsZero() {
		return l.t("live.last_killed", l.when(r.Started))
	}
	return l.t("live.last", l.when(r.Started), endedByText(l, r.EndedBy), l.num(r.Sent), l.num(r.Failed), l.num(r.Unknown))
}

// noteText is something the engine said before or while sending.
func noteText(l lang, n engine.Note) string {
	switch n.Kind {
	case engine.NoteEncoding:
		return l.t("note.encoding", n.Text)
	case engine.NoteWarning:
		return n.Text
	case engine.NoteRecovered:
		return l.t("note.recovered", l.num(n.Count))
	case engine.NoteRehearsal:
		return l.t("note.rehearsal", n.Text)
	case engine.NoteSandbox:
		return l.t("note.sandbox")
	case engine.NoteSharing:
		if n.Count == 0 {
			return l.t("note.alone")
		}
		return l.t("note.sharing", n.Text)
	case engine.NoteTemplateUnchecked:
		return l.t("note.template_unchecked")
	case engine.NoteReconciled:
		r := n.Reconciled
		return l.t("note.reconciled", l.num(r.Found), l.num(r.Absent), l.num(r.Still))
	case engine.NoteWarnings:
		return warningText(l, n.Warning.Code) + ": " + l.num(n.Warning.Count)
	}
	return n.Text
}
