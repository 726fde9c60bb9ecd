package campaign

import (
	"net/url"
	"strings"
)

// The values `pregon init` writes where only the user knows what goes: a
// campaign that still has one would send to an address that is not the
// brand's API (with the token), on no channel, or a template nobody
// approved. Unfilled finds them, so that nothing is sent until they are
// replaced. init writes these very constants.
const (
	ExampleBaseURLv2 = "https://api.example-brand.com"
	ExampleBaseURLv1 = "https://app.example-brand.com/api"
	// ExampleHost is the domain of the example addresses: any address on
	// it (a subdomain too) is an example.
	ExampleHost         = "example-brand.com"
	ExampleImageURL     = "https://" + ExampleHost + "/imagen.jpg"
	ExampleTemplateName = "nombre_de_la_plantilla"
	// ToWrite stands for the words init cannot guess: the text of a
	// message ("Hola {{Nombre}}, …") or a question ("{{Nombre}}, ¿…?").
	ToWrite         = "…"
	ExampleText     = ", " + ToWrite      // how init ends a text to write
	ExampleQuestion = "¿" + ToWrite + "?" // how init writes a question to write
)

// UnfilledKind says which of init's values a campaign still has.
type UnfilledKind int

// The kinds of Unfilled.
const (
	UnfilledBaseURL      UnfilledKind = iota // baseUrl is on ExampleHost
	UnfilledChannelID                        // channelId is 0
	UnfilledTemplateName                     // the template's name is ExampleTemplateName
	UnfilledURL                              // a web address in the message is on ExampleHost
	UnfilledText                             // a text still ends in ExampleText, or has ExampleQuestion
)

// Unfilled is a value of the campaign file that is still init's example.
type Unfilled struct {
	Kind  UnfilledKind
	Key   string // where, as the file names it: "baseUrl", "message.template.name"
	Value string // as written
}

// Unfilled lists the values of the campaign that are still init's
// examples, in the file's order. The baseUrl is among them: a caller that
// sends elsewhere (-base-url, the sandbox) leaves it out.
func (c *Campaign) Unfilled() []Unfilled {
	var out []Unfilled
	if IsExampleURL(c.BaseURL) {
		out = append(out, Unfilled{Kind: UnfilledBaseURL, Key: "baseUrl", Value: c.BaseURL})
	}
	if c.ChannelID == "0" {
		out = append(out, Unfilled{Kind: UnfilledChannelID, Key: "channelId", Value: "0"})
	}
	c.tmpl.root.walk("message", func(path string, n *node) {
		switch {
		case strings.HasSuffix(path, ".template.name") && n.src == ExampleTemplateName:
			out = append(out, Unfilled{Kind: UnfilledTemplateName, Key: path, Value: n.src})
		case IsExampleURL(n.src):
			out = append(out, Unfilled{Kind: UnfilledURL, Key: path, Value: n.src})
		case strings.HasSuffix(strings.TrimSpace(n.src), ExampleText) || strings.Contains(n.src, ExampleQuestion):
			out = append(out, Unfilled{Kind: UnfilledText, Key: path, Value: n.src})
		}
	})
	return out
}

// IsExampleURL reports whether s is a web address on ExampleHost.
func IsExampleURL(s string) bool {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".") // a fully qualified name ends in a dot
	return host == ExampleHost || strings.HasSuffix(host, "."+ExampleHost)
}
