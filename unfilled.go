package main

import (
	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/wording"
)

// unfilledError is a campaign that still has some of the example values
// init writes (and the samples have): nothing was sent.
type unfilledError struct {
	file   string
	values []campaign.Unfilled
}

func (e *unfilledError) Error() string { return unfilledText(i18n.For(i18n.English), e) }

// unfilledText says which example values the campaign still has: one
// line each, naming the key and the value.
func unfilledText(tr *i18n.Printer, e *unfilledError) string {
	text := tr.T("unfilled.title", e.file, len(e.values))
	for _, u := range e.values {
		text += "\n  " + wording.Unfilled(tr, u)
	}
	return text
}
