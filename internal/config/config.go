// Package config reads Spotcheck's settings from the environment once, at
// start, and reports every bad value together.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of one Spotcheck process. It is built by Load and
// passed explicitly; nothing reads the environment after start.
type Config struct {
	Addr            string        // SPOTCHECK_ADDR
	DataDir         string        // SPOTCHECK_DATA
	DatabaseURL     string        // DATABASE_URL; empty means embedded SQLite in DataDir
	BaseURL         *url.URL      // SPOTCHECK_BASE_URL; https turns on secure cookies
	TrustedProxies  []*net.IPNet  // SPOTCHECK_TRUSTED_PROXIES
	SessionIdle     time.Duration // SPOTCHECK_SESSION_IDLE
	SessionLifetime time.Duration // SPOTCHECK_SESSION_LIFETIME
	LoginMaxFails   int           // SPOTCHECK_LOGIN_MAX_FAILURES
	LoginWindow     time.Duration // SPOTCHECK_LOGIN_WINDOW
	ShutdownTimeout time.Duration // SPOTCHECK_SHUTDOWN_TIMEOUT
	RequestTimeout  time.Duration // SPOTCHECK_REQUEST_TIMEOUT: a request's deadline (uploads and imports get StreamTimeout)
	StreamTimeout   time.Duration // SPOTCHECK_STREAM_TIMEOUT: the deadline of an upload or an import from a slow phone
	// SPOTCHECK_DB_STATEMENT_TIMEOUT, _LOCK_TIMEOUT,
	// _IDLE_IN_TRANSACTION_TIMEOUT: the limits of the app's PostgreSQL
	// sessions.
	DBStatementTimeout, DBLockTimeout, DBIdleInTxTimeout time.Duration
	MetricsToken                                         string         // SPOTCHECK_METRICS_TOKEN; empty means /metrics is not served
	LogFormat                                            string         // SPOTCHECK_LOG_FORMAT: auto, json or text
	LogLevel                                             string         // SPOTCHECK_LOG_LEVEL: debug, info, warn, error
	DemoPassword                                         string         // SPOTCHECK_DEMO_PASSWORD
	MaxHashes                                            int            // SPOTCHECK_MAX_CONCURRENT_HASHES
	Location                                             *time.Location // SPOTCHECK_TIMEZONE: how times are shown
	AutoOpenScore                                        float64        // SPOTCHECK_AUTO_OPEN_SCORE: a flag this sure opens a case by itself
	BlobURL                                              string         // BLOB_URL: where evidence files go; empty means file:// in DataDir/evidence
	MaxUpload                                            int64          // SPOTCHECK_MAX_UPLOAD_MB: the size limit of one evidence file
	RotationWindow                                       time.Duration  // SPOTCHECK_ROTATION_DAYS: how long a buyer stays away from a shop network
	IdentifierKey                                        string         // SPOTCHECK_IDENTIFIER_KEY: base64 of the key shop identifiers are hashed with; empty means DataDir/identifier.key
	ImageHashDistance                                    int            // SPOTCHECK_IMAGE_HASH_DISTANCE: listing images this many bits apart or fewer match (at most 11)
	SMTPURL                                              string         // SPOTCHECK_SMTP_URL: smtp://user:password@host:587; empty means no e-mail
	MailFrom                                             string         // SPOTCHECK_MAIL_FROM
	// SPOTCHECK_THRESHOLD_SOLD, _UNSOLD, _COMBINED: the prosecution
	// thresholds (yuan) the enforcement figures are measured against.
	ThresholdSold, ThresholdUnsold, ThresholdCombined int
}

// SecureCookies reports whether the app is served over HTTPS, which makes
// cookies Secure and lets the session cookie take the __Host- prefix.
func (c Config) SecureCookies() bool {
	return c.BaseURL != nil && c.BaseURL.Scheme == "https"
}

// EvidenceURL is where evidence files are kept.
func (c Config) EvidenceURL() string {
	if c.BlobURL != "" {
		return c.BlobURL
	}
	abs, err := filepath.Abs(filepath.Join(c.DataDir, "evidence"))
	if err != nil {
		abs = filepath.Join(c.DataDir, "evidence")
	}
	return "file://" + filepath.ToSlash(abs)
}

// Postgres reports whether the configured database is PostgreSQL.
func (c Config) Postgres() bool { return c.DatabaseURL != "" }

// SQLitePath is the embedded database file used when DATABASE_URL is empty.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "spotcheck.db") }

// Load builds a Config from getenv (os.Getenv in production, a map in tests).
func Load(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		Addr:            p.str("SPOTCHECK_ADDR", ":8080"),
		DataDir:         p.str("SPOTCHECK_DATA", "./data"),
		DatabaseURL:     p.databaseURL("DATABASE_URL"),
		BaseURL:         p.baseURL("SPOTCHECK_BASE_URL"),
		TrustedProxies:  p.cidrs("SPOTCHECK_TRUSTED_PROXIES"),
		SessionIdle:     p.duration("SPOTCHECK_SESSION_IDLE", 30*time.Minute),
		SessionLifetime: p.duration("SPOTCHECK_SESSION_LIFETIME", 12*time.Hour),
		LoginMaxFails:   p.positiveInt("SPOTCHECK_LOGIN_MAX_FAILURES", 5),
		LoginWindow:     p.duration("SPOTCHECK_LOGIN_WINDOW", 15*time.Minute),
		ShutdownTimeout: p.duration("SPOTCHECK_SHUTDOWN_TIMEOUT", 25*time.Second),
		RequestTimeout:  p.duration("SPOTCHECK_REQUEST_TIMEOUT", 30*time.Second),
		StreamTimeout:   p.duration("SPOTCHECK_STREAM_TIMEOUT", 5*time.Minute),

		DBStatementTimeout: p.duration("SPOTCHECK_DB_STATEMENT_TIMEOUT", 30*time.Second),
		DBLockTimeout:      p.duration("SPOTCHECK_DB_LOCK_TIMEOUT", 10*time.Second),
		DBIdleInTxTimeout:  p.duration("SPOTCHECK_DB_IDLE_IN_TRANSACTION_TIMEOUT", time.Minute),
		MetricsToken:       p.str("SPOTCHECK_METRICS_TOKEN", ""),
		LogFormat:          p.oneOf("SPOTCHECK_LOG_FORMAT", "auto", "auto", "json", "text"),
		LogLevel:           p.oneOf("SPOTCHECK_LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		DemoPassword:       p.str("SPOTCHECK_DEMO_PASSWORD", ""),
		MaxHashes:          p.positiveInt("SPOTCHECK_MAX_CONCURRENT_HASHES", 4),
		Location:           p.location("SPOTCHECK_TIMEZONE", "Asia/Shanghai"),
		AutoOpenScore:      p.score("SPOTCHECK_AUTO_OPEN_SCORE", 0.8),
		BlobURL:            p.str("BLOB_URL", ""),
		MaxUpload:          int64(p.positiveInt("SPOTCHECK_MAX_UPLOAD_MB", 25)) << 20,
		RotationWindow:     time.Duration(p.positiveInt("SPOTCHECK_ROTATION_DAYS", 90)) * 24 * time.Hour,
		IdentifierKey:      p.str("SPOTCHECK_IDENTIFIER_KEY", ""),
		ImageHashDistance:  p.positiveInt("SPOTCHECK_IMAGE_HASH_DISTANCE", 6),
		SMTPURL:            p.str("SPOTCHECK_SMTP_URL", ""),
		MailFrom:           p.str("SPOTCHECK_MAIL_FROM", ""),

		ThresholdSold:     p.positiveInt("SPOTCHECK_THRESHOLD_SOLD", 50_000),
		ThresholdUnsold:   p.positiveInt("SPOTCHECK_THRESHOLD_UNSOLD", 150_000),
		ThresholdCombined: p.positiveInt("SPOTCHECK_THRESHOLD_COMBINED", 150_000),
	}
	if c.SMTPURL != "" && c.MailFrom == "" {
		p.fail("SPOTCHECK_MAIL_FROM", "is needed with SPOTCHECK_SMTP_URL")
	}
	if c.DemoPassword != "" && len([]rune(c.DemoPassword)) < 8 {
		p.fail("SPOTCHECK_DEMO_PASSWORD", "must be at least 8 characters")
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		p.fail("SPOTCHECK_METRICS_TOKEN", "must be at least 16 characters")
	}
	if c.ImageHashDistance > 11 { // network.MaxDistance: the bands' probes grow fast beyond
		p.fail("SPOTCHECK_IMAGE_HASH_DISTANCE", "must be at most 11 bits")
	}
	if c.SessionIdle > c.SessionLifetime {
		p.fail("SPOTCHECK_SESSION_IDLE", "must not be longer than SPOTCHECK_SESSION_LIFETIME")
	}
	return c, errors.Join(p.errs...)
}

type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(name, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		p.fail(name, "%q is not a positive duration such as 30m or 12h", v)
		return def
	}
	return d
}

func (p *parser) positiveInt(name string, def int) int {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		p.fail(name, "%q is not a positive whole number", v)
		return def
	}
	return n
}

func (p *parser) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(p.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
	return def
}

func (p *parser) databaseURL(name string) string {
	v := p.str(name, "")
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		p.fail(name, "must be a postgres:// URL (leave it unset for the embedded SQLite database)")
		return ""
	}
	return v
}

func (p *parser) baseURL(name string) *url.URL {
	v := p.str(name, "")
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail(name, "%q is not an http:// or https:// URL", v)
		return nil
	}
	return u
}

func (p *parser) cidrs(name string) []*net.IPNet {
	var out []*net.IPNet
	for _, s := range strings.Split(p.str(name, ""), ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			if ip := net.ParseIP(s); ip != nil && ip.To4() != nil {
				s += "/32"
			} else {
				s += "/128"
			}
		}
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			p.fail(name, "%q is not an IP address or CIDR range", s)
			continue
		}
		out = append(out, n)
	}
	return out
}

func (p *parser) location(name, def string) *time.Location {
	v := p.str(name, def)
	loc, err := time.LoadLocation(v)
	if err != nil {
		p.fail(name, "%q is not a time zone name such as Asia/Shanghai or UTC", v)
		return time.UTC
	}
	return loc
}

func (p *parser) score(name string, def float64) float64 {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		p.fail(name, "%q is not a score between 0 and 1", v)
		return def
	}
	return f
}
