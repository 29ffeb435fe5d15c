// Package i18n is Spotcheck's one message catalog (English and Simplified
// Chinese) and the formatting of dates, times and money for each language.
package i18n

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Lang is a supported language.
type Lang string

const (
	English Lang = "en"
	Chinese Lang = "zh"
)

// Langs lists the supported languages, the default first.
var Langs = []Lang{English, Chinese}

var matcher = language.NewMatcher([]language.Tag{language.English, language.SimplifiedChinese})

// Parse returns the language a setting names, or false.
func Parse(s string) (Lang, bool) {
	for _, l := range Langs {
		if string(l) == s {
			return l, true
		}
	}
	return "", false
}

// Match picks the best supported language for an Accept-Language header.
func Match(acceptLanguage string) Lang {
	tags, _, _ := language.ParseAcceptLanguage(acceptLanguage)
	_, idx, conf := matcher.Match(tags...)
	if conf == language.No {
		return English
	}
	return Langs[idx]
}

// Tag is the BCP 47 tag for the html lang attribute.
func (l Lang) Tag() string {
	if l == Chinese {
		return "zh-CN"
	}
	return "en"
}

// Name is the language's name in itself, for the switcher.
func (l Lang) Name() string {
	if l == Chinese {
		return "简体中文"
	}
	return "English"
}

type ctxKey struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l Lang) context.Context { return context.WithValue(ctx, ctxKey{}, l) }

// From returns the language in ctx, English when none.
func From(ctx context.Context) Lang {
	if l, ok := ctx.Value(ctxKey{}).(Lang); ok {
		return l
	}
	return English
}

// T translates key into the language in ctx; args fill %s/%d verbs.
func T(ctx context.Context, key string, args ...any) string { return From(ctx).T(key, args...) }

// T translates key into l. A key missing from the catalog shows as itself,
// and the catalog test fails.
func (l Lang) T(key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	s := m[0]
	if l == Chinese && m[1] != "" {
		s = m[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// N translates key for a count n, with its plural form: English has two
// (CLDR "one" for exactly 1, kept under key+"_one"; "other", the key
// itself), Chinese one. n also fills the first verb when args are not
// given.
func N(ctx context.Context, key string, n int, args ...any) string {
	return From(ctx).N(key, n, args...)
}

// N is the plural lookup of key in l.
func (l Lang) N(key string, n int, args ...any) string {
	if len(args) == 0 {
		args = []any{n}
	}
	if n == 1 && l == English && Has(key+"_one") {
		return l.T(key+"_one", args...)
	}
	return l.T(key, args...)
}

// Has reports whether the catalog knows key.
func Has(key string) bool { _, ok := messages[key]; return ok }

// DateTime formats t in the given location for l.
func (l Lang) DateTime(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if l == Chinese {
		return t.Format("2006年1月2日 15:04")
	}
	return t.Format("2 Jan 2006, 15:04")
}

// Date formats the day of t for l.
func (l Lang) Date(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if l == Chinese {
		return t.Format("2006年1月2日")
	}
	return t.Format("2 Jan 2006")
}

// Money formats an amount held in minor units (fen, cents) with its ISO
// currency code, grouped for l: "CN¥1,400,000.00" / "¥1,400,000.00".
func (l Lang) Money(minor int64, currency string) string {
	p := message.NewPrinter(language.English)
	if l == Chinese {
		p = message.NewPrinter(language.SimplifiedChinese)
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	whole := p.Sprintf("%d", minor/100)
	return fmt.Sprintf("%s%s%s.%02d", sign, symbol(l, currency), whole, minor%100)
}

func symbol(l Lang, currency string) string {
	switch strings.ToUpper(currency) {
	case "CNY":
		if l == Chinese {
			return "¥"
		}
		return "CN¥"
	case "USD":
		return "US$"
	case "EUR":
		return "€"
	}
	return strings.ToUpper(currency) + " "
}
