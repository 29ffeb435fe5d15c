package web_test

// Headless-browser tests: a real Chromium, driven over the DevTools
// protocol, types into the real server's pages. They pin down what only a
// browser shows: forms that submit, redirects that land, the language that
// sticks, layouts that fit a phone.
//
// Without Chromium these tests skip, unless SPOTCHECK_E2E=1 (CI), where a
// missing browser fails them. SPOTCHECK_CHROMIUM names another binary;
// SPOTCHECK_SHOTS=1 saves a screenshot for a human to look at.

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
)

const (
	// browserTestTimeout bounds one test's browser, start to finish: the
	// whole road, with the race detector on two busy cores, takes ~55 s.
	browserTestTimeout = 2 * time.Minute
	// stepTimeout bounds one step, so that a missing element fails in
	// seconds, not at the end of the test's budget.
	stepTimeout = 15 * time.Second
)

type viewport struct{ width, height int }

var (
	desktop = viewport{1280, 900}
	phone   = viewport{390, 844}
)

// chromiumPath is the browser to drive. When there is none the test skips,
// or fails when SPOTCHECK_E2E=1 says the browser tests must run.
func chromiumPath(t *testing.T) string {
	t.Helper()
	want := os.Getenv("SPOTCHECK_CHROMIUM")
	if want == "" {
		want = "/usr/bin/chromium"
	}
	path, err := exec.LookPath(want)
	if err == nil {
		return path
	}
	why := fmt.Sprintf("no Chromium at %s (%v); install it with `apt-get install -y --no-install-recommends chromium` "+
		"or set SPOTCHECK_CHROMIUM to its path", want, err)
	if os.Getenv("SPOTCHECK_E2E") == "1" {
		t.Fatalf("SPOTCHECK_E2E=1 but %s", why)
	}
	t.Skipf("skipping the browser test: %s (SPOTCHECK_E2E=1 makes this a failure)", why)
	return ""
}

// browser is one tab of a headless Chromium pointed at a test server.
type browser struct {
	t    *testing.T
	ctx  context.Context // the tab
	base string          // the server's URL
}

// newBrowser starts a Chromium of its own for t, with a fresh profile, and
// opens a tab. It comes first in a test so that a missing browser skips
// before any database is made.
func newBrowser(t *testing.T, vp viewport) *browser {
	t.Helper()
	exe := chromiumPath(t)
	profile := t.TempDir() // removed after the browser has exited (cleanups run last-in first-out)
	var out syncBuffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		// The pages must not depend on the machine's locale: the server
		// picks English from this Accept-Language.
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("accept-lang", "en-US,en"),
		chromedp.WindowSize(vp.width, vp.height),
		chromedp.CombinedOutput(&out),
	)
	timeout, cancelTimeout := context.WithTimeout(context.Background(), browserTestTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(timeout, opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Chromium's output:\n%s", chromiumLog(out.String()))
		}
		_ = chromedp.Cancel(ctx) // close it gracefully, so its profile can go
		cancelBrowser()
		cancelAlloc() // waits for the process to end
		cancelTimeout()
	})
	start := time.Now()
	// The first action starts the browser; its context must be the long
	// one, as the browser lives as long as it does.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v\n%s", exe, err, chromiumLog(out.String()))
	}
	t.Logf("Chromium started in %v", time.Since(start).Round(time.Millisecond))
	return &browser{t: t, ctx: ctx}
}

// chromiumLog is Chromium's output without the D-Bus complaints every
// container gets, its last lines only.
func chromiumLog(out string) string {
	var keep []string
	for line := range strings.Lines(out) {
		if !strings.Contains(line, "dbus") {
			keep = append(keep, line)
		}
	}
	if len(keep) > 40 {
		keep = keep[len(keep)-40:]
	}
	return strings.Join(keep, "")
}

// serve points the browser at a's server; when the test fails, the
// server's log is printed.
func (b *browser) serve(a *app) {
	b.base = a.srv.URL
	b.t.Cleanup(func() {
		if b.t.Failed() {
			b.t.Logf("server log:\n%s", a.logs.String())
		}
	})
}

// newTab opens a tab in a new, incognito-like browser context of the same
// browser: no cookies shared with any other tab.
func (b *browser) newTab(t *testing.T) *browser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // creates the tab, bound to ctx
		t.Fatalf("open a tab: %v", err)
	}
	return &browser{t: t, ctx: ctx, base: b.base}
}

// do runs steps, each within stepTimeout, and fails the test on an error.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that returns a value.
func get[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// open loads path and waits for its page.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// reload loads the current page again.
func (b *browser) reload() {
	b.t.Helper()
	b.do("reload", chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("body")))
}

// typeInto types s into the field sel, key by key, as a person would.
func (b *browser) typeInto(sel, s string) {
	b.t.Helper()
	b.do("type into "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), s))
}

// retype replaces what the field sel holds with s: its text selected, s
// typed over it.
func (b *browser) retype(sel, s string) {
	b.t.Helper()
	b.do("select the text of "+sel,
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Focus(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector(`+strconv.Quote(sel)+`).select()`),
		chromedp.SendKeys(chromedp.CSS(sel), s))
	if got := b.value(sel); got != s {
		b.t.Fatalf("%s holds %q after typing %q over it", sel, got, s)
	}
}

// choose picks the option with value v in the select sel, announcing the
// change as the browser does when a person picks it.
func (b *browser) choose(sel, v string) {
	b.t.Helper()
	b.do("choose "+v+" in "+sel,
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.SetValue(chromedp.CSS(sel), v),
		chromedp.Evaluate[chromedp.Void](`document.querySelector(`+strconv.Quote(sel)+`).dispatchEvent(new Event("change", {bubbles: true}))`),
	)
	if got := b.value(sel); got != v {
		b.t.Fatalf("%s has %q after choosing %q: no such option", sel, got, v)
	}
}

// submit clicks the button sel and waits until the page it leads to has
// loaded; it returns the HTTP response of that page.
func (b *browser) submit(sel string) *network.Response {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("click %s and wait for the next page: %v", sel, err)
	}
	if res == nil {
		b.t.Fatalf("click %s: no page was loaded", sel)
	}
	return res
}

// text is the visible text of the first element sel, once it is visible.
func (b *browser) text(sel string) string {
	b.t.Helper()
	b.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	return strings.TrimSpace(get(b, "read "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// value is the current value of the field sel.
func (b *browser) value(sel string) string {
	b.t.Helper()
	return get(b, "read the value of "+sel, chromedp.Value(chromedp.CSS(sel)))
}

// path is the path of the page the tab shows.
func (b *browser) path() string {
	b.t.Helper()
	loc := get(b, "read the location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatalf("location %q: %v", loc, err)
	}
	return u.Path
}

// lang is the page's html lang attribute.
func (b *browser) lang() string {
	b.t.Helper()
	return get(b, "read html lang", chromedp.Evaluate[string](`document.documentElement.getAttribute("lang") ?? ""`))
}

// signIn fills in and sends the sign-in form as a person would.
func (b *browser) signIn(email, password string) *network.Response {
	b.t.Helper()
	b.open("/login")
	b.typeInto("#f-email", email)
	b.typeInto("#f-password", password)
	return b.submit(`form[data-testid=login-form] button[type=submit]`)
}

// screenshot saves the viewport to file when SPOTCHECK_SHOTS=1.
func (b *browser) screenshot(file string) {
	b.t.Helper()
	if os.Getenv("SPOTCHECK_SHOTS") != "1" {
		return
	}
	png := get(b, "screenshot", chromedp.CaptureScreenshot())
	if err := os.WriteFile(file, png, 0o600); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot saved to %s", file)
}

const signOutButton = `form[action="/logout"] button[type=submit]`

func TestBrowserEachRoleSignsInAndLandsOnItsHome(t *testing.T) {
	b := newBrowser(t, desktop)
	a := newApp(t, dbtest.SQLite(t))
	b.serve(a)
	for _, tc := range []struct{ role, home, title string }{
		{"admin", "/admin/users", "Users"},
		{"staff", "/dashboard", "How the work is going"},
		{"volunteer", "/assignments", "My assignments"},
		{"brand", "/authentications", "Awaiting authentication"},
	} {
		t.Run(tc.role, func(t *testing.T) {
			tab := b.newTab(t)
			res := tab.signIn(tc.role+"@test.spotcheck.test", testPassword)
			if res.Status != 200 {
				t.Fatalf("the page after signing in answered %d", res.Status)
			}
			title := tab.text("[data-testid=home-title]")
			if p := tab.path(); p != tc.home {
				t.Fatalf("landed on %s, want %s", p, tc.home)
			}
			if title != tc.title {
				t.Fatalf("heading %q, want %q", title, tc.title)
			}
			if tab.lang() != "en" {
				t.Fatalf("html lang %q, want en", tab.lang())
			}
		})
	}
}

func TestBrowserSwitchesToChinese(t *testing.T) {
	chromiumPath(t) // before any database is made
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		b := newBrowser(t, desktop)
		a := newApp(t, db)
		b.serve(a)
		staff := a.accounts["staff"]

		b.signIn(staff.Email, testPassword)
		if got := b.text("[data-testid=home-title]"); got != "How the work is going" || b.lang() != "en" {
			t.Fatalf("before switching: heading %q, lang %q; want the dashboard in en", got, b.lang())
		}

		b.choose("#lang-select", "zh")
		res := b.submit(`form[data-testid=language-switch] button[type=submit]`)
		if res.Status != 200 {
			t.Fatalf("the page after switching answered %d", res.Status)
		}
		if p := b.path(); p != "/dashboard" {
			t.Fatalf("switching the language led to %s, want back to /dashboard", p)
		}
		assertChinese := func(when string) {
			t.Helper()
			if l := b.lang(); l != "zh-CN" {
				t.Fatalf("%s: html lang %q, want zh-CN", when, l)
			}
			if h := b.text("[data-testid=home-title]"); h != "工作概览" {
				t.Fatalf("%s: heading %q, want 工作概览", when, h)
			}
			if s := b.text(signOutButton); s != "退出登录" {
				t.Fatalf("%s: sign-out button %q, want 退出登录", when, s)
			}
			if v := b.value("#lang-select"); v != "zh" {
				t.Fatalf("%s: the switcher shows %q, want zh", when, v)
			}
		}
		assertChinese("after switching")
		b.screenshot("/tmp/spotcheck-shot-zh.png")

		b.reload()
		assertChinese("after reloading")

		if u, err := a.users.Get(context.Background(), staff.ID); err != nil || u.Locale != "zh" {
			t.Fatalf("the account's locale is %q (%v), want zh", u.Locale, err)
		}

		b.submit(signOutButton)
		if p := b.path(); p != "/login" {
			t.Fatalf("signing out led to %s, want /login", p)
		}
		b.signIn(staff.Email, testPassword)
		if p := b.path(); p != "/dashboard" {
			t.Fatalf("signing in again led to %s, want /dashboard", p)
		}
		assertChinese("after signing out and in again")
	})
}

func TestBrowserWrongPasswordKeepsTheEmail(t *testing.T) {
	b := newBrowser(t, desktop)
	a := newApp(t, dbtest.SQLite(t))
	b.serve(a)

	res := b.signIn("staff@test.spotcheck.test", "not the password")
	if res.Status != 401 {
		t.Fatalf("a wrong password answered %d, want 401", res.Status)
	}
	if msg := b.text("[data-testid=form-error]"); msg != "The e-mail address or password is not right." {
		t.Fatalf("error %q", msg)
	}
	if p := b.path(); p != "/login" {
		t.Fatalf("on %s after a wrong password, want /login", p)
	}
	if v := b.value("#f-email"); v != "staff@test.spotcheck.test" {
		t.Fatalf("the e-mail field holds %q, want what was typed", v)
	}
	if v := b.value("#f-password"); v != "" {
		t.Fatalf("the password field holds %q, want it empty", v)
	}
}

func TestBrowserAdminCreatesAUserAndTheFormKeepsInput(t *testing.T) {
	b := newBrowser(t, desktop)
	a := newApp(t, dbtest.SQLite(t))
	b.serve(a)
	const (
		form    = `form[data-testid=new-user-form]`
		submit  = form + ` button[type=submit]`
		name    = "Vera Volunteer"
		newMail = "vera@test.spotcheck.test"
		pw      = "long enough pw"
	)

	b.signIn("admin@test.spotcheck.test", testPassword)
	b.open("/admin/users/new")
	b.typeInto("#f-email", "staff@test.spotcheck.test") // taken
	b.typeInto("#f-name", name)
	b.choose("#f-role", "volunteer")
	b.typeInto("#f-password", pw)
	if res := b.submit(submit); res.Status != 422 {
		t.Fatalf("a taken e-mail answered %d, want 422", res.Status)
	}

	if msg := b.text("[data-testid=error-email]"); msg != "An account with this e-mail address exists already." {
		t.Fatalf("e-mail error %q", msg)
	}
	for sel, want := range map[string]string{"#f-email": "staff@test.spotcheck.test", "#f-name": name, "#f-role": "volunteer", "#f-password": ""} {
		if got := b.value(sel); got != want {
			t.Fatalf("after the error %s holds %q, want %q", sel, got, want)
		}
	}
	if inv := get(b, "read aria-invalid", chromedp.AttributeValue(chromedp.CSS("#f-email"), "aria-invalid")); inv.Value != "true" {
		t.Fatalf("the e-mail field is not marked invalid: %+v", inv)
	}

	b.retype("#f-email", newMail)
	b.typeInto("#f-password", pw) // never sent back, so typed again
	if res := b.submit(submit); res.Status != 200 {
		t.Fatalf("creating the user: the next page answered %d", res.Status)
	}

	m := regexp.MustCompile(`^/admin/users/(\d+)$`).FindStringSubmatch(b.path())
	if m == nil {
		t.Fatalf("landed on %s, want /admin/users/<id>", b.path())
	}
	if msg := b.text(".flash.success"); msg != "The user was created." {
		t.Fatalf("flash %q", msg)
	}
	if h := b.text("main h1"); h != name {
		t.Fatalf("user page heading %q, want %q", h, name)
	}
	u, err := a.users.ByEmail(context.Background(), newMail)
	if err != nil {
		t.Fatalf("the new user is not in the database: %v", err)
	}
	if strconv.FormatInt(u.ID, 10) != m[1] || u.Name != name || u.Role.String() != "volunteer" {
		t.Fatalf("stored %+v; the page was for user %s", u, m[1])
	}
}

// pageWidth is how wide the page lays out against the viewport.
type pageWidth struct {
	ScrollWidth int `json:"scrollWidth"`
	InnerWidth  int `json:"innerWidth"`
}

const measureWidth = `({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth})`

func TestBrowserLoginFitsAPhone(t *testing.T) {
	b := newBrowser(t, phone)
	a := newApp(t, dbtest.SQLite(t))
	b.serve(a)
	b.do("emulate a phone", chromedp.EmulateViewport(int64(phone.width), int64(phone.height), chromedp.EmulatePortrait, chromedp.EmulateMobile))

	fits := func(what string) {
		t.Helper()
		w := get(b, "measure "+what, chromedp.Evaluate[pageWidth](measureWidth))
		if w.InnerWidth != phone.width {
			t.Fatalf("%s: the viewport is %dpx wide, want %d (content wider than the phone zooms the page out)", what, w.InnerWidth, phone.width)
		}
		if w.ScrollWidth > w.InnerWidth {
			t.Fatalf("%s scrolls sideways on a phone: %dpx of content in a %dpx viewport", what, w.ScrollWidth, w.InnerWidth)
		}
	}

	b.open("/login")
	b.text("[data-testid=login-form] button[type=submit]")
	fits("the sign-in page")

	b.typeInto("#f-email", "volunteer@test.spotcheck.test")
	b.typeInto("#f-password", testPassword)
	b.submit(`form[data-testid=login-form] button[type=submit]`)
	if h := b.text("[data-testid=home-title]"); h != "My assignments" {
		t.Fatalf("volunteer home heading %q", h)
	}
	fits("the volunteer home")

	// The measure itself must see overflow: a too-wide block makes it fail.
	// (Styled from script: the page's CSP refuses inline style attributes.)
	b.do("add a too-wide block", chromedp.Evaluate[chromedp.Void](
		`{const d = document.createElement("div"); d.style.width = "1000px"; d.style.height = "1px"; document.querySelector("main").append(d)}`))
	if w := get(b, "measure again", chromedp.Evaluate[pageWidth](measureWidth)); w.InnerWidth == phone.width && w.ScrollWidth <= w.InnerWidth {
		t.Fatalf("a 1000px block went unnoticed: %+v", w)
	}
}
