package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// headAsGet answers HEAD like GET (RFC 9110 §9.3.2): the request is routed
// and handled as a GET, and whatever body the handler writes is dropped,
// so status and headers are those GET would give.
func headAsGet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method != http.MethodHead {
			return next(c)
		}
		c.Request().Method = http.MethodGet
		c.Response().Writer = headWriter{c.Response().Writer}
		return next(c)
	}
}

// headWriter keeps a response's status and headers and drops its body.
type headWriter struct{ http.ResponseWriter }

func (w headWriter) Write(p []byte) (int, error) { return len(p), nil }

// Unwrap lets http.ResponseController reach the connection's writer.
func (w headWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
