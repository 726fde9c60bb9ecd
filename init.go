package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/outfile"
)

// runInit writes a starter campaign file for a contacts CSV: its
// placeholders are the CSV's own column names, its contact column is
// chosen from the header, so nobody writes JSON from a blank page.
func runInit(ctx context.Context, tr *i18n.Printer, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(tr, "init")
	contacts := fs.String("contacts", "", tr.T("flag.init.contacts"))
	typ := fs.String("type", "whatsapp_template", tr.T("flag.init.type"))
	api := fs.String("api", "v2", tr.T("flag.init.api"))
	outPath := fs.String("o", "", tr.T("flag.init.o"))
	force := fs.Bool("force", false, tr.T("flag.force"))
	if err := parseArgs(tr, fs, args, stderr); err != nil {
		return err
	}
	if *contacts == "" || fs.NArg() > 0 {
		return usageError{say("init.error.contacts")}
	}
	if *api != "v1" && *api != "v2" {
		return usageError{say("init.error.api", *api)}
	}
	// The campaign is named after its file (promo.json: "promo"), the
	// name status, export and report then take; else after the CSV.
	named := *contacts
	if *outPath != "" {
		named = *outPath
	}
	text, notes, err := starterFile(*contacts, named, *typ, *api)
	if err != nil {
		return err
	}
	if *outPath == "" {
		_, err = stdout.Write(text)
	} else {
		err = outfile.Write(*outPath, outfile.Options{Force: *force, Ledgers: initLedgers(*outPath)}, func(w io.Writer) error {
			_, err := w.Write(text)
			return err
		})
	}
	if err != nil {
		return outputError("init", err)
	}
	for _, n := range notes {
		fmt.Fprintln(stderr, "pregon init: "+describe(tr, n))
	}
	return nil
}

// starterFile is the text of a starter campaign for the contacts file,
// named after the file named (its base name without extension), and what
// the user must still fill in.
func starterFile(contacts, named, typ, api string) ([]byte, []error, error) {
	header, rows, err := campaign.Sample(contacts, 20)
	if err != nil {
		return nil, nil, usageError{err}
	}
	c, notes, err := starter(strings.TrimSuffix(filepath.Base(named), filepath.Ext(named)), header, rows, typ, api)
	if err != nil {
		return nil, nil, usageError{say("error.command", "init", err)}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return nil, nil, err
	}
	if _, err := campaign.Parse(buf.Bytes()); err != nil {
		return nil, nil, fmt.Errorf("init: the starter campaign does not load (a bug): %w", err)
	}
	return buf.Bytes(), notes, nil
}

// initLedgers are the ledgers init must not write over. init has no
// -ledger: these are the default ledgers where send looks for them (the
// working directory) and beside the campaign, made or not yet; outfile
// also refuses any other SQLite database and its files.
func initLedgers(outPath string) []string {
	dir := filepath.Dir(outPath)
	return []string{defaultLedger, defaultSandboxLedger,
		filepath.Join(dir, defaultLedger), filepath.Join(dir, defaultSandboxLedger)}
}

// starterCampaign is the campaign file's shape, keys in the order a person
// reads them.
type starterCampaign struct {
	Name           string                  `json:"name"`
	API            string                  `json:"api"`
	BaseURL        string                  `json:"baseUrl"`
	ChannelID      *int                    `json:"channelId,omitempty"`
	Contact        *campaign.ContactColumn `json:"contact,omitempty"`
	DefaultCountry string                  `json:"defaultCountry,omitempty"`
	Message        starterMessage          `json:"message"`
}

// starterMessage is a message of any type init writes: its type first,
// then what the customer reads, in the order they read it.
type starterMessage struct {
	Type       string             `json:"type"`
	Title      string             `json:"title,omitempty"`
	Text       string             `json:"text,omitempty"`
	Replies    []string           `json:"replies,omitempty"`
	URL        string             `json:"url,omitempty"`
	Attachment *starterAttachment `json:"attachment,omitempty"`
	Template   *starterTemplate   `json:"template,omitempty"`
}

type starterAttachment struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type starterTemplate struct {
	Name         string             `json:"name"`
	LanguageCode string             `json:"languageCode"`
	Components   []starterComponent `json:"components"`
}

type starterComponent struct {
	Type       string             `json:"type"`
	Format     string             `json:"format,omitempty"`
	Text       string             `json:"text,omitempty"`
	Parameters []starterParameter `json:"parameters,omitempty"`
}

type starterParameter struct {
	Type  string       `json:"type"`
	Text  string       `json:"text,omitempty"`
	Image *starterLink `json:"image,omitempty"`
}

type starterLink struct {
	Link string `json:"link"`
}

var (
	phoneCol = regexp.MustCompile(`(?i)^(phone|tel[eé]fono|telefono|celular|m[oó]vil|whatsapp|n[uú]mero|numero)`)
	emailCol = regexp.MustCompile(`(?i)^(email|e-mail|correo)`)
	idCol    = regexp.MustCompile(`(?i)^(contact_id|id|id_contacto)$`)
	mediaCol = regexp.MustCompile(`(?i)(foto|imagen|image|url|link|enlace|archivo|pdf)`)
)

// contactColumnOf proposes the contact column: for v2 the first phone
// column, else the first e-mail column, else the first id column; for v1
// contact_id or id. It returns -1 when none looks like one.
func contactColumnOf(header []string, api string) (int, string) {
	kinds := []struct {
		re   *regexp.Regexp
		kind string
	}{{phoneCol, "phone"}, {emailCol, "email"}, {idCol, "id"}}
	if api == "v1" {
		kinds = kinds[2:] // v1 contacts are ids
	}
	for _, k := range kinds {
		for i, h := range header {
			if k.re.MatchString(campaign.NormalizeHeader(h)) {
				return i, k.kind
			}
		}
	}
	return -1, ""
}

// starter builds the campaign and says what the user must still fill in
// (each note a message for main to put in words).
func starter(name string, header []string, rows [][]string, typ, api string) (*starterCampaign, []error, error) {
	c := &starterCampaign{Name: name, API: api}
	notes := []error{}
	if api == "v1" {
		c.BaseURL = campaign.ExampleBaseURLv1
	} else {
		c.BaseURL = campaign.ExampleBaseURLv2
	}
	notes = append(notes, say("init.note.base_url"))
	contact, kind := contactColumnOf(header, api)
	if contact < 0 {
		return nil, nil, say("init.error.no_contact", strings.Join(header, ", "))
	}
	norm := campaign.NormalizeHeader(header[contact])
	if !(api == "v1" && norm == "contact_id") && !(api == "v2" && norm == kind) {
		c.Contact = &campaign.ContactColumn{Column: header[contact], Type: kind}
	}
	if kind == "phone" {
		for _, r := range rows {
			if contact < len(r) && !strings.HasPrefix(strings.TrimSpace(r[contact]), "+") {
				c.DefaultCountry = "EC"
				notes = append(notes, say("init.note.default_country"))
				break
			}
		}
	}
	var text, media []string
	for i, h := range header {
		if i == contact || strings.TrimSpace(h) == "" {
			continue
		}
		if mediaCol.MatchString(h) {
			media = append(media, h)
		} else {
			text = append(text, h)
		}
	}
	ph := func(col string) string { return "{{" + col + "}}" }
	first := "cliente"
	if len(text) > 0 {
		first = ph(text[0])
	}
	switch typ {
	case "whatsapp_template":
		if api != "v2" {
			return nil, nil, say("init.error.template_v1")
		}
		ch := 0
		c.ChannelID = &ch
		notes = append(notes, say("init.note.template"))
		var comps []starterComponent
		if len(media) > 0 {
			comps = append(comps, starterComponent{Type: "header", Format: "image",
				Parameters: []starterParameter{{Type: "image", Image: &starterLink{Link: ph(media[0])}}}})
		}
		var params []starterParameter
		var body strings.Builder
		body.WriteString("Hola")
		for i, col := range text {
			params = append(params, starterParameter{Type: "text", Text: ph(col)})
			fmt.Fprintf(&body, " {{%d}}", i+1)
		}
		body.WriteString(".")
		comps = append(comps, starterComponent{Type: "body", Text: body.String(), Parameters: params})
		c.Message = starterMessage{Type: "whatsapp_template",
			Template: &starterTemplate{Name: campaign.ExampleTemplateName, LanguageCode: "es", Components: comps}}
	case "text":
		c.Message = starterMessage{Type: "text", Text: "Hola " + first + campaign.ExampleText}
		notes = append(notes, say("init.note.text"))
	case "image":
		link := campaign.ExampleImageURL
		if len(media) > 0 {
			link = ph(media[0])
		} else {
			notes = append(notes, say("init.note.image"))
		}
		if api == "v1" {
			c.Message = starterMessage{Type: "image", URL: link}
		} else {
			c.Message = starterMessage{Type: "attachment", Attachment: &starterAttachment{Type: "image", URL: link}}
		}
	case "quick_reply":
		c.Message = starterMessage{Type: "quick_reply", Title: first + ", " + campaign.ExampleQuestion, Replies: []string{"Sí", "No"}}
		notes = append(notes, say("init.note.quick_reply"))
	default:
		return nil, nil, say("init.error.type", typ)
	}
	return c, notes, nil
}
