package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"spotcheck/internal/config"
	"spotcheck/internal/database/dbtest"
	"spotcheck/static"
)

var nonceRE = regexp.MustCompile(`script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'`)

// TestSecurityHeadersOnEveryKindOfResponse covers pages, redirects, error
// pages, static files and probes, signed in and not.
func TestSecurityHeadersOnEveryKindOfResponse(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	anon, staff := a.as("anonymous"), a.as("staff")
	cases := []struct {
		name    string
		c       *client
		path    string
		status  int
		noStore bool
	}{
		{"sign-in page", anon, "/login", 200, false},
		{"signed-in page", staff, "/cases", 200, true},
		{"forbidden page", staff, "/admin/users", 403, true},
		{"not found page", staff, "/nope", 404, false},
		{"anonymous not found", anon, "/nope", 404, false},
		{"redirect", anon, "/cases", 303, false},
		{"static file", anon, static.Path("css/app.css"), 200, false},
		{"health probe", anon, "/healthz", 200, false},
		{"metrics refused", anon, "/metrics", 404, false},
	}
	nonces := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.c.get(tc.path)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			h := res.Header
			csp := h.Get("Content-Security-Policy")
			m := nonceRE.FindStringSubmatch(csp)
			if m == nil || !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "object-src 'none'") {
				t.Fatalf("CSP = %q", csp)
			}
			if nonces[m[1]] {
				t.Fatalf("nonce %s used twice", m[1])
			}
			nonces[m[1]] = true
			for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"} {
				if h.Get(k) != want {
					t.Errorf("%s = %q, want %q", k, h.Get(k), want)
				}
			}
			if tc.noStore && h.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", h.Get("Cache-Control"))
			}
			if h.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
}

func TestErrorPageShowsTheRequestID(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	res := a.as("staff").get("/no/such/thing")
	id := res.Header.Get("X-Request-Id")
	got := strings.TrimSpace(res.doc(t).Find("[data-testid=request-id]").Text())
	if id == "" || got != id {
		t.Fatalf("page request id %q, header %q", got, id)
	}
}

func TestStaticFilesAreCacheBusted(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	c := a.client()
	res := c.get(static.Path("js/htmx-2.0.11.min.js"))
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("current: %d %q %q", res.StatusCode, res.Header.Get("Cache-Control"), res.Header.Get("Content-Type"))
	}
	old := c.get("/static/000000000000/js/htmx-2.0.11.min.js")
	if old.StatusCode != 200 || old.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("stale hash: %d %q", old.StatusCode, old.Header.Get("Cache-Control"))
	}
	if c.get("/static/x/../../go.mod").StatusCode != 404 || c.get("/static/abc/embed.go").StatusCode != 404 {
		t.Fatal("a file outside the embedded assets was served")
	}
}

func TestMetricsNeedTheToken(t *testing.T) {
	const token = "metrics-token-for-tests" // #nosec G101 -- a test metrics token
	a := newApp(t, dbtest.SQLite(t), func(c *config.Config) { c.MetricsToken = token })
	c := a.as("admin") // even an admin session is not enough: scrapers use the token
	if res := c.get("/metrics"); res.StatusCode != 404 {
		t.Fatalf("without token: %d", res.StatusCode)
	}
	req, _ := http.NewRequest("GET", a.srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	if res := c.do(req); res.StatusCode != 404 {
		t.Fatalf("wrong token: %d", res.StatusCode)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res := c.do(req)
	if res.StatusCode != 200 || !strings.Contains(res.body, "spotcheck_http_requests_total") {
		t.Fatalf("with token: %d %.200s", res.StatusCode, res.body)
	}
}

func TestReadyzReportsTheDatabase(t *testing.T) {
	db := dbtest.SQLite(t)
	a := newApp(t, db)
	c := a.client()
	if res := c.get("/readyz"); res.StatusCode != 200 {
		t.Fatalf("ready: %d", res.StatusCode)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if res := c.get("/readyz"); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("database closed: %d, want 503", res.StatusCode)
	}
	if res := c.get("/healthz"); res.StatusCode != 200 {
		t.Fatalf("healthz with database closed: %d", res.StatusCode)
	}
}

func TestBodiesAreLimited(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	c := a.as("admin")
	big := url.Values{"name": {strings.Repeat("x", 3<<20)}}
	if res := c.post("/admin/brands", big); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("3 MiB form: %d, want 413", res.StatusCode)
	}
}

// TestThrottleIgnoresForwardedForFromUntrustedClients: rotating
// X-Forwarded-For must not buy a client fresh attempts. Past the
// per-address limit (ten times the per-account one; five across accounts
// used to lock the address, which let one person lock out an office) a
// wrong password is answered 429, while the right one still signs in.
func TestThrottleIgnoresForwardedForFromUntrustedClients(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), func(c *config.Config) { c.LoginMaxFails = 5; c.LoginWindow = 15 * time.Minute })
	c := a.client()
	for i := range 50 {
		res := c.postRaw("/login", url.Values{"_csrf": {c.csrfToken()}, "email": {"u" + strconv.Itoa(i) + "@x.test"}, "password": {"wrong pass"}},
			http.Header{"X-Forwarded-For": {"203.0.113." + strconv.Itoa(i)}})
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, res.StatusCode)
		}
	}
	res := c.postRaw("/login", url.Values{"_csrf": {c.csrfToken()}, "email": {"brand@test.spotcheck.test"}, "password": {"wrong pass"}},
		http.Header{"X-Forwarded-For": {"198.51.100.77"}})
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("51st failure from the same address: %d, want 429", res.StatusCode)
	}
	ra, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || ra <= 0 || ra > 15*60 {
		t.Fatalf("Retry-After = %q", res.Header.Get("Retry-After"))
	}
	if msg := res.doc(t).Find("[data-testid=form-error]").Text(); !strings.Contains(msg, "Too many") {
		t.Fatalf("message = %q", msg)
	}
	res = c.postRaw("/login", url.Values{"_csrf": {c.csrfToken()}, "email": {"staff@test.spotcheck.test"}, "password": {testPassword}},
		http.Header{"X-Forwarded-For": {"198.51.100.78"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the right password from the throttled address: %d, want a sign-in", res.StatusCode)
	}
}

// TestThrottleUsesForwardedForFromTrustedProxies: behind a configured
// proxy, each real client is counted on its own, and the account limit
// still holds whatever the address.
func TestThrottleUsesForwardedForFromTrustedProxies(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), func(c *config.Config) {
		c.LoginMaxFails = 5
		cfg, err := config.Load(func(k string) string {
			if k == "SPOTCHECK_TRUSTED_PROXIES" {
				return "127.0.0.1"
			}
			return ""
		})
		if err != nil {
			t.Fatal(err)
		}
		c.TrustedProxies = cfg.TrustedProxies
	})
	c := a.client()
	for i := range 5 {
		c.postRaw("/login", url.Values{"_csrf": {c.csrfToken()}, "email": {"u" + strconv.Itoa(i) + "@x.test"}, "password": {"wrong pass"}},
			http.Header{"X-Forwarded-For": {"203.0.113.10"}})
	}
	res := c.postRaw("/login", url.Values{"_csrf": {c.csrfToken()}, "email": {"staff@test.spotcheck.test"}, "password": {testPassword}},
		http.Header{"X-Forwarded-For": {"198.51.100.20"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("another client behind the proxy: %d, want a sign-in", res.StatusCode)
	}
	for i := range 5 {
		c.postRaw("/login", url.Values{"_csrf": {c.csrfToken()}, "email": {"admin@test.spotcheck.test"}, "password": {"wrong pass"}},
			http.Header{"X-Forwarded-For": {"192.0.2." + strconv.Itoa(i+1)}})
	}
	res = c.postRaw("/login", url.Values{"_csrf": {c.csrfToken()}, "email": {"admin@test.spotcheck.test"}, "password": {testPassword}},
		http.Header{"X-Forwarded-For": {"192.0.2.99"}})
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("account after 5 failures from 5 addresses: %d, want 429", res.StatusCode)
	}
}

// TestLogsNeverHoldSecrets signs in, changes a password and fails a
// sign-in, then searches everything the server logged for the secrets.
func TestLogsNeverHoldSecrets(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	c := a.as("staff")
	c.post("/account/password", url.Values{"current": {testPassword}, "password": {"brand new secret 9"}, "confirm": {"brand new secret 9"}})
	a.client().signIn("staff@test.spotcheck.test", "a wrong secret 7")
	c.get("/nope")
	logs := a.logs.String()
	if !strings.Contains(logs, `"request_id"`) || !strings.Contains(logs, `"status":404`) {
		t.Fatalf("expected request lines in the log:\n%.500s", logs)
	}
	secrets := []string{testPassword, "brand new secret 9", "a wrong secret 7", c.cookie("spotcheck_session").Value, c.csrfToken()}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log contains the secret %q", s)
		}
	}
}
