package engine

import (
	"strings"

	"github.com/pregon/pregon/campaign"
)

// UnfilledError is a campaign that still has values `pregon init` left
// for the user to fill in (see campaign.Unfilled): nothing is sent.
type UnfilledError struct{ Values []campaign.Unfilled }

func (e *UnfilledError) Error() string {
	keys := make([]string, len(e.Values))
	for i, v := range e.Values {
		keys[i] = v.Key
	}
	return "the campaign still has init's example values in " + strings.Join(keys, ", ")
}

// unfilled are the example values that would matter to a run: the
// campaign's baseUrl only when it is where the run sends (not with
// -base-url, nor to the built-in sandbox), and a -base-url that is the
// example itself (the token must never go there).
func unfilled(c *campaign.Campaign, baseURL string, sandbox bool) []campaign.Unfilled {
	var out []campaign.Unfilled
	if !sandbox && campaign.IsExampleURL(baseURL) {
		out = append(out, campaign.Unfilled{Kind: campaign.UnfilledBaseURL, Key: "-base-url", Value: baseURL})
	}
	for _, u := range c.Unfilled() {
		if u.Kind == campaign.UnfilledBaseURL && (baseURL != "" || sandbox) {
			continue
		}
		out = append(out, u)
	}
	return out
}
