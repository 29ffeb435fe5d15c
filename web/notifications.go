package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"spotcheck/web/view/page"
)

// notifications lists the user's own notifications, newest first.
func (s *Server) notifications(c echo.Context) error {
	ns, err := s.Notifications.List(c.Request().Context(), actorOf(c).UserID, 200)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page.Notifications(ns))
}

// readNotifications marks all of the user's notifications read, or opens
// one (id): marked read, then on to where it points. Another user's id is
// not found.
func (s *Server) readNotifications(c echo.Context) error {
	ctx := c.Request().Context()
	id, _ := strconv.ParseInt(c.FormValue("id"), 10, 64)
	if id == 0 {
		if err := s.Notifications.MarkRead(ctx, actorOf(c).UserID, 0); err != nil {
			return err
		}
		return s.redirect(c, "/notifications", "", "")
	}
	n, err := s.Notifications.Open(ctx, actorOf(c).UserID, id)
	if err != nil {
		return err
	}
	return s.redirect(c, n.Link, "", "")
}
