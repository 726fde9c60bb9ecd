package ui

import (
	"os"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/wording"
)

// describe puts an error in words, as the command line reports it.
func (s *Server) describe(tr *i18n.Printer, err error) string {
	if s.o.Tools.Describe == nil {
		return err.Error()
	}
	return s.o.Tools.Describe(tr, err)
}

// when is t in the reader's words, "—" when there is none.
func when(tr *i18n.Printer, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return tr.DateTime(t)
}

// holderText says who sends a campaign now.
func holderText(tr *i18n.Printer, h *store.Holder) string {
	switch h.PID {
	case 0:
		return tr.T("ui.live.elsewhere_unnamed")
	case os.Getpid():
		return tr.T("ui.live.here", when(tr, h.Since))
	}
	return tr.T("ui.live.elsewhere", strconv.Itoa(h.PID), h.Host, when(tr, h.Since))
}

// holderWhere says briefly which run holds a campaign.
func holderWhere(tr *i18n.Printer, h *store.Holder) string {
	switch h.PID {
	case 0:
		return tr.T("ui.now.unnamed")
	case os.Getpid():
		return tr.T("ui.now.here")
	}
	return tr.T("ui.now.there", strconv.Itoa(h.PID), h.Host, when(tr, h.Since))
}

// endText says how a run the page started ended.
func (s *Server) endText(tr *i18n.Printer, res *engine.Result, err error) string {
	if err != nil {
		return s.describe(tr, err)
	}
	st := res.Stats
	text := tr.T("ui.live.ended", capital(wording.Ended(tr, string(res.EndedBy))), int(st.Sent), int(st.Failed), int(st.Unknown), tr.Duration(res.Elapsed))
	switch {
	case res.EndedBy == engine.Interrupted:
		text += " " + tr.T("ui.live.resume")
	case res.Err != nil:
		text += " " + s.describe(tr, res.Err)
	case res.Code == engine.Incomplete:
		text += " " + tr.T("ui.live.incomplete")
	}
	return text
}

// capital is s with its first letter in upper case.
func capital(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// lastRunText says how the campaign's last send went.
func lastRunText(tr *i18n.Printer, r store.Run) string {
	if r.Ended.IsZero() {
		return tr.T("ui.live.last_killed", when(tr, r.Started))
	}
	return tr.T("ui.live.last", when(tr, r.Started), wording.Ended(tr, r.EndedBy), r.Sent, r.Failed, r.Unknown)
}

// noteText is something the engine said before or while sending.
func noteText(tr *i18n.Printer, n engine.Note) string {
	switch n.Kind {
	case engine.NoteEncoding:
		return tr.T("ui.note.encoding", n.Text)
	case engine.NoteRecovered:
		return tr.T("ui.note.recovered", n.Count)
	case engine.NoteRehearsal:
		return tr.T("ui.note.rehearsal", n.Text)
	case engine.NoteSandbox:
		return tr.T("ui.note.sandbox")
	case engine.NoteSharing:
		if n.Count == 0 {
			return tr.T("ui.note.alone")
		}
		return tr.T("ui.note.sharing", tr.List(n.Names))
	case engine.NoteTemplateUnchecked:
		return tr.T("ui.note.template_unchecked")
	case engine.NoteReconciled:
		r := n.Reconciled
		return tr.T("ui.note.reconciled", r.Found, r.Absent, r.Still)
	case engine.NoteWarnings:
		return wording.Warning(tr, n.Warning.Code) + ": " + tr.Int(n.Warning.Count)
	}
	return n.Text
}
