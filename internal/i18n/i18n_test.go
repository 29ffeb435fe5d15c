package i18n

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestEveryMessageHasBothLanguages(t *testing.T) {
	if len(Langs) < 2 {
		t.Fatalf("Langs = %v", Langs)
	}
	for _, l := range Langs {
		if len(cat.locales[l].msgs) != len(cat.locales[English].msgs) {
			t.Errorf("%s has %d messages, English %d", l, len(cat.locales[l].msgs), len(cat.locales[English].msgs))
		}
	}
	for k := range cat.locales[English].msgs {
		for _, l := range Langs {
			m, ok := cat.locales[l].msgs[k]
			if !ok || strings.TrimSpace(m.text) == "" {
				t.Errorf("%s: %s is %q", k, l, m.text)
			}
		}
	}
}

// keyLiteral matches message keys written as string literals in the code.
var keyLiteral = regexp.MustCompile(`"((?:nav|footer|role|field|hint|login|password|cases|case|assignments|authentications|users|brands|error|inbox|shop|tokens|filter|sort|list|state|event|link|reason|timeline|import|purchase|assignment|evidence|custody|party|reimbursement|reimbursements|notifications|notify|order|volunteers|brandcase|verdict|check|outcome|enforcement|referral|raid|threshold|claim|ledger|bundle|report|deadline)\.[a-z_]+)"`)

// TestEveryKeyUsedInTheCodeIsInTheCatalog scans the Go and templ sources,
// so a screen can never show a raw key.
func TestEveryKeyUsedInTheCodeIsInTheCatalog(t *testing.T) {
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..")
	found := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// authz names its actions like keys ("cases.view"); they are not messages.
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "data" || d.Name() == "authz") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, "_templ.go") || strings.HasSuffix(p, "_test.go") ||
			!(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".templ")) {
			return nil
		}
		b, err := os.ReadFile(p) // #nosec G122 G304 -- the walk reads the project's own sources; nothing else writes there during the test
		if err != nil {
			return err
		}
		inWeb := strings.Contains(filepath.ToSlash(p), "/web/")
		for _, m := range keyLiteral.FindAllStringSubmatch(string(b), -1) {
			// Outside web/ only error keys are messages; other dotted names
			// there are audit actions and API field paths.
			if !inWeb && !strings.HasPrefix(m[1], "error.") {
				continue
			}
			found++
			// A prefix a value completes ("deadline.kind_" + kind): its
			// keys are listed in TestKeysBuiltAtRunTimeAreInTheCatalog.
			if strings.HasSuffix(m[1], "_") {
				continue
			}
			if !Has(m[1]) {
				t.Errorf("%s uses %q, which is not in the catalog", p, m[1])
			}
			// The error page shows a title and a body for each error key.
			if strings.HasSuffix(p, "error.go") && strings.HasPrefix(m[1], "error.") && !Has(m[1]+"_body") {
				t.Errorf("%s: error page key %q has no %q", p, m[1], m[1]+"_body")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 50 {
		t.Fatalf("found only %d keys in the sources; is the scan broken?", found)
	}
	for _, r := range []string{"admin", "staff", "volunteer", "brand"} {
		if !Has("role." + r) {
			t.Errorf("role.%s missing", r)
		}
	}
}

func TestMatchPrefersChineseForChineseBrowsers(t *testing.T) {
	cases := map[string]Lang{
		"":                        English,
		"zh-CN,zh;q=0.9,en;q=0.8": Chinese,
		"zh":                      Chinese,
		"zh-TW":                   Chinese,
		"en-GB,en;q=0.9":          English,
		"fr-FR,fr;q=0.9":          English,
		"fr;q=0.9,zh-Hans;q=0.8":  Chinese,
	}
	for h, want := range cases {
		if got := Match(h); got != want {
			t.Errorf("Match(%q) = %s, want %s", h, got, want)
		}
	}
}

func TestFormatsFollowTheLanguage(t *testing.T) {
	at := time.Date(2026, 11, 26, 6, 5, 0, 0, time.UTC)
	sh, _ := time.LoadLocation("Asia/Shanghai")
	if got := English.DateTime(at, sh); got != "26 Nov 2026, 14:05" {
		t.Errorf("English.DateTime = %q", got)
	}
	if got := Chinese.DateTime(at, sh); got != "2026年11月26日 14:05" {
		t.Errorf("Chinese.DateTime = %q", got)
	}
	if got := English.Date(at, sh); got != "26 Nov 2026" {
		t.Errorf("English.Date = %q", got)
	}
	if got := Chinese.Date(at, sh); got != "2026年11月26日" {
		t.Errorf("Chinese.Date = %q", got)
	}
	if got := English.Money(140000000, "CNY"); got != "CN¥1,400,000.00" {
		t.Errorf("English.Money = %q", got)
	}
	if got := Chinese.Money(140000000, "CNY"); got != "¥1,400,000.00" {
		t.Errorf("Chinese.Money = %q", got)
	}
	if got := English.Money(-1999, "USD"); got != "-US$19.99" {
		t.Errorf("negative = %q", got)
	}
}

func TestTUsesTheContextLanguage(t *testing.T) {
	ctx := With(context.Background(), Chinese)
	if got := T(ctx, "login.title"); got != "登录" {
		t.Errorf("T = %q", got)
	}
	if got := T(context.Background(), "login.title"); got != "Sign in" {
		t.Errorf("default T = %q", got)
	}
	if got := T(ctx, "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key = %q", got)
	}
}

func TestCountsTakeTheirPluralForm(t *testing.T) {
	if got := English.N("import.start", 1, "1"); got != "Import 1 row" {
		t.Errorf("one row: %q", got)
	}
	if got := English.N("import.start", 2, "2"); got != "Import 2 rows" {
		t.Errorf("two rows: %q", got)
	}
	if got := English.N("import.start", 0, "0"); got != "Import 0 rows" {
		t.Errorf("no rows: %q", got)
	}
	if got := Chinese.N("import.start", 1, "1"); got != "导入 1 行" {
		t.Errorf("one row in Chinese: %q", got)
	}
}
