package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/database"
	"spotcheck/internal/user"
	"spotcheck/web/view/page"
)

// handleError is the one place errors become HTTP responses: typed and
// sentinel errors map to a status; the user sees a translated page with the
// request id, the log gets the detail.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if errors.Is(c.Request().Context().Err(), context.Canceled) {
		// The client went away (closed the tab, lost the network): nobody
		// to answer, and nothing went wrong here.
		c.Response().Status = statusClientClosed
		return
	}
	status, key := classify(err)
	var te *user.ThrottledError
	if errors.As(err, &te) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(te.RetryAfter.Seconds()+0.999)))
	}
	if status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", strconv.Itoa(retryUnavailable))
	}
	if status >= 500 {
		s.Logger.ErrorContext(c.Request().Context(), "request failed",
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "error", err.Error())
	} else if s.Logger.Enabled(c.Request().Context(), slog.LevelDebug) {
		s.Logger.DebugContext(c.Request().Context(), "request refused", "status", status, "error", err.Error())
	}
	if strings.HasPrefix(c.Request().URL.Path, "/api/") || strings.Contains(c.Request().Header.Get("Accept"), "application/json") && !strings.Contains(c.Request().Header.Get("Accept"), "text/html") {
		_ = c.JSON(status, map[string]string{"error": http.StatusText(status), "code": strings.TrimPrefix(key, "error.")})
		return
	}
	if err := s.render(c, status, page.Error(status, key)); err != nil {
		s.Logger.Error("rendering the error page failed", "error", err.Error())
		if !c.Response().Committed {
			_ = c.String(status, http.StatusText(status))
		}
	}
}

// retryUnavailable is the Retry-After, in seconds, of an answer given while
// the database cannot serve: a restart or a failover takes a few seconds.
const retryUnavailable = 5

// classify is the error page side of the mapping: the areas' refusals by
// the one table, then Echo's own errors.
func classify(err error) (int, string) {
	var he *echo.HTTPError
	var te *user.ThrottledError
	if errors.As(err, &te) {
		return http.StatusTooManyRequests, "error.throttled"
	}
	if status, key, _, ok := refusalOf(err); ok {
		return status, key
	}
	if database.Unavailable(err) {
		return http.StatusServiceUnavailable, "error.unavailable"
	}
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			return http.StatusNotFound, "error.not_found"
		case http.StatusForbidden:
			if he.Message == "csrf" {
				return http.StatusForbidden, "error.csrf"
			}
			return http.StatusForbidden, "error.forbidden"
		case http.StatusRequestEntityTooLarge:
			return he.Code, "error.too_large"
		case http.StatusBadRequest, http.StatusUnsupportedMediaType:
			return he.Code, "error.bad_request"
		case http.StatusTooManyRequests:
			return he.Code, "error.throttled"
		}
		if he.Code < 500 {
			return he.Code, "error.bad_request"
		}
	}
	return http.StatusInternalServerError, "error.internal"
}
