package ui

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/engine"
	"github.com/pregon/pregon/i18n"
	"github.com/pregon/pregon/outfile"
	"github.com/pregon/pregon/sender"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/wording"
)

// pickOf reads the campaign and contacts files a request names, as a
// query or a form; an ID that names no file the page offers is dropped.
func (s *Server) pickOf(v url.Values) pick {
	p := pick{Campaign: v.Get("campaign"), Contacts: v.Get("contacts")}
	if _, ok := s.path(p.Campaign); !ok {
		p.Campaign = ""
	}
	if _, ok := s.path(p.Contacts); !ok {
		p.Contacts = ""
	}
	return p
}

// paths are the files of a pick; ok is false when either is missing.
func (s *Server) paths(p pick) (camp, contacts string, ok bool) {
	camp, ok1 := s.path(p.Campaign)
	contacts, ok2 := s.path(p.Contacts)
	return camp, contacts, ok1 && ok2
}

// prepareData is the Prepare page's own part.
type prepareData struct {
	Check     *checkView
	Wrote     string   // the campaign file init just wrote
	InitNotes []string // what init says is left to fill in
}

func (s *Server) prepare(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "prepare", &page{Nav: "prepare", Pick: s.pickOf(r.URL.Query()), Data: prepareData{}})
}

// check runs the dry run of the pick against the real ledger: the same
// check `pregon send -dry-run` makes.
func (s *Server) check(w http.ResponseWriter, r *http.Request) {
	p := &page{Nav: "prepare", Pick: s.pickOf(r.Form)}
	p.Back = "/prepare?" + string(p.Pick.Query())
	d := prepareData{}
	d.Check, p.Error = s.dryRun(r.Context(), s.printer(r), p.Pick)
	p.Data = d
	s.render(w, r, "prepare", p)
}

// dryRun checks a pick as the send would see it; the problem, in words,
// when it cannot.
func (s *Server) dryRun(ctx context.Context, tr *i18n.Printer, p pick) (*checkView, string) {
	campPath, contacts, ok := s.paths(p)
	if !ok {
		return nil, tr.T("ui.pick.missing")
	}
	c, err := campaign.Load(campPath)
	if err != nil {
		return nil, s.describe(tr, err)
	}
	// The token goes only to an address the campaign has been sent to
	// from this ledger: a campaign file (an uploaded one too) names any
	// host it likes, and a check is no confirmation.
	token := ""
	if s.o.Token != "" && s.knownAddress(ctx, c) {
		token = s.o.Token
	}
	rec := engine.Record{CampaignFile: campPath, ContactsFile: contacts, Ledger: s.o.Ledger, Rate: sender.DefaultRate, DryRun: true}
	d, err := engine.Check(ctx, c, engine.DryRunOptions{Contacts: contacts, Ledger: s.o.Ledger, Record: rec.Map(),
		Token: token, Timeout: sender.DefaultTimeout})
	if err != nil {
		return nil, s.describe(tr, err)
	}
	v := s.newCheckView(tr, c, d)
	if s.o.Token != "" && token == "" && d.Template == engine.TemplateNoToken {
		// Not for want of the token: say what kept the check from the
		// platform.
		if v.Host == "" {
			v.Template = wording.TemplateCheck(tr, engine.TemplateNoAddress, tokenEnv)
		} else {
			v.Template = tr.T("ui.check.template_new_address", v.Host)
		}
		if v.TextUnknown != "" {
			v.TextUnknown = tr.T("ui.check.text_new_address")
			if v.Host == "" {
				v.TextUnknown = wording.TextUnknown(tr, engine.TemplateNoAddress, tokenEnv)
			}
		}
	}
	return v, ""
}

// knownAddress says whether the ledger of real sends records the
// campaign's destination at c's address (its scheme and host): only
// then may the page's check ask the platform with the token.
func (s *Server) knownAddress(ctx context.Context, c *campaign.Campaign) bool {
	u, err := url.Parse(c.BaseURL)
	if err != nil || u.Host == "" {
		return false
	}
	l, err := s.openLedger(ctx, real)
	if err != nil {
		return false
	}
	defer l.Close()
	sums, err := l.Summaries(ctx, c.Name)
	if err != nil {
		return false
	}
	for _, sum := range sums {
		d := sum.Destination
		if d.Sandbox || d.Rehearsal || d.BaseURL == "" {
			continue
		}
		if r, err := url.Parse(d.BaseURL); err == nil && strings.EqualFold(r.Scheme, u.Scheme) && strings.EqualFold(r.Host, u.Host) {
			return true
		}
	}
	return false
}

// upload keeps a file the browser sends: a contacts file or a campaign
// file, size-limited, in pregon's own folder, readable by this user only.
// Its fields come in the form's order: the CSRF token first, so nothing
// is stored for a request that is not the page's.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	tr := s.printer(r)
	mr, err := r.MultipartReader()
	if err != nil {
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	fields := url.Values{}
	for {
		part, err := mr.NextPart()
		if err != nil {
			http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
			return
		}
		if part.FormName() != "file" {
			v, _ := io.ReadAll(io.LimitReader(part, 1024))
			fields.Set(part.FormName(), string(v))
			continue
		}
		if !same(fields.Get("csrf"), s.csrf) {
			s.locked(w, r, http.StatusForbidden)
			return
		}
		pk := s.pickOf(fields)
		id, err := s.saveUpload(part.FileName(), part)
		switch {
		case errors.Is(err, errTooLarge):
			s.render(w, r, "prepare", &page{Status: http.StatusRequestEntityTooLarge, Nav: "prepare", Pick: pk,
				Error: tr.T("ui.upload.too_large", int(s.o.MaxUpload>>20)), Data: prepareData{}})
			return
		case errors.Is(err, errNotCSV):
			s.render(w, r, "prepare", &page{Nav: "prepare", Pick: pk, Error: tr.T("ui.upload.not_csv"), Data: prepareData{}})
			return
		case err != nil:
			s.render(w, r, "prepare", &page{Nav: "prepare", Pick: pk, Error: tr.T("ui.upload.failed", s.describe(tr, err)), Data: prepareData{}})
			return
		}
		if strings.HasSuffix(strings.ToLower(id), ".json") {
			pk.Campaign = id
		} else {
			pk.Contacts = id
		}
		http.Redirect(w, r, "/prepare?"+string(pk.Query()), http.StatusSeeOther)
		return
	}
}

// initCampaign writes a starter campaign for the chosen contacts file,
// beside it, as `pregon init -o` does, and checks it: the check says
// what is left to fill in.
func (s *Server) initCampaign(w http.ResponseWriter, r *http.Request) {
	tr := s.printer(r)
	p := &page{Nav: "prepare", Pick: s.pickOf(r.Form)}
	contacts, ok := s.path(p.Pick.Contacts)
	if !ok {
		p.Error, p.Data = tr.T("ui.init.no_contacts"), prepareData{}
		s.render(w, r, "prepare", p)
		return
	}
	typ := r.Form.Get("type")
	if !validType(typ) {
		typ = "whatsapp_template"
	}
	dir := filepath.Dir(contacts)
	base := strings.TrimSuffix(filepath.Base(contacts), filepath.Ext(contacts))
	var wrote string
	var notes []string
	for i := 1; wrote == "" && i < 100; i++ {
		name := base + ".json"
		if i > 1 {
			name = base + "-" + strconv.Itoa(i) + ".json"
		}
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			continue
		}
		text, n, err := s.o.Tools.Init(tr, contacts, name, typ)
		if err != nil {
			p.Error, p.Data = s.describe(tr, err), prepareData{}
			s.render(w, r, "prepare", p)
			return
		}
		err = outfile.Write(filepath.Join(dir, name), outfile.Options{Ledgers: []string{s.o.Ledger, s.o.RehearsalLedger}}, func(w io.Writer) error {
			_, err := w.Write(text)
			return err
		})
		if err != nil {
			p.Error, p.Data = tr.T("ui.init.failed", s.describe(tr, err)), prepareData{}
			s.render(w, r, "prepare", p)
			return
		}
		wrote, notes = name, n
	}
	if wrote == "" { // a hundred campaigns of this CSV already
		p.Error, p.Data = tr.T("ui.init.failed", base+".json"), prepareData{}
		s.render(w, r, "prepare", p)
		return
	}
	p.Pick.Campaign = p.Pick.Contacts[:2] + wrote
	p.Back = "/prepare?" + string(p.Pick.Query())
	d := prepareData{Wrote: wrote, InitNotes: notes}
	d.Check, p.Error = s.dryRun(r.Context(), tr, p.Pick)
	p.Data = d
	s.render(w, r, "prepare", p)
}

func validType(t string) bool {
	switch t {
	case "whatsapp_template", "text", "image", "quick_reply":
		return true
	}
	return false
}

// rehearseData is the Rehearse page's own part.
type rehearseData struct {
	Campaign string         // the picked campaign's name
	Status   *campaignState // its rehearsal so far, if any
}

func (s *Server) rehearse(w http.ResponseWriter, r *http.Request) {
	p := &page{Nav: "rehearse", Pick: s.pickOf(r.URL.Query())}
	d := rehearseData{}
	if path, ok := s.path(p.Pick.Campaign); ok {
		d.Campaign, _ = campaign.ReadName(path)
		if d.Campaign != "" {
			d.Status = s.stateOf(r.Context(), s.printer(r), rehearsal, d.Campaign)
		}
	}
	p.Data = d
	s.render(w, r, "rehearse", p)
}

func (s *Server) sendPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "send", &page{Nav: "send", Pick: s.pickOf(r.URL.Query())})
}

// confirmData is what the confirmation states before a real send.
type confirmData struct {
	Check  *checkView
	Host   string // where the messages go
	Count  int    // the messages the confirmation states
	Digest string // what start checks the files against (see confirmDigest)
}

// confirm checks the pick against the real ledger and states what the
// send will do: how many messages, to which address, which campaign.
func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	tr := s.printer(r)
	p := &page{Nav: "send", Pick: s.pickOf(r.Form)}
	p.Back = "/send?" + string(p.Pick.Query())
	if s.o.Token == "" {
		p.Error = tr.T("ui.send.no_token")
		s.render(w, r, "send", p)
		return
	}
	// The contacts file is read for the digest before the check counts
	// it: a change after that read makes the digest differ at start.
	sum, err := s.contactsSum(p.Pick)
	if err != nil {
		p.Error = tr.T("ui.pick.missing")
		s.render(w, r, "send", p)
		return
	}
	chk, problem := s.dryRun(r.Context(), tr, p.Pick)
	if chk == nil {
		p.Error = problem
		s.render(w, r, "send", p)
		return
	}
	p.Data = confirmData{Check: chk, Host: chk.Host, Count: chk.WouldSend,
		Digest: s.confirmDigest(p.Pick, chk.camp, sum, chk.WouldSend)}
	s.render(w, r, "confirm", p)
}

// contactsSum is the SHA-256 of the pick's contacts file.
func (s *Server) contactsSum(p pick) (string, error) {
	path, ok := s.path(p.Contacts)
	if !ok {
		return "", os.ErrNotExist
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// confirmDigest ties a confirmation to what it stated: the files picked,
// the campaign's name, fingerprint and address (so its host), the
// contacts file's content and the count of messages. Start recomputes it
// from the files as they are then, with the count the form carries, and
// sends nothing when it differs. Keyed with the page's key, so that no
// other page can make one.
func (s *Server) confirmDigest(p pick, c *campaign.Campaign, contactsSum string, count int) string {
	host := ""
	if u, err := url.Parse(c.BaseURL); err == nil {
		host = u.Host
	}
	m := hmac.New(sha256.New, []byte(s.key))
	for _, part := range []string{"confirm", p.Campaign, p.Contacts, c.Name, c.Fingerprint(), c.BaseURL, host, contactsSum, strconv.Itoa(count)} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// start starts a rehearsal, or a confirmed real send, and shows its
// progress.
func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	tr := s.printer(r)
	m, ok := parseMode(r.Form.Get("mode"))
	p := &page{Nav: "send", Pick: s.pickOf(r.Form)}
	if m == rehearsal {
		p.Nav = "rehearse"
	}
	campPath, contacts, both := s.paths(p.Pick)
	switch {
	case !ok || !both:
		p.Error = tr.T("ui.pick.missing")
	case m == real && s.o.Token == "":
		p.Error = tr.T("ui.send.no_token")
	}
	var c *campaign.Campaign
	if p.Error == "" {
		var err error
		if c, err = campaign.Load(campPath); err != nil {
			p.Error = s.describe(tr, err)
		}
	}
	// A real send sends what the confirmation stated, or nothing: the
	// files are checked against its digest as they are now.
	if p.Error == "" && m == real {
		count, err := strconv.Atoi(r.Form.Get("count"))
		sum, serr := s.contactsSum(p.Pick)
		if err != nil || serr != nil || !same(r.Form.Get("digest"), s.confirmDigest(p.Pick, c, sum, count)) {
			p.Status = http.StatusConflict
			p.Error = tr.T("ui.start.changed")
		}
	}
	if p.Error != "" {
		if p.Nav == "rehearse" {
			p.Data = rehearseData{}
		}
		s.render(w, r, p.Nav, p)
		return
	}
	key := runKey{mode: m, campaign: c.Name}
	o := engine.SendOptions{Contacts: contacts, Ledger: s.ledgerOf(m), Token: s.o.Token, Sandbox: m == rehearsal,
		Rate: sender.DefaultRate, Concurrency: sender.DefaultConcurrency(sender.DefaultRate),
		MaxAttempts: sender.DefaultMaxAttempts, Timeout: sender.DefaultTimeout, StateDir: s.o.StateDir}
	if o.Sandbox {
		o.Token = ""
	}
	o.Record = engine.Record{CampaignFile: campPath, ContactsFile: contacts, Ledger: o.Ledger,
		Rate: o.Rate, Concurrency: o.Concurrency, Sandbox: o.Sandbox}.Map()
	run, started := s.runs.start(s.ctx, key, p.Pick, func(ctx context.Context, ev engine.Events) (*engine.Result, error) {
		o.Events = ev
		return engine.Send(ctx, c, o)
	})
	if !started {
		// The campaign is being sent from this page already: this pick
		// is not sent, and the page says so rather than showing the
		// other send as if it were this one.
		p.Status = http.StatusConflict
		p.Error = tr.T("ui.start.running", c.Name, fileName(run.pick.Contacts), fileName(run.pick.Campaign))
		p.Back = "/" + p.Nav + "?" + string(p.Pick.Query())
		if p.Nav == "rehearse" {
			p.Data = rehearseData{}
		}
		s.render(w, r, p.Nav, p)
		return
	}
	http.Redirect(w, r, liveURL(key, p.Pick), http.StatusSeeOther)
}

// resultsData is the Results page's own part.
type resultsData struct {
	Mode      string
	Campaigns []campaignState
	NoLedger  bool
}

func (s *Server) results(w http.ResponseWriter, r *http.Request) {
	tr := s.printer(r)
	m, ok := parseMode(r.URL.Query().Get("mode"))
	if !ok {
		m = real
	}
	d := resultsData{Mode: string(m)}
	p := &page{Nav: "results", Pick: s.pickOf(r.URL.Query())}
	list, err := s.states(r.Context(), tr, m, "")
	switch {
	case errors.Is(err, os.ErrNotExist):
		d.NoLedger = true
	case err != nil:
		p.Error = s.describe(tr, err)
	}
	for i := range list {
		s.trackingOf(tr, &list[i])
	}
	d.Campaigns = list
	p.Data = d
	s.render(w, r, "results", p)
}

// track asks the platform what became of the campaign's sent messages,
// as `pregon track` does, in the background: the results say how far it
// got.
func (s *Server) track(w http.ResponseWriter, r *http.Request) {
	key, ok := s.keyOf(r.Form)
	if !ok || key.mode != real || s.o.Token == "" {
		http.NotFound(w, r)
		return
	}
	s.runs.track(s.ctx, key.campaign, func(ctx context.Context, progress func(int)) (*engine.TrackResult, error) {
		return engine.Track(ctx, engine.ReadOptions{Ledger: s.o.Ledger, Campaign: key.campaign, Token: s.o.Token,
			Rate: sender.DefaultRate, Timeout: sender.DefaultTimeout, StateDir: s.o.StateDir, Progress: progress})
	})
	http.Redirect(w, r, "/results?mode=real&"+string(s.pickOf(r.Form).Query()), http.StatusSeeOther)
}

// openLedger opens a ledger to read; os.ErrNotExist when there is none.
func (s *Server) openLedger(ctx context.Context, m mode) (*store.Ledger, error) {
	path := s.ledgerOf(m)
	if _, err := os.Stat(path); err != nil {
		return nil, os.ErrNotExist
	}
	return store.OpenReadOnly(ctx, path)
}

// download answers with a file one of the command line's tools makes of
// a campaign: name-CAMPAIGN.ext.
func (s *Server) download(w http.ResponseWriter, r *http.Request, name, ext, contentType string,
	write func(ctx context.Context, tr *i18n.Printer, w io.Writer, ledger *store.Ledger, id store.CampaignID, campaign string) error) {
	tr := s.printer(r)
	key, ok := s.keyOf(r.URL.Query())
	if !ok {
		http.NotFound(w, r)
		return
	}
	ledger, err := s.openLedger(r.Context(), key.mode)
	if err != nil {
		http.Error(w, tr.T("ui.results.no_ledger"), http.StatusNotFound)
		return
	}
	defer ledger.Close()
	id, found, err := ledger.Lookup(r.Context(), key.campaign)
	if err != nil || !found {
		http.Error(w, tr.T("ui.results.no_campaign", key.campaign), http.StatusNotFound)
		return
	}
	var b bytes.Buffer
	if err := write(r.Context(), tr, &b, ledger, id, key.campaign); err != nil {
		http.Error(w, s.describe(tr, err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + "-" + key.campaign + ext}))
	_, _ = b.WriteTo(w)
}

// report is the campaign's report, as `pregon report` writes it.
func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	s.download(w, r, s.printer(r).T("ui.file.report"), ".html", "text/html; charset=utf-8",
		func(ctx context.Context, tr *i18n.Printer, w io.Writer, ledger *store.Ledger, _ store.CampaignID, name string) error {
			return s.o.Tools.Report(ctx, tr, w, ledger, name)
		})
}

// export is the campaign's rows to fix, as `pregon export -outcome
// invalid,failed` writes them.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	s.download(w, r, s.printer(r).T("ui.file.export"), ".csv", "text/csv; charset=utf-8",
		func(ctx context.Context, tr *i18n.Printer, w io.Writer, ledger *store.Ledger, id store.CampaignID, _ string) error {
			return s.o.Tools.Export(ctx, tr, w, ledger, id)
		})
}

// setLang keeps the language chosen on the page.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	if l := i18n.Lang(r.Form.Get("lang")); l == i18n.Spanish || l == i18n.English {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(l), Path: "/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, MaxAge: 365 * 24 * 3600})
	}
	back := r.Form.Get("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.Contains(back, `\`) {
		back = "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
