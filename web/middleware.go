package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/config"
	"spotcheck/internal/i18n"
	"spotcheck/internal/user"
	"spotcheck/web/view"
)

// Session keys.
const (
	sessUserID  = "user_id"
	sessVersion = "session_version"
	sessLang    = "lang"
	sessSeen    = "seen_ms" // last request, for the idle timeout
	sessFlash   = "flash"
)

// Context keys for values handlers read back.
const (
	ctxUser    = "spotcheck.user"
	ctxSession = "spotcheck.session" // true once the session is loaded
)

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ipExtractor trusts X-Forwarded-For only from the configured proxy ranges;
// with none configured it uses the connection's address. Echo's default
// would believe any client's X-Forwarded-For.
func ipExtractor(c config.Config) echo.IPExtractor {
	if len(c.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range c.TrustedProxies {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// securityHeaders sets the headers every response carries, error pages
// included, and a fresh CSP nonce that templ stamps on its scripts.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		nonceBytes := make([]byte, 16)
		_, _ = rand.Read(nonceBytes)
		nonce := base64.StdEncoding.EncodeToString(nonceBytes)
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-"+nonce+"'; "+
			"style-src 'self' 'nonce-"+nonce+"'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "+
			"form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
		if s.Config.SecureCookies() {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		r := c.Request()
		c.SetRequest(r.WithContext(templ.WithNonce(r.Context(), nonce)))
		return next(c)
	}
}

// logRequests writes one structured line per request, with its id, and
// feeds the HTTP metrics. It never logs bodies, cookies or query strings
// (which could hold tokens).
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		route := c.Path()
		s.metrics.observe(c.Request().Method, route, status, time.Since(start))
		level := slogLevel(status)
		s.Logger.Log(c.Request().Context(), level, "request",
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
			"method", c.Request().Method, "route", route, "path", c.Request().URL.Path,
			"status", status, "duration_ms", time.Since(start).Milliseconds(),
			"client_ip", c.RealIP(), "user_id", actorOf(c).UserID)
		return nil
	}
}

// loadActor turns the session into the signed-in user, ending the session
// when the account was disabled or its session version moved on (password
// reset, disable). It also settles the language and the audit origin.
func (s *Server) loadActor(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		c.Set(ctxSession, true)
		var u *user.User
		if id := s.sessions.GetInt64(ctx, sessUserID); id != 0 {
			got, err := s.Users.Get(ctx, id)
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil:
				return err
			case got.Disabled() || got.SessionVersion != s.sessions.GetInt(ctx, sessVersion):
			case !s.stillActive(ctx):
			default:
				u = &got
			}
			if u == nil {
				if err := s.sessions.Destroy(ctx); err != nil {
					return err
				}
			}
		}
		lang := s.language(c, u)
		o := audit.Origin{ClientIP: c.RealIP(), RequestID: c.Response().Header().Get(echo.HeaderXRequestID), ActorRole: "anonymous"}
		sh := view.Shell{Lang: lang, Path: c.Request().URL.Path, RequestID: o.RequestID, Location: s.Config.Location}
		if u != nil {
			c.Set(ctxUser, u)
			o.ActorID, o.ActorRole = u.ID, u.Role.String()
			sh.User = &view.ShellUser{ID: u.ID, Name: u.Name, Role: u.Role, Home: authz.Home(u.Actor())}
		}
		ctx = audit.WithOrigin(i18n.With(ctx, lang), o)
		ctx = view.WithShell(ctx, sh)
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// stillActive applies the idle timeout. The time of the last request is
// kept in the session but written back at most every few minutes, so that
// reading a page does not cost a database write (scs's own idle timeout
// rewrites the session on every request).
func (s *Server) stillActive(ctx context.Context) bool {
	now := s.Clock.Now()
	seen := time.UnixMilli(s.sessions.GetInt64(ctx, sessSeen))
	idle := s.Config.SessionIdle
	if now.Sub(seen) > idle {
		return false
	}
	if now.Sub(seen) > min(idle/8, 5*time.Minute) {
		s.sessions.Put(ctx, sessSeen, now.UnixMilli())
	}
	return true
}

// language: the user's setting, else the session's choice, else the
// browser's Accept-Language.
func (s *Server) language(c echo.Context, u *user.User) i18n.Lang {
	if u != nil {
		if l, ok := i18n.Parse(u.Locale); ok {
			return l
		}
	}
	if l, ok := i18n.Parse(s.sessions.GetString(c.Request().Context(), sessLang)); ok {
		return l
	}
	return i18n.Match(c.Request().Header.Get("Accept-Language"))
}

// csrf refuses state-changing requests that carry neither a valid token
// (header X-CSRF-Token or form field _csrf) nor a same-origin
// Sec-Fetch-Site from a modern browser. It comes in two steps so that no
// body is read before the request is known to be allowed: check, on the
// whole app, settles everything the headers can; checkForm, which
// routeGroup puts after every guard of a state-changing route, reads the
// form's token when only the form can hold it. The token reaches the views
// through the shell.
func (s *Server) csrf() (check, checkForm echo.MiddlewareFunc) {
	name := "spotcheck_csrf"
	if s.Config.SecureCookies() {
		name = "__Host-spotcheck_csrf"
	}
	step := func(lookup string, skip middleware.Skipper) echo.MiddlewareFunc {
		mw := middleware.CSRFWithConfig(middleware.CSRFConfig{
			Skipper:        skip,
			TokenLookup:    lookup,
			CookieName:     name,
			CookiePath:     "/",
			CookieHTTPOnly: true,
			CookieSecure:   s.Config.SecureCookies(),
			CookieSameSite: http.SameSiteLaxMode,
			CookieMaxAge:   int((12 * time.Hour).Seconds()),
			ErrorHandler: func(err error, c echo.Context) error {
				return echo.NewHTTPError(http.StatusForbidden, "csrf").SetInternal(err)
			},
		})
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			return mw(func(c echo.Context) error {
				token, _ := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string)
				if ck, err := c.Cookie(name); token == "" && err == nil {
					token = ck.Value // the form's token is not checked yet; a refusal page still needs it
				}
				ctx := c.Request().Context()
				sh := view.ShellFrom(ctx)
				sh.CSRF = token
				c.SetRequest(c.Request().WithContext(view.WithShell(ctx, sh)))
				return next(c)
			})
		}
	}
	return step("header:X-CSRF-Token", tokenInForm), step("form:_csrf", func(c echo.Context) bool { return !tokenInForm(c) })
}

// tokenInForm: a state-changing request whose CSRF token can only be in
// its body: no token header, and no Sec-Fetch-Site that settles the matter
// (same-site falls back to the token, as in Echo's check).
func tokenInForm(c echo.Context) bool {
	r := c.Request()
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	if r.Header.Get("X-CSRF-Token") != "" {
		return false
	}
	site := r.Header.Get(echo.HeaderSecFetchSite)
	return site == "" || site == "same-site"
}

// requireSignIn sends anonymous visitors to the sign-in page, remembering
// where they were going.
func (s *Server) requireSignIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if actorOf(c).SignedIn() {
			return next(c)
		}
		if isHTMX(c) {
			c.Response().Header().Set("HX-Redirect", "/login")
			return c.NoContent(http.StatusUnauthorized)
		}
		target := "/login"
		if c.Request().Method == http.MethodGet {
			target += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
}

// require is the role gate on a route group: the policy decides, per
// action, with no particular object. Signed-in users without the right get
// 403.
func (s *Server) require(action authz.Action) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !authz.Can(actorOf(c), action, authz.Subject{}) {
				return echo.ErrForbidden
			}
			return next(c)
		}
	}
}

// actorOf is the signed-in user as the policy sees them.
func actorOf(c echo.Context) authz.Actor {
	if u := currentUser(c); u != nil {
		return u.Actor()
	}
	return authz.Anonymous
}

func currentUser(c echo.Context) *user.User {
	u, _ := c.Get(ctxUser).(*user.User)
	return u
}

func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// localPath accepts only paths on this site as redirect targets.
func localPath(p, fallback string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return fallback
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return fallback
	}
	return p
}

func (s *Server) flash(ctx context.Context, kind, key string) {
	fs, _ := s.sessions.Get(ctx, sessFlash).([]string)
	s.sessions.Put(ctx, sessFlash, append(fs, kind+"|"+key))
}

func (s *Server) popFlashes(ctx context.Context) []view.Flash {
	fs, _ := s.sessions.Pop(ctx, sessFlash).([]string)
	out := make([]view.Flash, 0, len(fs))
	for _, f := range fs {
		kind, key, _ := strings.Cut(f, "|")
		out = append(out, view.Flash{Kind: kind, Key: key})
	}
	return out
}
