// Package web is Spotcheck's HTTP face: the one route index, middleware,
// thin handlers (parse, ask the policy, call one use case, render) and the
// central error handler. Views live in web/view.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"spotcheck/internal/brand"
	"spotcheck/internal/bundle"
	"spotcheck/internal/casework"
	"spotcheck/internal/clock"
	"spotcheck/internal/config"
	"spotcheck/internal/deadline"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/evidence"
	"spotcheck/internal/flag"
	"spotcheck/internal/job"
	"spotcheck/internal/network"
	"spotcheck/internal/notify"
	"spotcheck/internal/purchase"
	"spotcheck/internal/sharing"
	"spotcheck/internal/shop"
	"spotcheck/internal/stats"
	"spotcheck/internal/token"
	"spotcheck/internal/user"
	"spotcheck/internal/verdict"
)

// Deps is everything the web tier uses, built once in cmd/spotcheck.
type Deps struct {
	Config config.Config
	// SessionStore holds the sessions; it must be shared by every
	// replica (the database's store in production).
	SessionStore scs.Store
	// Ready reports whether this process can serve (the database answers).
	Ready func(context.Context) error
	// Clock is the program's one clock (the database handle's); nil is clock.Real.
	Clock clock.Clock

	Users   *user.Service
	Brands  *brand.Service
	Cases   *casework.Service
	Flags   *flag.Service
	Shops   *shop.Service
	Tokens  *token.Service
	Jobs    *job.Queue
	Logger  *slog.Logger
	Metrics *prometheus.Registry

	Purchases     *purchase.Service
	Evidence      *evidence.Store
	Notifications *notify.Service
	Verdicts      *verdict.Service
	Enforcement   *enforcement.Service
	Sharing       *sharing.Service
	Bundles       *bundle.Service
	Deadlines     *deadline.Service
	Stats         *stats.Reader
	Network       *network.Service
}

// Server holds the handlers' dependencies.
type Server struct {
	Deps
	sessions *scs.SessionManager
	metrics  *httpMetrics
}

// New builds the Echo instance with every route and middleware.
func New(d Deps) *echo.Echo {
	if d.Metrics == nil {
		d.Metrics = prometheus.NewRegistry()
	}
	if d.Clock == nil {
		d.Clock = clock.Real
	}
	if d.SessionStore == nil || d.Ready == nil {
		panic("web: Deps.SessionStore and Deps.Ready are required")
	}
	s := &Server{Deps: d, sessions: newSessions(d.Config, d.SessionStore), metrics: newHTTPMetrics(d.Metrics)}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = ipExtractor(d.Config)
	e.HTTPErrorHandler = s.handleError
	s.routes(e)
	return e
}

// HTTPServer wraps e with the timeouts every public listener needs.
func HTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // evidence uploads from phones on slow networks
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// newSessions is the session manager over the shared store.
func newSessions(c config.Config, store scs.Store) *scs.SessionManager {
	sm := scs.New()
	sm.Store = store
	sm.Lifetime = c.SessionLifetime // the idle timeout is kept by loadActor
	sm.Cookie.Name = "spotcheck_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Path = "/"
	if c.SecureCookies() {
		sm.Cookie.Name = "__Host-spotcheck_session"
		sm.Cookie.Secure = true
	}
	return sm
}
