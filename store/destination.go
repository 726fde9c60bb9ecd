package store

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Destination is where a campaign's messages go.
type Destination struct {
	API     string // "v1" or "v2"
	BaseURL string // scheme://host[:port][/path], no trailing slash, never a token, user info or query; "" with Sandbox
	Sandbox bool   // pregon's built-in sandbox (send -sandbox), whose address changes every run
	// Rehearsal: a pregon sandbox answers there (always so with Sandbox),
	// and its messages reach nobody.
	Rehearsal bool
}

// String names the destination, e.g. "v2 at https://api.brand.com/api" or
// "v2 at the built-in sandbox (-sandbox)".
func (d Destination) String() string {
	where := d.BaseURL
	switch {
	case d.Sandbox:
		where = "the built-in sandbox (-sandbox)"
	case where == "":
		where = "an unrecorded address"
	case d.Rehearsal:
		where += " (a pregon sandbox: a rehearsal)"
	}
	if d.API == "" {
		return where
	}
	return d.API + " at " + where
}

// check refuses a destination the ledger must not record. Its errors never
// repeat the URL: what is wrong with it may be a secret.
func (d Destination) check() error {
	if d.API == "" {
		return errors.New("destination: no API version")
	}
	if d.Sandbox {
		if d.BaseURL != "" {
			return errors.New("destination: the built-in sandbox has no base URL to record")
		}
		return nil
	}
	u, err := url.Parse(d.BaseURL)
	switch {
	case d.BaseURL == "":
		return errors.New("destination: no base URL")
	case err != nil:
		return errors.New("destination: the base URL does not parse")
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.Opaque != "":
		return errors.New("destination: the base URL is not http(s)://host[:port][/path]")
	case u.User != nil:
		return errors.New("destination: the base URL carries user info; the ledger never records credentials")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(d.BaseURL, "?#"):
		return errors.New("destination: the base URL carries a query or fragment; the ledger never records one")
	case strings.HasSuffix(d.BaseURL, "/"):
		return errors.New("destination: the base URL ends in a slash")
	}
	return nil
}

// recordedDestination reads a campaign row's api, base_url and sandbox
// (rehearsal) columns. known is false for a campaign registered before the ledger
// recorded destinations (format 1); its sandbox column then meant the
// built-in sandbox, the only one there was.
func recordedDestination(api, baseURL sql.NullString, rehearsal bool) (d Destination, known bool) {
	if !api.Valid {
		return Destination{Sandbox: rehearsal, Rehearsal: rehearsal}, false
	}
	return Destination{API: api.String, BaseURL: baseURL.String, Sandbox: baseURL.String == "", Rehearsal: rehearsal}, true
}

// DestinationError says that the ledger's campaign of that name was sent
// elsewhere than where this run would send it: the states the ledger holds
// are that destination's (a rehearsal's "sent" would make the real run
// skip everyone).
type DestinationError struct {
	Name     string
	Recorded Destination // where the ledger's requests went; API and BaseURL empty when the ledger predates recording them
	Current  Destination // where this run would send
	// Movable: both are the platform's addresses (no sandbox, no
	// rehearsal), so the platform may have moved; Register with
	// allowChanged then takes the new one.
	Movable bool
}

func (e *DestinationError) Error() string {
	rec := e.Recorded.String()
	return fmt.Sprintf("campaign %q was sent to %s in this ledger; this run would send to %s: contacts recorded as sent there would be skipped here",
		e.Name, rec, e.Current)
}
