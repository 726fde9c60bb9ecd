package main

import (
	"fmt"
	"strings"

	"github.com/pregon/pregon/campaign"
)

// unfilledMessage says which of the example values init writes (and the
// samples have) a campaign still has: one line each, naming the key and
// the value.
func unfilledMessage(file string, values []campaign.Unfilled) string {
	lines := []string{fmt.Sprintf("%s: %s still %s to fill in (nothing was sent):",
		file, plural(len(values), "this value is", fmt.Sprintf("these %d values are", len(values))), plural(len(values), "an example", "examples"))}
	for _, u := range values {
		lines = append(lines, "  "+unfilledText(u))
	}
	return strings.Join(lines, "\n")
}

// unfilledText is what to do about one unfilled value.
func unfilledText(u campaign.Unfilled) string {
	switch u.Kind {
	case campaign.UnfilledBaseURL:
		return fmt.Sprintf("%q is still the example %q: put your brand's API address", u.Key, u.Value)
	case campaign.UnfilledChannelID:
		return fmt.Sprintf("%q is still %s: put the number of the channel that sends (the platform shows it in the channel's settings)", u.Key, u.Value)
	case campaign.UnfilledTemplateName:
		return fmt.Sprintf("%q is still %q: put the name of your WhatsApp template, as the platform lists it approved", u.Key, u.Value)
	case campaign.UnfilledURL:
		return fmt.Sprintf("%q is still the example %q: put the web address of your file", u.Key, u.Value)
	}
	return fmt.Sprintf("%q is still %q: write your words where init left %q", u.Key, u.Value, campaign.ToWrite)
}
