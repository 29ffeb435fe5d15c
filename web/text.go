package web

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/valid"
)

// plainQuery and plainForm refuse a request whose query, or whose form
// (a plain form; an upload's fields are checked as they are read), holds a
// control character or bytes that are not UTF-8: the one gate for text
// from a browser, so that none reaches a database that fails on it
// (SQLite's "unterminated string" on NUL) or stores it garbled. The query
// is checked first thing; the form only once the request has passed every
// gate, since reading it means reading the body.
func plainQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := plainValues("query", c.QueryParams()); err != nil {
			return err
		}
		return next(c)
	}
}

func plainForm(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEApplicationForm) {
			form, err := c.FormParams()
			if err != nil {
				return err
			}
			if err := plainValues("form", form); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// plainValues checks every name and value of vs.
func plainValues(where string, vs url.Values) error {
	for k, v := range vs {
		if !valid.Plain(k) {
			return fmt.Errorf("%s field name: %w", where, valid.ErrControl)
		}
		for _, s := range v {
			if !valid.Plain(s) {
				return fmt.Errorf("%s field %q: %w", where, k, valid.ErrControl)
			}
		}
	}
	return nil
}
