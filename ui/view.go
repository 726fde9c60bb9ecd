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
	"time"

	"github.com/pregon/pregon/store"
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

// views are the pages in one language: each page's template with the
// layout and the shared parts, and the language's words as functions.
type views struct {
	pages map[string]*template.Template
}

// pageNames are the templates in assets/templates that are pages; the
// others (layout.html, parts.html) are parts of every page.
var pageNames = []string{"prepare", "rehearse", "send", "confirm", "live", "results"}

func loadViews() (map[lang]*views, error) {
	out := map[lang]*views{}
	for _, l := range []lang{es, en} {
		v := &views{pages: map[string]*template.Template{}}
		for _, name := range pageNames {
			t, err := template.New(name).Funcs(funcs(l)).ParseFS(assets,
				"assets/templates/layout.html", "assets/templates/parts.html", "assets/templates/"+name+".html")
			if err != nil {
				return nil, err
			}
			v.pages[name] = t
		}
		out[l] = v
	}
	return out, nil
}

// funcs are the words and number formats of l, for templates.
func funcs(l lang) template.FuncMap {
	return template.FuncMap{
		"t":    l.t,
		"tn":   l.tn,
		"num":  l.num,
		"pct":  l.pct,
		"when": func(t time.Time) string { return l.when(t) },
		"lines": func(s string) []string {
			return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
		},
	}
}

// page is what every page shows around its own part.
type page struct {
	Lang  string
	Nav   string // the flow: prepare, rehearse, send, results
	CSRF  string
	Back  string // this page's address, for the language switch
	Token bool   // real sends are possible
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

// sendingNow lists the campaigns of both ledgers that a run holds now.
func (s *Server) sendingNow(ctx context.Context, l lang) []nowSending {
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
				out = append(out, nowSending{Text: l.t("now."+string(m), sum.Name, holderWhere(l, h)), URL: template.URL(liveURL(key, pick{}))})
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
	l := s.langOf(r)
	p.Lang, p.CSRF, p.Token = l.String(), s.csrf, s.o.Token != ""
	p.Now = s.sendingNow(r.Context(), l)
	if p.Back == "" {
		p.Back = r.URL.RequestURI()
		if r.Method != http.MethodGet {
			p.Back = "/" + p.Nav
		}
	}
	if p.Files.Campaigns == nil && p.Files.Contacts == nil {
		p.Files = s.listFiles()
	}
	var b bytes.Buffer
	if err := s.views[l].pages[name].ExecuteTemplate(&b, "layout", p); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = b.WriteTo(w)
}
