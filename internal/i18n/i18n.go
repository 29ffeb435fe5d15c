// Package i18n is Spotcheck's one message catalog (English and Simplified
// Chinese, one go-i18n message file per language in locales/) and the
// formatting of dates, times and money for each language.
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

// Langs lists the supported languages, the default first: one for each
// message file.
var Langs = cat.langs

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
	_, idx, conf := cat.matcher.Match(tags...)
	if conf == language.No {
		return English
	}
	return Langs[idx]
}

// Tag is the BCP 47 tag for the html lang attribute: its file's tag.
func (l Lang) Tag() string { return l.locale().tag.String() }

// Name is the language's name in itself, for the switcher (lang.name).
func (l Lang) Name() string { return l.T("lang.name") }

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
	m, _, ok := l.lookup(key)
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(m.text, args...)
	}
	return m.text
}

// N translates key for a count n, with the plural form CLDR gives n in the
// language (English: "one" for 1, "other" else; Chinese: "other" only). n
// also fills the first verb when args are not given.
func N(ctx context.Context, key string, n int, args ...any) string {
	return From(ctx).N(key, n, args...)
}

// N is the plural lookup of key in l.
func (l Lang) N(key string, n int, args ...any) string {
	if len(args) == 0 {
		args = []any{n}
	}
	m, lc, ok := l.lookup(key)
	if !ok {
		return key
	}
	s := m.text
	if m.forms != nil {
		s = lc.pluralText(n, m)
	}
	return fmt.Sprintf(s, args...)
}

// Has reports whether the catalog knows key.
func Has(key string) bool { _, ok := cat.list[0].msgs[key]; return ok }

// DateTime formats t in the given location for l, with its file's layout
// lang.datetime.
func (l Lang) DateTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(l.T("lang.datetime"))
}

// Date formats the day of t for l (layout lang.date).
func (l Lang) Date(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(l.T("lang.date"))
}

// Money formats an amount held in minor units (fen, cents) with its ISO
// currency code, grouped for l: "CN¥1,400,000.00" / "¥1,400,000.00".
func (l Lang) Money(minor int64, currency string) string {
	p := message.NewPrinter(l.locale().tag)
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
