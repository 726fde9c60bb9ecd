package ui

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/wording"
)

// The page's templates, style and script: embedded, nothing to build, no
// request leaves the machine for them.
//
//go:embed assets
var assets embed.FS

// staticFS serves /static/… from assets/static.
var staticFS = func() fs.FS {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err)
	}
	return sub
}()

// pageNames are the templates in assets/templates that are pages; the
// others (layout, parts) are parts of every page.
var pageNames = []string{"prepare", "rehearse", "send", "confirm", "live", "results"}

// loadPages parses each page with the layout and the parts. Their words
// come from T, given the reader's printer at each request (see render).
func loadPages() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs(i18n.For(i18n.English))).ParseFS(assets,
			"assets/templates/layout.html.tmpl", "assets/templates/parts.html.tmpl", "assets/templates/"+name+".html.tmpl")
		if err != nil {
			return nil, err
		}
		out[name] = t
	}
	return out, nil
}

// funcs are tr's words and number formats, for templates.
func funcs(tr *i18n.Printer) template.FuncMap {
	return template.FuncMap{
		"T":       tr.T,
		"Int":     tr.Int,
		"Percent": tr.Percent,
		"Contact": func(id string) string { return wording.Contact(tr, id) },
		"lines": func(s string) []string {
			return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
		},
	}
}

// page is what every page shows around its own part.
type page struct {
	Status int // the answer's status; 0 is 200
	Lang   string
	Nav    string // the flow: prepare, rehearse, send, results
	CSRF   string
	Back   string // this page's address, for the language switch
	Token  bool   // real sends are possible
	// Pick is the campaign and contacts file chosen, Files what can be.
	Pick  pick
	Files files
	Error string // a problem to show above the page's own part
	// Now are the campaigns being sent now, from this page or elsewhere
	// (cron), for every page to show.
	Now  []nowSending
	Data any
}

// nowSending is a campaign a run is sending now.
type nowSending struct {
	Text string
	URL  template.URL // its live page
}

// nowKeys say, by ledger, that a campaign is being sent now.
var nowKeys = map[mode]string{real: i18n.K("ui.now.real"), rehearsal: i18n.K("ui.now.rehearsal")}

// sendingNow lists the campaigns of both ledgers that a run holds now.
func (s *Server) sendingNow(ctx context.Context, tr *i18n.Printer) []nowSending {
	var out []nowSending
	for _, m := range []mode{real, rehearsal} {
		ledger, err := s.openLedger(ctx, m)
		if err != nil {
			continue
		}
		sums, _ := ledger.Summaries(ctx, "")
		for _, sum := range sums {
			if h, err := store.Probe(ledger.Path(), sum.Name); err == nil && h != nil {
				key := runKey{mode: m, campaign: sum.Name}
				out = append(out, nowSending{Text: tr.T(nowKeys[m], sum.Name, holderWhere(tr, h)), URL: template.URL(liveURL(key, pick{}))})
			}
		}
		ledger.Close()
	}
	return out
}

// pick is the campaign file and the contacts file a page works on, by
// their IDs (see file).
type pick struct {
	Campaign, Contacts string
}

// Query is the pick as a query string, to carry it from page to page.
func (p pick) Query() template.URL {
	q := make([]string, 0, 2)
	if p.Campaign != "" {
		q = append(q, "campaign="+url.QueryEscape(p.Campaign))
	}
	if p.Contacts != "" {
		q = append(q, "contacts="+url.QueryEscape(p.Contacts))
	}
	return template.URL(strings.Join(q, "&"))
}

// render writes the page in the request's language; a template that
// fails leaves a 500, never half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, p *page) {
	tr := s.printer(r)
	p.Lang, p.CSRF, p.Token = string(tr.Lang()), s.csrf, s.o.Token != ""
	p.Now = s.sendingNow(r.Context(), tr)
	if p.Back == "" {
		p.Back = r.URL.RequestURI()
		if r.Method != http.MethodGet {
			p.Back = "/" + p.Nav
		}
	}
	if p.Files.Campaigns == nil && p.Files.Contacts == nil {
		p.Files = s.listFiles()
	}
	// A clone of a template never executed takes the reader's words.
	t, err := s.pages[name].Clone()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := t.Funcs(funcs(tr)).ExecuteTemplate(&b, "layout", p); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if p.Status != 0 {
		w.WriteHeader(p.Status)
	}
	_, _ = b.WriteTo(w)
}
