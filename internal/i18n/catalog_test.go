package i18n

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// localeFile is one message file as go-i18n reads it from disk.
type localeFile struct {
	name string
	tag  language.Tag
	msgs map[string]*goi18n.Message
}

func readLocaleFiles(t *testing.T) []localeFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("locales", "active.*.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 2 {
		t.Fatalf("found %d message files in locales/, want one per language", len(paths))
	}
	var files []localeFile
	for _, p := range paths {
		b, err := os.ReadFile(p) // #nosec G304 -- this package's own message files
		if err != nil {
			t.Fatal(err)
		}
		mf, err := goi18n.ParseMessageFileBytes(b, p, map[string]goi18n.UnmarshalFunc{"toml": toml.Unmarshal})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		f := localeFile{name: filepath.Base(p), tag: mf.Tag, msgs: map[string]*goi18n.Message{}}
		for _, m := range mf.Messages {
			f.msgs[m.ID] = m
		}
		files = append(files, f)
	}
	return files
}

// forms lists a message's CLDR plural forms that have a text.
func forms(m *goi18n.Message) map[string]string {
	f := map[string]string{}
	for name, s := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other} {
		if s != "" {
			f[name] = s
		}
	}
	return f
}

func isPlural(m *goi18n.Message) bool {
	return m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != ""
}

// cldrForms asks go-i18n which plural forms whole numbers take in tag: a
// message whose every form says its own name, localized for many counts.
func cldrForms(t *testing.T, tag language.Tag) []string {
	t.Helper()
	b := goi18n.NewBundle(tag)
	probe := &goi18n.Message{ID: "probe", Zero: "zero", One: "one", Two: "two", Few: "few", Many: "many", Other: "other"}
	if err := b.AddMessages(tag, probe); err != nil {
		t.Fatal(err)
	}
	loc := goi18n.NewLocalizer(b, tag.String())
	seen := map[string]bool{}
	counts := []int{10_000, 100_000, 1_000_000, 10_000_000, 1_000_000_000}
	for n := 0; n <= 1000; n++ {
		counts = append(counts, n)
	}
	for _, n := range counts {
		s, err := loc.Localize(&goi18n.LocalizeConfig{MessageID: "probe", PluralCount: n})
		if err != nil {
			t.Fatal(err)
		}
		seen[s] = true
	}
	var out []string
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

func TestEveryLanguageFileHasEveryKey(t *testing.T) {
	files := readLocaleFiles(t)
	keys := map[string]bool{}
	for _, f := range files {
		for k := range f.msgs {
			keys[k] = true
		}
	}
	if len(keys) < 500 {
		t.Fatalf("only %d keys in the message files", len(keys))
	}
	for _, f := range files {
		for k := range keys {
			m, ok := f.msgs[k]
			if !ok {
				t.Errorf("%s: %s missing", f.name, k)
				continue
			}
			if strings.TrimSpace(m.Other) == "" {
				t.Errorf("%s: %s has no text", f.name, k)
			}
			for name, s := range forms(m) {
				if strings.TrimSpace(s) == "" {
					t.Errorf("%s: %s %s is blank", f.name, k, name)
				}
			}
		}
	}
}

var (
	positionalVerb = regexp.MustCompile(`%\[([1-9][0-9]*)\]([a-zA-Z])`)
	anyVerb        = regexp.MustCompile(`%%|%\[[1-9][0-9]*\][a-zA-Z]|%`)
)

// verbSet is a text's verbs as "index letter", sorted; a verb that is not
// positional (%s, %d) is reported.
func verbSet(s string) (set []string, bare bool) {
	for _, v := range anyVerb.FindAllString(s, -1) {
		switch {
		case v == "%%":
		case v == "%":
			bare = true
		default:
			m := positionalVerb.FindStringSubmatch(v)
			set = append(set, m[1]+m[2])
		}
	}
	sort.Strings(set)
	return slices.Compact(set), bare
}

func TestEveryLanguageHasTheSameVerbs(t *testing.T) {
	files := readLocaleFiles(t)
	var en localeFile
	for _, f := range files {
		if f.tag == language.English {
			en = f
		}
	}
	if en.msgs == nil {
		t.Fatal("no English file")
	}
	withVerbs := 0
	for k, m := range en.msgs {
		want, _ := verbSet(m.Other)
		if len(want) > 0 {
			withVerbs++
		}
		for _, f := range files {
			fm, ok := f.msgs[k]
			if !ok {
				continue // TestEveryLanguageFileHasEveryKey says so
			}
			for name, s := range forms(fm) {
				got, bare := verbSet(s)
				if bare {
					t.Errorf("%s: %s %s has a verb without its position (write %%[1]s, %%%% for a percent sign): %q", f.name, k, name, s)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: %s %s has verbs %v, English %v", f.name, k, name, got, want)
				}
			}
		}
	}
	if withVerbs < 50 {
		t.Fatalf("only %d messages with verbs; is the verb scan broken?", withVerbs)
	}
}

func TestPluralMessagesHaveTheFormsTheLanguageNeeds(t *testing.T) {
	if got := cldrForms(t, language.English); !slices.Equal(got, []string{"one", "other"}) {
		t.Errorf("English plural forms %v", got)
	}
	if got := cldrForms(t, language.MustParse("zh-CN")); !slices.Equal(got, []string{"other"}) {
		t.Errorf("Chinese plural forms %v", got)
	}
	files := readLocaleFiles(t)
	plural := map[string]bool{}
	for _, f := range files {
		for k, m := range f.msgs {
			if isPlural(m) {
				plural[k] = true
			}
		}
	}
	for _, k := range []string{"import.preview_intro", "import.start", "import.counts"} {
		if !plural[k] {
			t.Errorf("%s is not a plural message", k)
		}
	}
	for _, f := range files {
		need := cldrForms(t, f.tag)
		for k := range plural {
			m, ok := f.msgs[k]
			if !ok {
				continue
			}
			var have []string
			for name := range forms(m) {
				have = append(have, name)
			}
			sort.Strings(have)
			if !slices.Equal(have, need) {
				t.Errorf("%s: plural %s has forms %v, the language has %v", f.name, k, have, need)
			}
		}
	}
}

// TestTheCatalogIsTheFiles: the languages, their tags and names and every
// message come from the embedded files.
func TestTheCatalogIsTheFiles(t *testing.T) {
	files := readLocaleFiles(t)
	if len(Langs) != len(files) || Langs[0] != English {
		t.Fatalf("Langs = %v for %d files; English first", Langs, len(files))
	}
	if English != "en" || Chinese != "zh" {
		t.Errorf("English, Chinese = %q, %q: stored settings name them en and zh", English, Chinese)
	}
	if Chinese.Tag() != "zh-CN" || English.Tag() != "en" {
		t.Errorf("tags %q, %q", English.Tag(), Chinese.Tag())
	}
	if English.Name() != "English" || Chinese.Name() != "简体中文" {
		t.Errorf("names %q, %q", English.Name(), Chinese.Name())
	}
	for _, f := range files {
		var l Lang
		for _, c := range Langs {
			if c.Tag() == f.tag.String() {
				l = c
			}
		}
		if l == "" {
			t.Errorf("%s: no language with tag %s in %v", f.name, f.tag, Langs)
			continue
		}
		if p, ok := Parse(string(l)); !ok || p != l {
			t.Errorf("Parse(%q) = %q, %v", l, p, ok)
		}
		at := time.Date(2026, 11, 26, 14, 5, 0, 0, time.UTC)
		if d, dt := l.Date(at, time.UTC), l.DateTime(at, time.UTC); !strings.Contains(d, "26") || !strings.Contains(dt, "14:05") || !strings.Contains(dt, d) {
			t.Errorf("%s: lang.date, lang.datetime give %q, %q", f.name, d, dt)
		}
		if l.Name() != f.msgs["lang.name"].Other {
			t.Errorf("%s: Name() = %q, lang.name %q", f.name, l.Name(), f.msgs["lang.name"].Other)
		}
		for k, m := range f.msgs {
			if !Has(k) {
				t.Errorf("Has(%q) is false", k)
			}
			if got := l.T(k); got != m.Other {
				t.Errorf("%s.T(%q) = %q, the file says %q", l, k, got, m.Other)
			}
		}
	}
	for _, k := range []string{"import.preview_intro_one", "import.start_one", "import.counts_one"} {
		if Has(k) {
			t.Errorf("%s is still a key: plural forms live in the message", k)
		}
	}
}

func TestNPicksTheCLDRPluralForm(t *testing.T) {
	for _, c := range []struct {
		l    Lang
		n    int
		want string
	}{
		{English, 1, "Import 1 row"},
		{English, 0, "Import 0 rows"},
		{English, 2, "Import 2 rows"},
		{English, 21, "Import 21 rows"},
		{Chinese, 1, "导入 1 行"},
		{Chinese, 0, "导入 0 行"},
		{Chinese, 2, "导入 2 行"},
	} {
		if got := c.l.N("import.start", c.n, strconv.Itoa(c.n)); got != c.want {
			t.Errorf("%s.N(import.start, %d) = %q, want %q", c.l, c.n, got, c.want)
		}
	}
	if got := English.N("import.counts", 1, "1", "1", "100"); got != "1 of 1 row (100%)" {
		t.Errorf("one of one row: %q", got)
	}
	if got := English.N("import.counts", 5, "2", "5", "40"); got != "2 of 5 rows (40%)" {
		t.Errorf("two of five rows: %q", got)
	}
	if got := Chinese.N("import.counts", 1, "1", "1", "100"); got != "已处理 1 / 1 行（100%）" {
		t.Errorf("Chinese counts: %q", got)
	}
	// n fills the first verb when no arguments are given; a message
	// without plural forms is its one text.
	if got, want := English.N("bundle.derived", 1), English.T("bundle.derived", 1); got != want || !strings.Contains(got, " 1 ") {
		t.Errorf("N without arguments = %q, want %q", got, want)
	}
}

func TestAMissingKeyIsTheKeyItself(t *testing.T) {
	for _, l := range Langs {
		if got := l.T("no.such.key"); got != "no.such.key" {
			t.Errorf("%s.T = %q", l, got)
		}
		if got := l.T("no.such.key", "x", 2); got != "no.such.key" {
			t.Errorf("%s.T with args = %q", l, got)
		}
		if got := l.N("no.such.key", 2); got != "no.such.key" {
			t.Errorf("%s.N = %q", l, got)
		}
	}
	if Has("no.such.key") {
		t.Error("Has(no.such.key)")
	}
	if got := Lang("xx").T("login.title"); got != English.T("login.title") {
		t.Errorf("an unknown language reads English: %q", got)
	}
}

// TestAThirdLanguageIsOneFile loads the catalog with a French file beside
// the real ones (languages in file name order after English): it is a language with its tag, name, matcher entry and
// CLDR plural rule (French says "one" for 0 and 1).
func TestAThirdLanguageIsOneFile(t *testing.T) {
	files := fstest.MapFS{}
	for _, name := range []string{"active.en.toml", "active.zh-CN.toml"} {
		b, err := os.ReadFile(filepath.Join("locales", name)) // #nosec G304 -- this package's own message files
		if err != nil {
			t.Fatal(err)
		}
		files["locales/"+name] = &fstest.MapFile{Data: b}
	}
	files["locales/active.fr.toml"] = &fstest.MapFile{Data: []byte(`"lang.name" = "Français"
"lang.date" = "02/01/2006"

["import.start"]
one = "Importer %[1]s ligne"
other = "Importer %[1]s lignes"
`)}
	c := load(files)
	if !slices.Equal(c.langs, []Lang{English, "fr", Chinese}) {
		t.Fatalf("langs %v", c.langs)
	}
	fr := c.locales["fr"]
	if fr.tag.String() != "fr" || fr.msgs["lang.name"].text != "Français" {
		t.Errorf("fr: tag %s, name %q", fr.tag, fr.msgs["lang.name"].text)
	}
	tags, _, _ := language.ParseAcceptLanguage("fr-CH,fr;q=0.9,en;q=0.5")
	if _, idx, _ := c.matcher.Match(tags...); c.langs[idx] != "fr" {
		t.Errorf("a French browser gets %s", c.langs[idx])
	}
	m := fr.msgs["import.start"]
	for n, want := range map[int]string{0: "Importer %[1]s ligne", 1: "Importer %[1]s ligne", 2: "Importer %[1]s lignes", 5000: "Importer %[1]s lignes"} {
		if got := fr.pluralText(n, m); got != want {
			t.Errorf("fr %d: %q, want %q", n, got, want)
		}
	}
	en := c.locales[English]
	if got := en.pluralText(5000, en.msgs["import.start"]); got != "Import %[1]s rows" {
		t.Errorf("en 5000 (past the start-up table): %q", got)
	}
}
