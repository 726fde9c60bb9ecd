package ui

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/pregon/pregon/i18n"
)

// csp lets the page run its own script and style only, post only to
// itself, and never be framed. Images may come from the web: a template's
// header image is the campaign's own link, shown as the customer sees it.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// guard lets a request through only when it is for this server, from the
// browser that holds the key, and (for a POST) sent by this page.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// Same-origin, not no-referrer: with no-referrer a browser sends
		// "Origin: null" on its own forms' POSTs.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		// A name that resolves to this machine (DNS rebinding) is
		// another site to the browser: its requests are refused.
		if !s.hostOK(r.Host) {
			s.plain(w, r, http.StatusMisdirectedRequest, "ui.locked.host", s.ln.Addr().String())
			return
		}
		if k := r.URL.Query().Get("key"); k != "" && r.Method == http.MethodGet {
			s.enter(w, r, k)
			return
		}
		if c, err := r.Cookie(s.cookieName()); err != nil || !same(c.Value, s.key) {
			s.locked(w, r, http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !sameOrigin(r) {
				s.locked(w, r, http.StatusForbidden)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, s.o.MaxUpload+1<<20)
			// An upload streams its file: its token is checked as its
			// first field (see upload). Any other request, multipart or
			// not, has it checked here.
			upload := r.URL.Path == "/upload" && isMultipart(r)
			if !upload && !same(r.PostFormValue("csrf"), s.csrf) {
				s.locked(w, r, http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// enter checks the key the URL carries and keeps it in a cookie, then
// sends the browser on to the same page without it, so that it stays out
// of the history and of what is shared of the screen.
func (s *Server) enter(w http.ResponseWriter, r *http.Request, key string) {
	if !same(key, s.key) {
		s.locked(w, r, http.StatusForbidden)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: s.key, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	q := r.URL.Query()
	q.Del("key")
	to := localPath(r.URL.Path)
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		// A navigation another page started (the file LaunchFile
		// writes, file://): the browser would not send the Strict cookie
		// on a redirect of it. This page moves on itself instead, a
		// navigation of this site's own.
		u := template.HTMLEscapeString(to)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=%s">`+
			`<title>pregon ui</title></head><body><p><a href="%s">pregon ui</a></p></body></html>`+"\n", u, u)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// localPath is a request's path as one to send the browser to on this
// server: cleaned and escaped, so that no browser reads it as another
// host's address ("//host", "/\host", or one with a tab or a newline
// that browsers drop); "/" when it still could be.
func localPath(p string) string {
	to := (&url.URL{Path: path.Clean("/" + p)}).EscapedPath()
	if !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") || strings.HasPrefix(to, `/\`) ||
		strings.ContainsAny(to, "\\\t\r\n") {
		return "/"
	}
	return to
}

// locked answers a request without the key, or not from the page, in
// both languages: whoever reads it may not have the cookie that says
// which.
func (s *Server) locked(w http.ResponseWriter, r *http.Request, status int) {
	key := "ui.locked.nokey"
	if status == http.StatusForbidden {
		key = "ui.locked.refused"
	}
	s.plain(w, r, status, key)
}

// plain answers with a short text in the reader's language, then the
// other.
func (s *Server) plain(w http.ResponseWriter, r *http.Request, status int, key string, args ...any) {
	tr := s.printer(r)
	other := i18n.For(i18n.Spanish)
	if tr.Lang() == i18n.Spanish {
		other = i18n.For(i18n.English)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(strconv.Itoa(status) + "\n\n" + tr.T(key, args...) + "\n\n" + other.T(key, args...) + "\n"))
}

// cookieName includes the port: cookies do not tell ports apart, and two
// pregon ui on one machine must not take each other's key.
func (s *Server) cookieName() string {
	_, port, _ := net.SplitHostPort(s.ln.Addr().String())
	return "pregon_key_" + port
}

// hostOK says whether a Host header names the address served: its port,
// and its address or, on loopback, localhost. A server listening on every
// address accepts any address, never a name.
func (s *Server) hostOK(host string) bool {
	name, port, err := net.SplitHostPort(host)
	addr, ok := s.ln.Addr().(*net.TCPAddr)
	if err != nil || !ok || port != strconv.Itoa(addr.Port) {
		return false
	}
	if strings.EqualFold(name, "localhost") {
		return addr.IP.IsLoopback() || addr.IP.IsUnspecified()
	}
	ip := net.ParseIP(name)
	return ip != nil && (ip.Equal(addr.IP) || addr.IP.IsUnspecified())
}

// sameOrigin says whether a state-changing request comes from this page:
// browsers send Origin with every POST; one that does not say where the
// request comes from is refused.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		return o == "http://"+r.Host
	}
	return r.Header.Get("Sec-Fetch-Site") == "same-origin"
}

func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}

// same compares secrets in constant time.
func same(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// derive is a value only the key's holder can compute.
func derive(key, purpose string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
