package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// The catalog is one go-i18n message file per language,
// locales/active.<BCP 47 tag>.toml; adding a language is adding its file.
// Every file has the same keys (the tests check it). A message is a string
// with positional fmt verbs (%[1]s), or a table of CLDR plural forms
// (one, other, …) for a counted message. lang.name is the language's name
// in itself; lang.datetime and lang.date are its time.Format layouts.
//
//go:embed locales/active.*.toml
var localeFiles embed.FS

// msg is a message resolved for one language at start-up.
type msg struct {
	text  string     // the CLDR "other" form: what T says
	forms *[6]string // a plural message's text per CLDR form; nil for others
}

// A plural form is its index in msg.forms, go-i18n's Message field order:
// zero, one, two, few, many, other.
const other = 5

// locale is one language's file, resolved.
type locale struct {
	tag   language.Tag
	msgs  map[string]msg
	rule  *goi18n.Localizer  // says the form a count takes (formOf)
	small [smallCounts]uint8 // formOf(n) for n < smallCounts, worked out at start-up
}

// smallCounts is how many counts have their plural form looked up once at
// start-up rather than asked of go-i18n each time.
const smallCounts = 1000

type catalog struct {
	langs   []Lang    // the default language first, then in file name order
	list    []*locale // langs' locales, in that order: a few, scanned faster than a map
	locales map[Lang]*locale
	matcher language.Matcher
}

var cat = load(localeFiles)

// load parses the message files with go-i18n and resolves every message
// into a map per language, so T is one map lookup. A language's Lang is
// its tag's base language ("zh" for zh-CN): user settings and sessions
// store it. A broken file stops the program at start-up.
func load(files fs.FS) *catalog {
	bundle := goi18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	names, err := fs.Glob(files, "locales/active.*.toml")
	if err != nil {
		panic(err)
	}
	c := &catalog{locales: map[Lang]*locale{}}
	var parsed []*goi18n.MessageFile
	plural := map[string]bool{}
	for _, name := range names {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			panic(err)
		}
		mf, err := bundle.ParseMessageFileBytes(b, path.Base(name))
		if err != nil {
			panic(fmt.Sprintf("i18n: %s: %v", name, err))
		}
		for _, m := range mf.Messages {
			if m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != "" {
				plural[m.ID] = true
			}
		}
		parsed = append(parsed, mf)
	}
	var tags []language.Tag
	for _, mf := range parsed {
		base, _ := mf.Tag.Base()
		l := Lang(base.String())
		if _, dup := c.locales[l]; dup {
			panic(fmt.Sprintf("i18n: two message files for language %q", l))
		}
		lc := newLocale(mf.Tag)
		for _, m := range mf.Messages {
			r := msg{text: m.Other}
			if plural[m.ID] {
				r.forms = &[6]string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other}
			}
			lc.msgs[m.ID] = r
		}
		c.locales[l] = lc
		if l == English {
			c.langs = slices.Insert(c.langs, 0, l)
			tags = slices.Insert(tags, 0, mf.Tag)
		} else {
			c.langs = append(c.langs, l)
			tags = append(tags, mf.Tag)
		}
	}
	if c.locales[English] == nil {
		panic("i18n: no message file for the default language, English")
	}
	for _, l := range c.langs {
		c.list = append(c.list, c.locales[l])
	}
	c.matcher = language.NewMatcher(tags)
	return c
}

// locale is l's resolved file; a language without one reads English.
func (l Lang) locale() *locale {
	for i, x := range cat.langs {
		if x == l {
			return cat.list[i]
		}
	}
	return cat.list[0]
}

// lookup finds key in l, or else in English (a file missing a key fails
// the tests, never the page).
func (l Lang) lookup(key string) (msg, *locale, bool) {
	lc := l.locale()
	if m, ok := lc.msgs[key]; ok {
		return m, lc, true
	}
	def := cat.list[0]
	m, ok := def.msgs[key]
	return m, def, ok
}

// newLocale is an empty locale for tag with its plural rule: go-i18n's
// CLDR rule for the language, read through a message whose every form
// says its own index.
func newLocale(tag language.Tag) *locale {
	b := goi18n.NewBundle(tag)
	probe := &goi18n.Message{ID: "form", Zero: "0", One: "1", Two: "2", Few: "3", Many: "4", Other: "5"}
	if err := b.AddMessages(tag, probe); err != nil {
		panic(fmt.Sprintf("i18n: %s: %v", tag, err))
	}
	lc := &locale{tag: tag, msgs: map[string]msg{}, rule: goi18n.NewLocalizer(b, tag.String())}
	for n := range lc.small {
		lc.small[n] = lc.askForm(n)
	}
	return lc
}

func (lc *locale) askForm(n int) uint8 {
	s, err := lc.rule.Localize(&goi18n.LocalizeConfig{MessageID: "form", PluralCount: n})
	if err != nil || len(s) != 1 {
		return other
	}
	return s[0] - '0'
}

// formOf is the CLDR plural form (an index of msg.forms) n takes in lc.
func (lc *locale) formOf(n int) uint8 {
	if n >= 0 && n < smallCounts {
		return lc.small[n]
	}
	return lc.askForm(n)
}

// pluralText is m's text for the count n in lc; a form the file lacks
// says "other".
func (lc *locale) pluralText(n int, m msg) string {
	if s := m.forms[lc.formOf(n)]; s != "" {
		return s
	}
	return m.text
}
