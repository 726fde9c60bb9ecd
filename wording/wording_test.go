package wording

import (
	"strings"
	"testing"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/i18n"
)

// Every reason a ledger can hold has words in every language: a code
// without them would show a Spanish reader a code.
func TestEveryReasonHasWords(t *testing.T) {
	for _, code := range campaign.Codes {
		if !i18n.Has("reason." + string(code)) {
			t.Errorf("reason %s has no message (reason.%s in i18n/catalog)", code, code)
		}
	}
}

// A reason is the platform's words, quoted, inside the reader's sentence;
// a row's problem names its cell; a reason under another comes last.
func TestReasonsInWords(t *testing.T) {
	refused := campaign.Reason{Code: campaign.Refused, Args: []any{403, "Contact has opted out"}}
	cell := campaign.Reason{Code: campaign.NotPhone, Column: "Teléfono", Value: "12"}
	busy := campaign.Reason{Code: campaign.TryLater, Args: []any{503, "Service Unavailable"}}
	gaveUp := campaign.Reason{Code: campaign.GaveUp, Args: []any{3}, Cause: &busy}
	shifted := campaign.Reason{Code: campaign.BeyondHeader, Args: []any{3, 2, " José", ";"}}
	newer := campaign.Reason{Code: "from_the_future", Args: []any{"x", 1}}
	es, en := i18n.For(i18n.Spanish), i18n.For(i18n.English)
	for _, c := range []struct{ got, want string }{
		{Reason(es, refused), `la plataforma lo rechazó: 403 "Contact has opted out"`},
		{Reason(en, refused), `refused by the platform: 403 "Contact has opted out"`},
		{Reason(es, cell), `columna "Teléfono": "12" no es un número de teléfono`},
		{Reason(en, cell), `column "Teléfono": "12" is not a phone number`},
		{Reason(es, gaveUp), `se dejó de intentar tras 3 intentos: la plataforma pidió reintentar más tarde: 503 "Service Unavailable"`},
		{Reason(es, shifted), `la fila tiene un valor en la columna 3, más allá de las 2 columnas del encabezado (" José"): ¿hay un punto y coma dentro de un valor que no está entre comillas?`},
		{Reason(es, newer), `from_the_future x 1`},
		{Stored(es, campaign.Reason{}, " 404 Contact not found "), `404 Contact not found`},
	} {
		if c.got != c.want {
			t.Errorf("got  %s\nwant %s", c.got, c.want)
		}
	}
	// A reason read back from the ledger's JSON keeps its numbers.
	r, err := campaign.ParseReason(`{"code":"gave_up","args":[3],"cause":{"code":"try_later","args":[503,"Service Unavailable"]}}`)
	if err != nil || !strings.Contains(Reason(en, r), "gave up after 3 attempts") {
		t.Errorf("parsed %+v, %v: %s", r, err, Reason(en, r))
	}
}
