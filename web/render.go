package web

import (
	"bytes"
	"context"
	"encoding/gob"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"spotcheck/web/view"
)

func init() { gob.Register([]string{}) }

// render writes a templ component as the response, taking this request's
// flash messages into the shell. It is the one way pages are rendered.
// The page is rendered into a buffer first and only then written, status
// and headers included, so a failure half-way gives the error page.
func (s *Server) render(c echo.Context, status int, cmp templ.Component) error {
	ctx := c.Request().Context()
	sh := view.ShellFrom(ctx)
	if c.Get(ctxSession) == true { // routes outside the app group have no session
		sh.Flashes = s.popFlashes(ctx)
		// Past the request's deadline (the error page of a request that
		// timed out) the count is left out rather than asked of a
		// database that did not answer in time.
		if sh.User != nil && s.Notifications != nil && ctx.Err() == nil {
			n, err := s.Notifications.Unread(ctx, sh.User.ID)
			if err != nil {
				return err
			}
			sh.Unread = n
		}
		ctx = view.WithShell(ctx, sh)
	}
	if ctx.Err() != nil {
		// Past the deadline (the error page of a request that timed out):
		// templ refuses to render on an ended context, and rendering asks
		// nothing of the database.
		ctx = context.WithoutCancel(ctx)
	}
	buf := buffers.Get().(*bytes.Buffer)
	defer putBuffer(buf)
	buf.Reset()
	if err := cmp.Render(ctx, buf); err != nil {
		return err // nothing written yet: the error page answers
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// buffers holds the render buffers between requests.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBuffer returns buf to the pool unless one big page made it too large
// to keep around.
func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= 1<<20 {
		buffers.Put(buf)
	}
}

// redirect is the "get" of post/redirect/get, with an optional flash.
func (s *Server) redirect(c echo.Context, to, flashKind, flashKey string) error {
	if flashKey != "" {
		s.flash(c.Request().Context(), flashKind, flashKey)
	}
	if isHTMX(c) {
		// htmx follows HX-Redirect with location.href = to, which only
		// scrolls when to is this very page with a #fragment: ask for a
		// reload of the page instead.
		if samePage(c.Request().Header.Get("HX-Current-URL"), to) {
			c.Response().Header().Set("HX-Refresh", "true")
		} else {
			c.Response().Header().Set("HX-Redirect", to)
		}
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// samePage reports whether target (a local path, maybe with a #fragment)
// names the page at current (the browser's URL) with only a fragment added.
func samePage(current, target string) bool {
	path, _, hasFragment := strings.Cut(target, "#")
	u, err := url.Parse(current)
	return hasFragment && err == nil && current != "" && u.RequestURI() == path
}
