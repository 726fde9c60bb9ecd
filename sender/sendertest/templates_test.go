package sendertest

import (
	"encoding/json"
	"strings"
	"testing"
)

type gotTemplate struct {
	ID                                   int64
	Name, LanguageCode, Category, Status string
	Components                           json.RawMessage
	ChannelID                            int64
}

// components decodes a template's components whichever shape they came
// in, and says which.
func (g gotTemplate) components(t *testing.T) (c []struct{ Type, Format, Text string }, asString bool) {
	t.Helper()
	raw := []byte(g.Components)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw, asString = []byte(s), true
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("%s: components %s: %v", g.Name, g.Components, err)
	}
	return c, asString
}

// A channel's templates come in pages at the path the brand lists them
// at, their status in either case and their components as an array or as
// a JSON string; the other path is the web server's, and a channel the
// platform lacks gets the API's 404.
func TestTemplatesInBothPathsAndShapes(t *testing.T) {
	for _, mtm := range []bool{false, true} {
		s := NewServer(t, Config{TemplatesAtMTM: mtm, PerSecond: 100})
		path, other := "/template", "/mtm"
		if mtm {
			path, other = other, path
		}
		base := s.URL + "/api/v2/space/channel/4242" + path
		var all []gotTemplate
		for url := base + "?limit=1"; url != ""; {
			var page struct {
				Items      []gotTemplate
				Pagination struct{ Next, Previous string }
			}
			resp, body := get(t, url, &page)
			if resp.StatusCode != 200 || len(page.Items) != 1 || resp.Header.Get("X-RateLimit-Remaining") == "" {
				t.Fatalf("mtm %v: GET %s: %d %s", mtm, url, resp.StatusCode, body)
			}
			all = append(all, page.Items...)
			if url = page.Pagination.Next; url != "" && !strings.HasPrefix(url, base+"?") {
				t.Fatalf("mtm %v: next %q", mtm, url)
			}
		}
		byName := map[string]gotTemplate{}
		for _, g := range all {
			byName[g.Name] = g
		}
		want := []struct {
			name, status   string
			asString       bool
			first, bodyHas string
		}{
			{"delivery_order", "APPROVED", false, "HEADER/IMAGE", "Hola, {{1}} tu pedido {{2}} está en camino."},
			{"aviso_horario", "approved", true, "BODY/", "{{1}}"},
			{"promo_fin_de_semana", "PENDING", true, "HEADER/TEXT", "{{2}}"},
			{"encuesta_satisfaccion", "rejected", false, "BODY/", "{{1}}"},
		}
		if len(all) != len(want) {
			t.Fatalf("mtm %v: %d templates, want %d: %+v", mtm, len(all), len(want), all)
		}
		for _, w := range want {
			g := byName[w.name]
			c, asString := g.components(t)
			body := ""
			for _, x := range c {
				if x.Type == "BODY" {
					body = x.Text
				}
			}
			if g.Status != w.status || asString != w.asString || g.LanguageCode != "es" || g.ChannelID != 4242 || g.ID == 0 ||
				g.Category == "" || len(c) == 0 || c[0].Type+"/"+c[0].Format != w.first || !strings.Contains(body, w.bodyHas) {
				t.Errorf("mtm %v: %+v (components as a string: %v), want status %s, as a string %v, %s first, a body with %s",
					mtm, g, asString, w.status, w.asString, w.first, w.bodyHas)
			}
		}
		resp, body := get(t, s.URL+"/api/v2/space/channel/4242"+other, nil)
		if resp.StatusCode != 404 || !strings.Contains(body, "<title>404 Not Found</title>") || resp.Header.Get("X-RateLimit-Limit") != "" {
			t.Errorf("mtm %v: GET %s: %d %s, want the web server's 404, outside the API's limit", mtm, other, resp.StatusCode, body)
		}
		for _, channel := range []string{"4243", "canal"} {
			resp, body := get(t, s.URL+"/v2/space/channel/"+channel+path, nil)
			if resp.StatusCode != 404 || body != `{"code":404,"message":"Channel not found"}`+"\n" {
				t.Errorf("mtm %v: channel %s: %d %s, want the API's 404", mtm, channel, resp.StatusCode, body)
			}
		}
		for _, r := range s.Requests() {
			if r.Method != "GET" || len(s.Messages()) != 0 || len(s.Stored()) != 0 {
				t.Errorf("mtm %v: recorded %s %s, or messages: only template reads happened", mtm, r.Method, r.Path)
			}
		}
	}
}

// A test's templates replace the defaults, and only their channels are
// known.
func TestConfiguredTemplates(t *testing.T) {
	s := NewServer(t, Config{Templates: []Template{
		{ChannelID: 99, Name: "bienvenida", LanguageCode: "en", Category: "UTILITY", Status: "approved",
			Components: json.RawMessage(`[{"type":"BODY","text":"Welcome {{1}}"}]`)},
	}})
	var page struct{ Items []gotTemplate }
	if resp, body := get(t, s.URL+"/v2/space/channel/99/template", &page); resp.StatusCode != 200 || len(page.Items) != 1 ||
		page.Items[0].ID != 7001 || page.Items[0].Status != "APPROVED" || page.Items[0].LanguageCode != "en" {
		t.Errorf("channel 99: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, s.URL+"/v2/space/channel/4242/template", nil); resp.StatusCode != 404 {
		t.Errorf("the default channel with configured templates: %d, want 404", resp.StatusCode)
	}
	none := NewServer(t, Config{Templates: []Template{}})
	if resp, _ := get(t, none.URL+"/v2/space/channel/4242/template", nil); resp.StatusCode != 404 {
		t.Errorf("no templates: %d, want 404", resp.StatusCode)
	}
}
