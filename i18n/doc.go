// Package i18n puts pregon's words in the reader's language: Spanish or
// English, chosen from -lang, PREGON_LANG or the locale (LC_ALL,
// LC_MESSAGES, LANG), English where nothing says Spanish. A Printer turns
// a message key and its values into a sentence, with plurals, and formats
// numbers, percentages, dates and durations as that language writes them
// (Spanish: 1.234, 0,5 %, 21/11/2026 01:00).
//
// The messages live in catalog/<lang>.json, one file per language, embedded
// in the program; every key is in both (TestCatalogsHaveTheSameKeys), and
// every key the code uses is in them (TestKeysUsedInCodeExist). It holds
// words only: it decides nothing about what pregon does, reads no file and
// prints nothing.
//
// # Spanish
//
// Written for marketing staff in Latin America: "usted", short sentences,
// no literal translations of engineering words. The glossary, kept in
// every message:
//
//	ledger                registro (el archivo pregon.db)
//	campaign, contact     campaña, contacto
//	row, column, cell     fila, columna, celda
//	run (a send)          envío, ejecución
//	pending               pendiente
//	sent                  enviado
//	failed                fallido (la plataforma lo rechazó)
//	unknown               en duda (no se sabe si llegó)
//	invalid               inválido (fila con un problema)
//	duplicate             duplicado
//	in flight             en curso
//	request               solicitud
//	rehearsal, sandbox    ensayo, simulador
//	dry run               prueba sin enviar (-dry-run)
//	template              plantilla
//	token                 token
//	rate                  ritmo (mensajes por segundo)
//	track                 seguimiento (qué pasó después del envío)
//	report, export        informe, exportar
//
// State names as data (sent, failed, unknown…) stay English where a
// program reads them: -json, status -json, the export's pregon_state
// column, log attributes.
package i18n
