package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/sender"
)

// TemplateError says why the channel's templates cannot carry the
// campaign's message: every contact's message would fail the same way.
type TemplateError struct {
	Template string
	Problem  string
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("WhatsApp template %q: %s; nothing was sent: fix the campaign (or the template on the platform) first", e.Template, e.Problem)
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
		return nil, &TemplateError{ref.Name, "the channel has no template of that name" + closest(ref.Name, list)}
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
		return nil, &TemplateError{ref.Name, fmt.Sprintf("it exists in %s, not in %q (languageCode)", strings.Join(langs, ", "), ref.LanguageCode)}
	}
	if t.Status != "APPROVED" {
		return nil, &TemplateError{ref.Name, fmt.Sprintf("its status on the platform is %s, not APPROVED: WhatsApp sends only approved templates", t.Status)}
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
			return nil, &TemplateError{ref.Name, fmt.Sprintf("its %s takes %d parameters on the platform, the campaign gives %d", kind, want, got)}
		}
	}
	return t, nil
}

// closest names the templates whose names are nearest to name.
func closest(name string, list []sender.Template) string {
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
		if d := distance(strings.ToLower(name), strings.ToLower(t.Name)); d <= max(3, len(name)/3) {
			near = append(near, scored{t.Name, d})
		}
	}
	if len(near) == 0 {
		return ""
	}
	slices.SortFunc(near, func(a, b scored) int { return a.d - b.d })
	var names []string
	for i, n := range near {
		if i == 3 {
			break
		}
		names = append(names, fmt.Sprintf("%q", n.name))
	}
	return "; the closest: " + strings.Join(names, ", ")
}

// distance is the edit distance between two names.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}
