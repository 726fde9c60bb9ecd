package engine

import "github.com/pregon/pregon/campaign"

// Warning is one kind of campaign.Warning, counted, with its first
// occurrences: what a dry run lists and a send logs before it sends.
type Warning struct {
	Code  campaign.WarningCode
	Count int
	First []campaign.Warning // the first MaxWarningExamples, in file order
}

// MaxWarningExamples bounds the occurrences a Warning keeps.
const MaxWarningExamples = 5

// warnings counts campaign.Warnings by code, in the order codes first
// appear. It is used by one goroutine at a time.
type warnings struct {
	list []Warning
}

func (ws *warnings) add(all ...campaign.Warning) {
	for _, w := range all {
		i := 0
		for i < len(ws.list) && ws.list[i].Code != w.Code {
			i++
		}
		if i == len(ws.list) {
			ws.list = append(ws.list, Warning{Code: w.Code})
		}
		ws.list[i].Count++
		if len(ws.list[i].First) < MaxWarningExamples {
			ws.list[i].First = append(ws.list[i].First, w)
		}
	}
}
