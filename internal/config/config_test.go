package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsNeedNoSetUp(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Postgres() || c.SQLitePath() != "data/spotcheck.db" || c.Addr != ":8080" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.SessionIdle != 30*time.Minute || c.SessionLifetime != 12*time.Hour || c.LoginMaxFails != 5 || c.LoginWindow != 15*time.Minute {
		t.Fatalf("session/throttle defaults: %+v", c)
	}
	if c.SecureCookies() || len(c.TrustedProxies) != 0 || c.MetricsToken != "" || c.Location.String() != "Asia/Shanghai" {
		t.Fatalf("security defaults: %+v", c)
	}
}

func TestEveryBadValueIsReportedByName(t *testing.T) {
	_, err := Load(env(map[string]string{
		"DATABASE_URL":                 "mysql://root@localhost/x",
		"SPOTCHECK_BASE_URL":           "ftp://x",
		"SPOTCHECK_TRUSTED_PROXIES":    "10.0.0.0/8, not-an-ip",
		"SPOTCHECK_SESSION_IDLE":       "13h",
		"SPOTCHECK_LOGIN_MAX_FAILURES": "-1",
		"SPOTCHECK_LOGIN_WINDOW":       "soon",
		"SPOTCHECK_LOG_FORMAT":         "xml",
		"SPOTCHECK_DEMO_PASSWORD":      "short",
		"SPOTCHECK_METRICS_TOKEN":      "tiny",
		"SPOTCHECK_TIMEZONE":           "Mars/Olympus",
	}))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, name := range []string{"DATABASE_URL", "SPOTCHECK_BASE_URL", "not-an-ip", "SPOTCHECK_SESSION_IDLE",
		"SPOTCHECK_LOGIN_MAX_FAILURES", "SPOTCHECK_LOGIN_WINDOW", "SPOTCHECK_LOG_FORMAT", "SPOTCHECK_DEMO_PASSWORD",
		"SPOTCHECK_METRICS_TOKEN", "SPOTCHECK_TIMEZONE"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%s not named in: %v", name, err)
		}
	}
}

func TestHTTPSBaseURLTurnsOnSecureCookiesAndProxiesParse(t *testing.T) {
	c, err := Load(env(map[string]string{
		"SPOTCHECK_BASE_URL":        "https://spotcheck.example",
		"SPOTCHECK_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7, 2001:db8::1",
		"DATABASE_URL":              "postgresql://u@db/spotcheck",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.SecureCookies() || !c.Postgres() || len(c.TrustedProxies) != 3 {
		t.Fatalf("%+v", c)
	}
	if got := c.TrustedProxies[1].String(); got != "192.0.2.7/32" {
		t.Errorf("single IPv4 = %s", got)
	}
	if got := c.TrustedProxies[2].String(); got != "2001:db8::1/128" {
		t.Errorf("single IPv6 = %s", got)
	}
}
