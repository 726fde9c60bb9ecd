package i18n

import "testing"

// Counts agree with their nouns and verbs, one and many, in each part of
// a sentence.
func TestPluralsInSentences(t *testing.T) {
	es := For("es")
	for _, tc := range []struct {
		key  string
		args []any
		want string
	}{
		{"reason.gave_up", []any{1, "503"}, "se dejó de intentar tras 1 intento: 503"},
		{"reason.gave_up", []any{3, "503"}, "se dejó de intentar tras 3 intentos: 503"},
		{"status.after", []any{1, 1, 1}, "Después del envío: 1 entregado (1 leído), 1 falló"},
		{"status.after", []any{2, 0, 3}, "Después del envío: 2 entregados (0 leídos), 3 fallaron"},
		{"log.reconciled", []any{1, 2, 1}, "Se consultó a la plataforma por los contactos en duda: 1 había llegado (ahora enviados), 2 nunca llegaron (se envían ahora), 1 sigue en duda."},
		{"track.asked", []any{"p", 1, 1, 0}, `Campaña "p": se consultó por 1 mensaje: 1 ya se entregaron, se leyeron o fallaron; 0 no los conoce la plataforma.`},
	} {
		if got := es.T(tc.key, tc.args...); got != tc.want {
			t.Errorf("%s%v:\n got %q\nwant %q", tc.key, tc.args, got, tc.want)
		}
	}
	if got := For("en").T("reason.gave_up", 1, "503"); got != "gave up after 1 attempt: 503" {
		t.Errorf("en reason.gave_up = %q", got)
	}
}
