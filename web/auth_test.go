package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"spotcheck/internal/audit"
	"spotcheck/internal/config"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
)

func TestEachRoleLandsOnItsHome(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		homes := map[string]string{"admin": "/admin/users", "staff": "/dashboard", "volunteer": "/assignments", "brand": "/authentications"}
		for r, home := range homes {
			c := a.client()
			res := c.signIn(r+"@test.spotcheck.test", testPassword)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != home {
				t.Fatalf("%s: %d → %q, want %s", r, res.StatusCode, res.Header.Get("Location"), home)
			}
			page := c.get(home)
			if page.StatusCode != 200 || page.doc(t).Find("[data-testid=home-title]").Length() != 1 {
				t.Fatalf("%s home: %d", r, page.StatusCode)
			}
			if c.get("/").Header.Get("Location") != home {
				t.Fatalf("%s: / does not lead home", r)
			}
		}
	})
}

func TestWrongPasswordAndUnknownEmailLookTheSame(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	c := a.client()
	wrong := c.signIn("Staff@Test.Spotcheck.Test", "not the password")
	unknown := c.signIn("nobody@test.spotcheck.test", "not the password")
	if wrong.StatusCode != http.StatusUnauthorized || unknown.StatusCode != http.StatusUnauthorized {
		t.Fatalf("statuses %d / %d, want 401", wrong.StatusCode, unknown.StatusCode)
	}
	msg := func(r response) string { return r.doc(t).Find("[data-testid=form-error]").Text() }
	if msg(wrong) == "" || msg(wrong) != msg(unknown) {
		t.Fatalf("messages differ: %q / %q", msg(wrong), msg(unknown))
	}
	// The form keeps the e-mail typed and never echoes the password.
	d := wrong.doc(t)
	if v, _ := d.Find("#f-email").Attr("value"); v != "Staff@Test.Spotcheck.Test" {
		t.Fatalf("e-mail kept as %q", v)
	}
	if v, _ := d.Find("#f-password").Attr("value"); v != "" || strings.Contains(wrong.body, "not the password") {
		t.Fatal("the password came back in the page")
	}
	if ac, _ := d.Find("#f-password").Attr("autocomplete"); ac != "current-password" {
		t.Fatalf("password autocomplete = %q", ac)
	}
	if ac, _ := d.Find("#f-email").Attr("autocomplete"); ac != "username" {
		t.Fatalf("email autocomplete = %q", ac)
	}
}

func TestSignInRenewsTheSessionTokenAndSetsSafeCookies(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	c := a.client()
	c.post("/language", url.Values{"lang": {"en"}}) // an anonymous session exists now
	before := c.cookie("spotcheck_session")
	if before == nil {
		t.Fatal("no anonymous session cookie")
	}
	res := c.signIn("staff@test.spotcheck.test", testPassword)
	var set *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "spotcheck_session" {
			set = ck
		}
	}
	if set == nil || set.Value == before.Value {
		t.Fatal("the session token was not renewed at sign-in")
	}
	if !set.HttpOnly || set.SameSite != http.SameSiteLaxMode || set.Path != "/" {
		t.Fatalf("cookie = %+v", set)
	}
	// The old token is worthless.
	old := a.client()
	old.http.Jar.SetCookies(mustURL(a.srv.URL), []*http.Cookie{{Name: "spotcheck_session", Value: before.Value}}) // #nosec G124 -- the test replays the server's own session cookie value from a client jar; the server sets the real cookie's attributes
	if old.get("/cases").StatusCode != http.StatusSeeOther {
		t.Fatal("the pre-sign-in token still works")
	}
}

func TestSecureCookiesOverHTTPS(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), func(c *config.Config) { c.BaseURL = mustURL("https://spotcheck.example") })
	c := a.client()
	res := c.get("/login")
	csrf := findCookie(res.Cookies(), "__Host-spotcheck_csrf")
	if csrf == nil || !csrf.Secure || csrf.Path != "/" || csrf.Domain != "" {
		t.Fatalf("csrf cookie = %+v", csrf)
	}
	token := csrf.Value
	res = c.postRaw("/login", url.Values{"_csrf": {token}, "email": {"staff@test.spotcheck.test"}, "password": {testPassword}},
		http.Header{"Cookie": {"__Host-spotcheck_csrf=" + token}})
	sess := findCookie(res.Cookies(), "__Host-spotcheck_session")
	if res.StatusCode != http.StatusSeeOther || sess == nil || !sess.Secure || !sess.HttpOnly || sess.Path != "/" {
		t.Fatalf("%d, session cookie = %+v", res.StatusCode, sess)
	}
	if !strings.Contains(res.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatal("no HSTS over HTTPS")
	}
}

func TestLogoutEndsTheSessionOnTheServer(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	c := a.as("staff")
	token := c.cookie("spotcheck_session").Value
	if res := c.post("/logout", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	replay := a.client()
	replay.http.Jar.SetCookies(mustURL(a.srv.URL), []*http.Cookie{{Name: "spotcheck_session", Value: token}}) // #nosec G124 -- the test replays the server's own session cookie value from a client jar; the server sets the real cookie's attributes
	if res := replay.get("/cases"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("replayed token after logout: %d", res.StatusCode)
	}
}

func TestDisablingAUserEndsAllTheirSessionsAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		phone, laptop := a.as("volunteer"), a.as("volunteer")
		admin := a.as("admin")
		id := a.accounts["volunteer"].ID
		if res := admin.post("/admin/users/"+itoa(id)+"/disable", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable: %d", res.StatusCode)
		}
		for name, c := range map[string]*client{"phone": phone, "laptop": laptop} {
			if res := c.get("/assignments"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
				t.Fatalf("%s after disable: %d %s", name, res.StatusCode, res.Header.Get("Location"))
			}
		}
		if res := a.client().signIn("volunteer@test.spotcheck.test", testPassword); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("disabled user signed in: %d", res.StatusCode)
		}
		var n int64
		if err := db.Gorm.Model(&audit.Event{}).Where("action = 'user.disable' AND actor_id = ?", a.accounts["admin"].ID).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("%d audited disables by the admin", n)
		}
	})
}

func TestChangingOwnPasswordKeepsThisSessionAndEndsOthers(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	here, there := a.as("staff"), a.as("staff")
	res := here.post("/account/password", url.Values{"current": {testPassword}, "password": {"一个很长的新密码"}, "confirm": {"一个很长的新密码"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d %.300s", res.StatusCode, res.body)
	}
	page := here.get("/account/password")
	if page.StatusCode != 200 || page.doc(t).Find(".flash.success").Length() != 1 {
		t.Fatalf("this session after the change: %d", page.StatusCode)
	}
	if there.get("/cases").StatusCode != http.StatusSeeOther {
		t.Fatal("the other session survived the password change")
	}
	if a.client().signIn("staff@test.spotcheck.test", "一个很长的新密码").StatusCode != http.StatusSeeOther {
		t.Fatal("the new Chinese password does not sign in")
	}
}

func TestPasswordFormShowsErrorsNextToFields(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	c := a.as("staff")
	res := c.post("/account/password", url.Values{"current": {testPassword}, "password": {"short"}, "confirm": {"short"}})
	if res.StatusCode != http.StatusUnprocessableEntity || res.doc(t).Find("[data-testid=error-password]").Length() != 1 {
		t.Fatalf("short: %d", res.StatusCode)
	}
	res = c.post("/account/password", url.Values{"current": {testPassword}, "password": {"long enough 1"}, "confirm": {"long enough 2"}})
	if res.doc(t).Find("[data-testid=error-confirm]").Length() != 1 {
		t.Fatal("mismatch not shown at the confirm field")
	}
	res = c.post("/account/password", url.Values{"current": {"wrong"}, "password": {"long enough 1"}, "confirm": {"long enough 1"}})
	if res.doc(t).Find("[data-testid=error-current]").Length() != 1 {
		t.Fatal("wrong current password not shown at its field")
	}
}

func TestIdleSessionsExpire(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), func(c *config.Config) { c.SessionIdle = time.Second })
	c := a.as("staff")
	if c.get("/cases").StatusCode != 200 {
		t.Fatal("fresh session refused")
	}
	time.Sleep(1500 * time.Millisecond)
	if res := c.get("/cases"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("idle session still works: %d", res.StatusCode)
	}
}

func TestSignInRedirectsOnlyToLocalPaths(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	for next, want := range map[string]string{
		"/admin/users/new":      "/admin/users/new",
		"https://evil.example/": "/admin/users",
		"//evil.example/x":      "/admin/users",
		"/\\evil.example":       "/admin/users",
	} {
		c := a.client()
		res := c.post("/login", url.Values{"email": {"admin@test.spotcheck.test"}, "password": {testPassword}, "next": {next}})
		if got := res.Header.Get("Location"); got != want {
			t.Errorf("next=%q → %q, want %q", next, got, want)
		}
	}
	// An anonymous visitor is sent to sign in and then back.
	c := a.client()
	if loc := c.get("/admin/users/new").Header.Get("Location"); loc != "/login?next=%2Fadmin%2Fusers%2Fnew" {
		t.Fatalf("anonymous → %q", loc)
	}
}

func TestLanguageFollowsBrowserThenChoiceThenAccount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		c := a.client()
		c.header.Set("Accept-Language", "zh-CN,zh;q=0.9")
		d := c.get("/login").doc(t)
		if lang, _ := d.Find("html").Attr("lang"); lang != "zh-CN" || !strings.Contains(d.Find("h1").Text(), "登录") {
			t.Fatalf("Chinese browser: lang=%q h1=%q", lang, d.Find("h1").Text())
		}
		c.post("/language", url.Values{"lang": {"en"}, "next": {"/login"}})
		if h1 := c.get("/login").doc(t).Find("h1").Text(); h1 != "Sign in" {
			t.Fatalf("after choosing English: %q", h1)
		}
		// A signed-in user's choice is kept on the account.
		s := a.as("staff")
		if res := s.post("/language", url.Values{"lang": {"zh"}, "next": {"/cases"}}); res.Header.Get("Location") != "/cases" {
			t.Fatalf("switcher redirect: %q", res.Header.Get("Location"))
		}
		later := a.as("staff")
		if h := later.get("/cases").doc(t).Find("[data-testid=home-title]").Text(); h != "案件" {
			t.Fatalf("new session of a Chinese user: %q", h)
		}
		if res := s.post("/language", url.Values{"lang": {"fr"}}); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("unknown language: %d", res.StatusCode)
		}
	})
}

func TestAdminCreatesUsersAndBrandsKeepingInputOnErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		c := a.as("admin")
		res := c.post("/admin/users", url.Values{"email": {"staff@test.spotcheck.test"}, "name": {"Wei Zhang"}, "role": {"brand"}, "password": {"long enough"}})
		d := res.doc(t)
		if res.StatusCode != http.StatusUnprocessableEntity || d.Find("[data-testid=error-email]").Length() != 1 || d.Find("[data-testid=error-brands]").Length() != 1 {
			t.Fatalf("duplicate e-mail, brand user without brand: %d", res.StatusCode)
		}
		if v, _ := d.Find("#f-name").Attr("value"); v != "Wei Zhang" {
			t.Fatalf("name not kept: %q", v)
		}
		if v, _ := d.Find("#f-role option[selected]").Attr("value"); v != "brand" {
			t.Fatalf("role not kept: %q", v)
		}
		res = c.post("/admin/users", url.Values{"email": {"wei@test.spotcheck.test"}, "name": {"Wei Zhang"}, "role": {"brand"},
			"password": {"long enough"}, "brand": {itoa(a.brand.ID), itoa(a.other.ID)}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: %d %.300s", res.StatusCode, res.body)
		}
		page := c.get(res.Header.Get("Location"))
		if !strings.Contains(page.body, "Aurora Timepieces") || !strings.Contains(page.body, "Other Brand") {
			t.Fatal("the new user's brands are not shown")
		}
		if a.client().signIn("wei@test.spotcheck.test", "long enough").Header.Get("Location") != "/authentications" {
			t.Fatal("the new brand user cannot sign in")
		}
		res = c.post("/admin/brands", url.Values{"name": {"aurora timepieces"}, "rights_holder": {"Someone"}})
		d = res.doc(t)
		if res.StatusCode != http.StatusUnprocessableEntity || d.Find("[data-testid=error-name]").Length() != 1 {
			t.Fatalf("duplicate brand: %d", res.StatusCode)
		}
		if v, _ := d.Find("#f-rights_holder").Attr("value"); v != "Someone" {
			t.Fatalf("rights holder not kept: %q", v)
		}
	})
}

func TestAdminCannotDisableThemselves(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	c := a.as("admin")
	c.post("/admin/users/"+itoa(a.accounts["admin"].ID)+"/disable", nil)
	if c.get("/admin/users").StatusCode != 200 {
		t.Fatal("the admin locked themselves out")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func findCookie(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestChangingARoleEndsTheUsersSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		staff, admin := a.as("staff"), a.as("admin")
		id := itoa(a.accounts["staff"].ID)
		res := admin.post("/admin/users/"+id+"/role", url.Values{"role": {"brand"}})
		if res.StatusCode != http.StatusUnprocessableEntity || res.doc(t).Find("[data-testid=error-role]").Length() != 1 {
			t.Fatalf("brand role without brand: %d", res.StatusCode)
		}
		if res := admin.post("/admin/users/"+id+"/role", url.Values{"role": {"brand"}, "brand": {itoa(a.other.ID)}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("change: %d", res.StatusCode)
		}
		if staff.get("/cases").StatusCode != http.StatusSeeOther {
			t.Fatal("the old staff session survived the role change")
		}
		again := a.client()
		if loc := again.signIn("staff@test.spotcheck.test", testPassword).Header.Get("Location"); loc != "/authentications" {
			t.Fatalf("after the change the user lands on %q", loc)
		}
		if !strings.Contains(again.get("/authentications").body, "Other Brand") {
			t.Fatal("the new brand is not shown")
		}
		if res := admin.post("/admin/users/"+itoa(a.accounts["admin"].ID)+"/role", url.Values{"role": {"staff"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("own role: %d", res.StatusCode)
		}
		if admin.get("/admin/users").StatusCode != http.StatusOK {
			t.Fatal("the admin demoted themselves")
		}
	})
}

// TestReadingPagesRewritesTheSessionOnlyNowAndThen: the idle clock is
// kept without a database write on every page view.
func TestReadingPagesRewritesTheSessionOnlyNowAndThen(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), func(c *config.Config) { c.SessionIdle = 2 * time.Second }) // rewritten after idle/8 = 250 ms
	c := a.as("staff")
	stored := func() string {
		var data []byte
		if err := a.db.Gorm.Raw("SELECT data FROM sessions WHERE token = ?", c.cookie("spotcheck_session").Value).Row().Scan(&data); err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	before := stored()
	for range 3 {
		if c.get("/cases").StatusCode != 200 {
			t.Fatal("page refused")
		}
	}
	if stored() != before {
		t.Fatal("reading pages rewrote the session at once")
	}
	time.Sleep(400 * time.Millisecond)
	c.get("/cases")
	if stored() == before {
		t.Fatal("the idle clock was never written back")
	}
}
