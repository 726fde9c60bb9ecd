package i18n

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"
)

// Lang is a language pregon speaks.
type Lang string

// The languages pregon speaks; English is the default.
const (
	English Lang = "en"
	Spanish Lang = "es"
)

// Env is the variable that chooses the language for every command, over
// the locale; -lang chooses it over PREGON_LANG.
const Env = "PREGON_LANG"

// Choose picks the language and the locale that formats numbers and
// dates: the -lang flag's value when given, else PREGON_LANG, else the
// first of LC_ALL, LC_MESSAGES and LANG that is set (as POSIX programs
// read them: LC_ALL=C means English whatever LANG says). A value starting
// with "es" is Spanish; anything else is English. A flag value that is
// neither es nor en (with or without a region: es_EC, es-MX) is an error;
// a variable that names another language just means English.
//
// The region, when the value has one, chooses how numbers are written:
// es_EC writes 1.234,5 and es_MX 1,234.5; Spanish without a region writes
// as Ecuador does.
func Choose(flag string, getenv func(string) string) (language.Tag, error) {
	if flag != "" {
		tag, ok := parse(flag)
		if !ok {
			return language.English, fmt.Errorf("-lang %q: write es (español) or en (English)", flag)
		}
		return tag, nil
	}
	if v := getenv(Env); v != "" {
		tag, _ := parse(v)
		return tag, nil
	}
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(name); v != "" {
			tag, _ := parse(v)
			return tag, nil
		}
	}
	return language.English, nil
}

// parse reads a locale name (es, es_EC.UTF-8, es-MX, en_US@euro, C) as a
// tag of one of pregon's languages; ok is false for a name that is
// neither es nor en.
func parse(v string) (language.Tag, bool) {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, ".@"); i >= 0 {
		v = v[:i]
	}
	v = strings.ReplaceAll(v, "_", "-")
	lower := strings.ToLower(v)
	switch {
	case lower == "es" || strings.HasPrefix(lower, "es-"):
		if tag, err := language.Parse(v); err == nil {
			if _, _, region := tag.Raw(); region.String() != "ZZ" {
				return tag, true
			}
		}
		return language.Spanish, true
	case lower == "en" || strings.HasPrefix(lower, "en-"):
		return language.English, true
	}
	return language.English, false
}

// LangOf is the language of a tag Choose returned.
func LangOf(tag language.Tag) Lang {
	if base, _ := tag.Base(); base.String() == "es" {
		return Spanish
	}
	return English
}
