package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/internal/editdist"
	"github.com/pregon/pregon/sender"
)

// TemplateError says why the channel's templates cannot carry the
// campaign's message: every contact's message would fail the same way.
// Its values are for main to put in the reader's words; Error is English,
// for logs and -json.
type TemplateError struct {
	Template string
	Problem  TemplateProblem
	// Closest are the channel's template names nearest to Template
	// (Absent), best first, at most 3.
	Closest []string
	// Approved are the channel's approved templates (Absent, when no name
	// is close), at most MaxApproved; ApprovedCount is how many there are.
	Approved      []TemplateName
	ApprovedCount int
	Languages     []string // OtherLanguage: the languages it exists in
	Language      string   // OtherLanguage: the campaign's languageCode
	Status        string   // NotApproved: its status on the platform
	Component     string   // Parameters: "body" or "header"
	Want, Got     int      // Parameters: the platform's and the campaign's
}

// TemplateProblem is what is wrong with the campaign's template.
type TemplateProblem int

const (
	TemplateAbsent        TemplateProblem = iota // no template of that name
	TemplateOtherLanguage                        // not in the campaign's language
	TemplateNotApproved                          // not approved (yet)
	TemplateParameters                           // another number of parameters
)

// TemplateName is one of the channel's templates: its name and language.
type TemplateName struct{ Name, Language string }

// MaxApproved is how many approved templates a TemplateError lists.
const MaxApproved = 10

func (e *TemplateError) Error() string {
	var problem string
	switch e.Problem {
	case TemplateAbsent:
		problem = "the channel has no template of that name"
		switch {
		case len(e.Closest) > 0:
			problem += "; the closest: " + quoted(e.Closest)
		case len(e.Approved) > 0:
			var names []string
			for _, t := range e.Approved {
				names = append(names, fmt.Sprintf("%q (%s)", t.Name, t.Language))
			}
			problem += "; its approved templates: " + strings.Join(names, ", ")
		}
	case TemplateOtherLanguage:
		problem = fmt.Sprintf("it exists in %s, not in %q (languageCode)", strings.Join(e.Languages, ", "), e.Language)
	case TemplateNotApproved:
		problem = fmt.Sprintf("its status on the platform is %s, not APPROVED: WhatsApp sends only approved templates", e.Status)
	case TemplateParameters:
		problem = fmt.Sprintf("its %s takes %d parameters on the platform, the campaign gives %d", e.Component, e.Want, e.Got)
	}
	return fmt.Sprintf("WhatsApp template %q: %s; nothing was sent: fix the campaign (or the template on the platform) first", e.Template, problem)
}

func quoted(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(out, ", ")
}

// ErrTemplatesUnlisted says the check could not be made: the platform does
// not list the channel's templates at a path pregon knows.
var ErrTemplatesUnlisted = sender.ErrNoTemplateList

// checkTemplate asks the platform for the channel's templates and refuses,
// before the first message, a campaign whose template is not there, is in
// another language, is not approved, or takes another number of
// parameters. It checks nothing for other messages, or without channelId.
//
// It returns the platform's template, when the campaign names one.
func checkTemplate(ctx context.Context, s *sender.Sender, c *campaign.Campaign) (*sender.Template, error) {
	ref, ok := c.Template()
	if !ok || c.ChannelID == "" || strings.Contains(ref.Name, "{{") {
		return nil, nil // a name filled in per row is checked by the sends
	}
	list, err := s.Templates(ctx, c.ChannelID.String())
	var re *sender.ReadError
	switch {
	case errors.As(err, &re) && re.Status == 401:
		return nil, &sender.StopError{Problem: sender.TokenRejected, Status: 401, Reason: fmt.Sprintf("401 %s", re.Reason)}
	case errors.As(err, &re) && ctx.Err() == nil:
		// The list is a courtesy of the platform: when it fails, the
		// sends say what is wrong, one by one.
		return nil, fmt.Errorf("%w (%v)", ErrTemplatesUnlisted, err)
	case err != nil:
		return nil, err
	}
	return matchTemplate(ref, list)
}

// matchTemplate is checkTemplate's decision, on the list the platform
// gave; it returns the template the campaign names (nil when the language
// is filled in per row: which one is not known yet).
func matchTemplate(ref campaign.TemplateRef, list []sender.Template) (*sender.Template, error) {
	var named []sender.Template
	for _, t := range list {
		if t.Name == ref.Name {
			named = append(named, t)
		}
	}
	if len(named) == 0 {
		e := &TemplateError{Template: ref.Name, Problem: TemplateAbsent, Closest: closest(ref.Name, list)}
		if len(e.Closest) == 0 {
			e.Approved, e.ApprovedCount = approved(list)
		}
		return nil, e
	}
	var t *sender.Template
	var langs []string
	for i := range named {
		langs = append(langs, named[i].LanguageCode)
		if strings.EqualFold(named[i].LanguageCode, ref.LanguageCode) {
			t = &named[i]
		}
	}
	if strings.Contains(ref.LanguageCode, "{{") {
		return nil, nil // the language is filled in per row: any of them may be right
	}
	if t == nil {
		return nil, &TemplateError{Template: ref.Name, Problem: TemplateOtherLanguage, Languages: langs, Language: ref.LanguageCode}
	}
	if t.Status != "APPROVED" {
		return nil, &TemplateError{Template: ref.Name, Problem: TemplateNotApproved, Status: t.Status}
	}
	for _, comp := range t.Components {
		kind := strings.ToLower(comp.Type)
		want := campaign.Placeholders(comp.Text)
		if kind == "header" && comp.Format != "" && !strings.EqualFold(comp.Format, "text") {
			want = 1 // an image, video or document: its link
		}
		if kind != "body" && kind != "header" {
			continue
		}
		if got := ref.Parameters[kind]; got != want {
			return nil, &TemplateError{Template: ref.Name, Problem: TemplateParameters, Component: kind, Want: want, Got: got}
		}
	}
	return t, nil
}

// approved are the channel's approved templates, by name, at most
// MaxApproved of them, and how many there are.
func approved(list []sender.Template) ([]TemplateName, int) {
	var out []TemplateName
	seen := map[TemplateName]bool{}
	for _, t := range list {
		n := TemplateName{t.Name, t.LanguageCode}
		if t.Status != "APPROVED" || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b TemplateName) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Language, b.Language))
	})
	return out[:min(len(out), MaxApproved)], len(out)
}

// closest names the templates whose names are nearest to name.
func closest(name string, list []sender.Template) []string {
	type scored struct {
		name string
		d    int
	}
	var near []scored
	seen := map[string]bool{}
	for _, t := range list {
		if seen[t.Name] {
			continue
		}
		seen[t.Name] = true
		if d := editdist.Distance(strings.ToLower(name), strings.ToLower(t.Name)); d <= max(3, len(name)/3) {
			near = append(near, scored{t.Name, d})
		}
	}
	if len(near) == 0 {
		return nil
	}
	slices.SortStableFunc(near, func(a, b scored) int { return a.d - b.d })
	var names []string
	for i, n := range near {
		if i == 3 {
			break
		}
		names = append(names, n.name)
	}
	return names
}
