package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
)

// loadSession is scs's LoadAndSave written for Echo, so that a session the
// database cannot load is an error of the request, answered by the one
// error mapping (503 while the database cannot serve), not scs's bare 500;
// and so that the session store is asked with the request's context, which
// ends at the request's deadline.
//
// The session is saved just before the response's header is written
// (after the handler, error pages included). Should that save fail, the
// answer becomes 503 with Retry-After: a sign-in whose session was not
// stored must not look like a success.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Add("Vary", "Cookie")
		var token string
		if ck, err := c.Cookie(s.sessions.Cookie.Name); err == nil {
			token = ck.Value
		}
		ctx, err := s.sessions.Load(c.Request().Context(), token)
		if err != nil {
			return fmt.Errorf("load session: %w", err)
		}
		c.SetRequest(c.Request().WithContext(ctx))
		saved := false
		save := func() error {
			saved = true
			return s.saveSession(c.Response(), c.Request())
		}
		c.Response().Before(func() {
			if err := save(); err != nil {
				s.Logger.ErrorContext(c.Request().Context(), "saving the session failed",
					"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "error", err.Error())
				h := c.Response().Header()
				h.Del("Location")
				h.Del("Set-Cookie")
				h.Set("Retry-After", strconv.Itoa(retryUnavailable))
				c.Response().Status = http.StatusServiceUnavailable
			}
		})
		err = next(c)
		if err == nil && !saved && !c.Response().Committed {
			return save()
		}
		return err
	}
}

// saveSession stores a changed session and sets its cookie, or clears the
// cookie of a destroyed one.
func (s *Server) saveSession(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	switch s.sessions.Status(ctx) {
	case scs.Modified:
		token, expiry, err := s.sessions.Commit(ctx)
		if err != nil {
			return fmt.Errorf("save session: %w", err)
		}
		s.sessions.WriteSessionCookie(ctx, w, token, expiry)
	case scs.Destroyed:
		s.sessions.WriteSessionCookie(ctx, w, "", time.Time{})
	}
	return nil
}
