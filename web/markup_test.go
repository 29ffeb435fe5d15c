package web_test

// The W3C Nu HTML checker (vnu) over every page: it is a Java program,
// installed by .ci/run with npm (`npm install --prefix ~/.cache/spotcheck/vnu
// vnu-jar@26.9.27`). SPOTCHECK_VNU_JAR names another vnu.jar. Without it
// (or without java) the test skips, unless SPOTCHECK_E2E=1 (CI), where it
// fails, as the browser tests do for a missing Chromium.

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/database/dbtest"
)

// vnuOnlyHTMX is the one kind of message the checker may give: htmx's own
// hx-* attributes, which HTML does not know.
const vnuOnlyHTMX = `Attribute “hx-[a-z:.-]+” not allowed on element “[a-z0-9-]+” at this point\.`

// vnuCommand is java with the checker's jar, or a skip (a failure under
// SPOTCHECK_E2E=1) when either is missing.
func vnuCommand(t *testing.T) (java, jar string) {
	t.Helper()
	jar = os.Getenv("SPOTCHECK_VNU_JAR")
	if jar == "" {
		home, _ := os.UserHomeDir()
		jar = filepath.Join(home, ".cache", "spotcheck", "vnu", "node_modules", "vnu-jar", "build", "dist", "vnu.jar")
	}
	var why string
	java, err := exec.LookPath("java")
	if err != nil {
		why = "no java (" + err.Error() + "); install it with `apt-get install -y --no-install-recommends default-jre-headless`"
	} else if _, err := os.Stat(jar); err != nil { // #nosec G703 -- the checker's jar named by the developer's SPOTCHECK_VNU_JAR; only its existence is asked
		why = fmt.Sprintf("no Nu HTML checker at %s; install it with `npm install --prefix ~/.cache/spotcheck/vnu vnu-jar@26.9.27` "+
			"or set SPOTCHECK_VNU_JAR to its vnu.jar", jar)
	}
	if why == "" {
		return java, jar
	}
	if os.Getenv("SPOTCHECK_E2E") == "1" {
		t.Fatalf("SPOTCHECK_E2E=1 but %s", why)
	}
	t.Skipf("skipping the HTML check: %s (SPOTCHECK_E2E=1 makes this a failure)", why)
	return "", ""
}

// fetched is one page written for the checker: what it is.
type fetched struct{ who, lang, method, path string }

// TestEveryPageIsValidHTML fetches every page each kind of visitor can get
// — every GET route of the route index, with every demo object its
// parameters can name, and the forms the matrix sends back with their
// errors — in English and in Chinese, and runs the Nu HTML checker once
// over all of them. The only messages allowed are about htmx's hx-*
// attributes.
func TestEveryPageIsValidHTML(t *testing.T) {
	java, jar := vnuCommand(t)
	a, _ := newPurchaseApp(t, dbtest.SQLite(t))
	a.loadDemo(t)
	values := demoValues(t, a)
	start := time.Now()
	dir := t.TempDir()
	pages := map[string]fetched{} // by file name
	seen := map[string]bool{}     // body hashes, per client
	// save keeps each distinct page for the checker, and of the error
	// pages (one template, which shows the request's id and path) one a
	// visitor, language, status and title.
	save := func(f fetched, res response) {
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || res.StatusCode == http.StatusSeeOther {
			return
		}
		if i := strings.Index(res.body, "%!"); i >= 0 { // a message given an argument its verb does not take
			t.Errorf("%s as %s (%s): a mis-formatted message: %q", f.path, f.who, f.lang, res.body[max(i-60, 0):min(i+40, len(res.body))])
		}
		same := res.body
		if res.StatusCode >= 400 && !slices.Contains([]int{http.StatusUnprocessableEntity, http.StatusUnauthorized}, res.StatusCode) {
			same = fmt.Sprint(f.who, f.lang, res.StatusCode, pageTitle.FindString(res.body))
		}
		sum := sha256.Sum256([]byte(same))
		if seen[string(sum[:])] {
			return
		}
		seen[string(sum[:])] = true
		name := fmt.Sprintf("%04d-%s-%s-%d%s.html", len(pages), f.who, f.lang, res.StatusCode, fileSafe.ReplaceAllString(f.path, "_"))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(res.body), 0o600); err != nil {
			t.Fatal(err)
		}
		pages[name] = f
	}

	visitors := []struct {
		who, email string
		role       int // index into the matrix's expectations (roles)
	}{{"anonymous", "", 0},
		{"admin", "admin@demo.spotcheck.test", 1}, {"staff", "staff@demo.spotcheck.test", 2},
		{"volunteer", "volunteer@demo.spotcheck.test", 3}, {"volunteer2", "volunteer2@demo.spotcheck.test", 3},
		{"volunteer3", "volunteer3@demo.spotcheck.test", 3}, {"brand", "brand@demo.spotcheck.test", 4}}
	rows := matrix()
	var gets, posts []string
	for _, r := range a.echo.Routes() {
		key := routeKey(r)
		if _, ok := rows[key]; !ok {
			t.Errorf("route %s has no row in the route matrix (routes_test.go), so no page of it is checked", key)
			continue
		}
		switch r.Method {
		case http.MethodGet, echo.RouteNotFound:
			gets = append(gets, key)
		case http.MethodPost:
			posts = append(posts, key)
		}
	}
	slices.Sort(gets)
	gets = slices.Compact(gets)
	slices.Sort(posts)
	posts = slices.Compact(posts)

	for _, v := range visitors {
		for _, lang := range []string{"en", "zh-CN"} {
			c := a.client()
			c.header.Set("Accept-Language", lang)
			if v.email == "" {
				c.get("/login")
			} else {
				c = a.asDemo(v.email, lang)
			}
			for _, key := range gets {
				method, _, _ := strings.Cut(key, " ")
				// Every object of a page this visitor may see; of a refusal
				// or a not-found route, the first will do.
				all := method == http.MethodGet && rows[key].want[v.role] == http.StatusOK
				for _, p := range expand(rows[key].path, values, all) {
					save(fetched{v.who, lang, http.MethodGet, p}, c.get(p))
				}
			}
			// The forms sent back with their errors, and the refusals.
			for _, key := range posts {
				row := rows[key]
				if !slices.Contains(row.want[:], invalid) && !slices.Contains(row.want[:], http.StatusUnauthorized) {
					continue
				}
				p := expand(row.path, values, false)[0]
				save(fetched{v.who, lang, http.MethodPost, p}, c.post(p, cloneForm(row.form)))
			}
		}
	}
	t.Logf("fetched %d distinct pages in %v", len(pages), time.Since(start).Round(time.Millisecond))
	if len(pages) < 100 {
		t.Fatalf("only %d distinct pages fetched", len(pages))
	}

	checked := time.Now()
	cmd := exec.Command(java, "-jar", jar, "--format", "json", "--skip-non-html", "--filterpattern", vnuOnlyHTMX, dir) // #nosec G204 -- java from PATH running the developer's own checker jar on the test's folder
	var stderr, stdout bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stdout
	runErr := cmd.Run()
	var out struct {
		Messages []struct {
			Type, SubType, URL, Message, Extract string
			LastLine, FirstColumn                int
		}
	}
	if err := json.Unmarshal(stderr.Bytes(), &out); err != nil {
		t.Fatalf("the checker's answer (%v) is not its JSON: %v\n%s\n%s", runErr, err, stderr.String(), stdout.String())
	}
	t.Logf("the checker took %v", time.Since(checked).Round(time.Millisecond))
	counts := map[string]int{}
	for _, m := range out.Messages {
		kind := m.Type
		if m.SubType != "" {
			kind += " (" + m.SubType + ")"
		}
		counts[kind+": "+quoted.ReplaceAllString(m.Message, "“…”")]++
		if m.Type == "info" { // warnings: counted, not failed
			continue
		}
		f := pages[filepath.Base(m.URL)]
		t.Errorf("%s %s as %s in %s (%s) line %d column %d: %s: %s\n\t%s", f.method, f.path, f.who, f.lang, filepath.Base(m.URL),
			m.LastLine, m.FirstColumn, m.Type, m.Message, strings.ReplaceAll(strings.TrimSpace(m.Extract), "\n", " "))
	}
	var lines []string
	for msg, n := range counts {
		lines = append(lines, fmt.Sprintf("%4d× %s", n, msg))
	}
	slices.Sort(lines)
	t.Logf("the checker's messages by kind (%d pages in %s):\n%s", len(pages), dir, strings.Join(lines, "\n"))
	if runErr != nil && len(out.Messages) == 0 {
		t.Fatalf("the checker failed: %v\n%s", runErr, stderr.String())
	}
}

var (
	fileSafe  = regexp.MustCompile(`[^A-Za-z0-9.-]+`)
	quoted    = regexp.MustCompile(`“[^”]*”`)
	pageTitle = regexp.MustCompile(`<title>[^<]*</title>`)
)

// demoValues are the demo objects each placeholder of the route matrix can
// name, the first of each what a not-found route or a form is sent to.
func demoValues(t *testing.T, a *app) map[string][]string {
	t.Helper()
	ids := func(query string) []string {
		t.Helper()
		var out []string
		if err := a.db.Gorm.Raw(query).Scan(&out).Error; err != nil || len(out) == 0 {
			t.Fatalf("%s: %v (%d rows)", query, err, len(out))
		}
		return out
	}
	staff := a.accounts["staff"]
	csv := "source,external_id,brand,score,detected_at,shop_platform,shop_id\nrisk-model-7,csv-1,Aurora Timepieces,0.3,2026-11-20T08:00:00Z,taobao,s-csv\n"
	imp, _, err := a.flags.CreateImport(t.Context(), staff.Actor(), "flags.csv", []byte(csv), a.zone)
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := a.tokens.Create(t.Context(), staff.ID, "risk system")
	if err != nil {
		t.Fatal(err)
	}
	cases := ids("SELECT reference FROM cases ORDER BY id")
	return map[string][]string{
		"case":          cases,
		"brandcase":     cases,
		"shop":          ids("SELECT CAST(id AS TEXT) FROM shops ORDER BY id"),
		"user":          ids("SELECT CAST(id AS TEXT) FROM users ORDER BY id"),
		"volunteer":     ids("SELECT CAST(id AS TEXT) FROM users WHERE role = 'volunteer' ORDER BY id"),
		"purchase":      ids("SELECT CAST(id AS TEXT) FROM purchases ORDER BY id"),
		"evidence":      ids("SELECT CAST(id AS TEXT) FROM evidence ORDER BY id LIMIT 1"),
		"item":          ids("SELECT CAST(id AS TEXT) FROM items ORDER BY id LIMIT 1"),
		"reimbursement": ids("SELECT CAST(id AS TEXT) FROM reimbursements ORDER BY id LIMIT 1"),
		"brand":         ids("SELECT CAST(id AS TEXT) FROM brands ORDER BY id"),
		"import":        {strconv.FormatInt(imp.ID, 10)},
		"token":         {strconv.FormatInt(tok.ID, 10)},
	}
}

// expand fills in the {placeholders} of a matrix path: with every value
// when all is set (one placeholder a path), else with the first.
func expand(path string, values map[string][]string, all bool) []string {
	m := placeholder.FindStringSubmatch(path)
	if m == nil {
		return []string{path}
	}
	vs := values[m[1]]
	if !all {
		vs = vs[:1]
	}
	var out []string
	for _, v := range vs {
		out = append(out, expand(strings.Replace(path, m[0], url.PathEscape(v), 1), values, all)...)
	}
	return out
}

var placeholder = regexp.MustCompile(`\{([a-z]+)\}`)
