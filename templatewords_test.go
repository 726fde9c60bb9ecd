package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pregon/pregon/sender/sendertest"
)

// The template check speaks the reader's language, and when no template
// has a name close to the campaign's it lists the channel's approved ones.
func TestTemplateCheckInTheReadersWords(t *testing.T) {
	camp := string(mustRead(t, sample("pedido-en-camino.json")))
	dir := t.TempDir()
	write := func(name, from, to string) string {
		return writeTemp(t, dir, name, strings.Replace(camp, from, to, 1))
	}
	contacts := sample("pedido-en-camino.csv")
	noHeader := `{"type": "header", "format": "image",
         "parameters": [{"type": "image", "image": {"link": "{{foto}}"}}]},`
	for _, tc := range []struct {
		name, campaign, lang string
		want                 []string
	}{
		{"absent, es", write("navidad.json", `"delivery_order"`, `"promo_navidad"`), "es", []string{
			`Plantilla de WhatsApp "promo_navidad": el canal no tiene ninguna plantilla con ese nombre; sus 2 plantillas aprobadas son: "aviso_horario" (es) y "delivery_order" (es). No se envió nada`}},
		{"absent, en", write("navidad.json", `"delivery_order"`, `"promo_navidad"`), "en", []string{
			`WhatsApp template "promo_navidad": the channel has no template of that name; its 2 approved templates: "aviso_horario" (es) and "delivery_order" (es). Nothing was sent`}},
		{"misspelt", write("typo.json", `"delivery_order"`, `"delivery_ordr"`), "es", []string{
			`el canal no tiene ninguna plantilla con ese nombre; las más parecidas: "delivery_order"`}},
		{"pending", write("pending.json", `"delivery_order"`, `"promo_fin_de_semana"`), "es", []string{
			`en la plataforma su estado es PENDING, no APPROVED (aprobada)`}},
		{"header", write("noheader.json", noHeader, ""), "es", []string{
			`en la plataforma, el encabezado lleva 1 parámetro; la campaña da 0`}},
		{"header, en", write("noheader.json", noHeader, ""), "en", []string{
			`on the platform the header takes 1 parameter; the campaign gives 0`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tokenEnv, "t0ken")
			fake := sendertest.NewServer(t, sendertest.Config{})
			code, _, errOut := pregon(t, "-lang", tc.lang, "send", "-campaign", tc.campaign, "-contacts", contacts,
				"-ledger", filepath.Join(t.TempDir(), "l.db"), "-base-url", fake.URL)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr:\n%s\nwant it to say %q", errOut, w)
				}
			}
			if tc.lang == "es" && english.MatchString(errOut) {
				t.Errorf("English in Spanish: %s", errOut)
			}
			if n := len(fake.Messages()); n != 0 {
				t.Errorf("%d messages sent", n)
			}
		})
	}
}
