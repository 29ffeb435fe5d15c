package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/authz"
	"spotcheck/internal/user"
	"spotcheck/web/view/page"
)

// root sends each visitor to their home screen.
func (s *Server) root(c echo.Context) error {
	a := actorOf(c)
	if !a.SignedIn() {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return c.Redirect(http.StatusSeeOther, authz.Home(a))
}

func (s *Server) loginForm(c echo.Context) error {
	if a := actorOf(c); a.SignedIn() {
		return c.Redirect(http.StatusSeeOther, authz.Home(a))
	}
	return s.render(c, http.StatusOK, page.Login(page.LoginForm{Next: localPath(c.QueryParam("next"), "")}))
}

// login signs in: one answer for every kind of bad credentials, 429 with
// Retry-After when throttled, a new session token on success.
func (s *Server) login(c echo.Context) error {
	ctx := c.Request().Context()
	form := page.LoginForm{Email: c.FormValue("email"), Next: localPath(c.FormValue("next"), "")}
	u, err := s.Users.SignIn(ctx, form.Email, c.FormValue("password"), c.RealIP())
	var te *user.ThrottledError
	switch {
	case errors.As(err, &te):
		form.Error = "error.throttled"
		c.Response().Header().Set("Retry-After", retryAfter(te))
		return s.render(c, http.StatusTooManyRequests, page.Login(form))
	case errors.Is(err, user.ErrBadCredentials):
		form.Error = "login.failed"
		return s.render(c, http.StatusUnauthorized, page.Login(form))
	case err != nil:
		return err
	}
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, sessUserID, u.ID)
	s.sessions.Put(ctx, sessVersion, u.SessionVersion)
	s.sessions.Put(ctx, sessSeen, s.Clock.Now().UnixMilli())
	return c.Redirect(http.StatusSeeOther, localPath(form.Next, authz.Home(u.Actor())))
}

// logout ends the session on the server, not just in the browser.
func (s *Server) logout(c echo.Context) error {
	ctx := c.Request().Context()
	if err := s.sessions.Destroy(ctx); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}

// setLanguage stores the chosen language: on the account when signed in,
// in the session otherwise.
func (s *Server) setLanguage(c echo.Context) error {
	ctx := c.Request().Context()
	lang := c.FormValue("lang")
	if _, ok := parseLang(lang); !ok {
		return echo.NewHTTPError(http.StatusBadRequest, "unknown language")
	}
	s.sessions.Put(ctx, sessLang, lang)
	if u := currentUser(c); u != nil {
		if err := s.Users.SetLocale(ctx, u.ID, lang); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, localPath(c.FormValue("next"), "/"))
}
