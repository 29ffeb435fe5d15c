package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/valid"
	"spotcheck/web/view/page"
)

func (s *Server) passwordForm(c echo.Context) error {
	return s.render(c, http.StatusOK, page.ChangePassword(page.PasswordForm{}))
}

// changePassword lets a user change their own password. Their other
// sessions end; this one is renewed and carries on.
func (s *Server) changePassword(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	if c.FormValue("password") != c.FormValue("confirm") {
		return s.render(c, http.StatusUnprocessableEntity, page.ChangePassword(page.PasswordForm{
			Errors: map[string]string{"confirm": "error.password_confirm"}}))
	}
	updated, err := s.Users.ChangePassword(ctx, u.ID, c.FormValue("current"), c.FormValue("password"))
	if errs, ok := valid.As(err); ok {
		return s.render(c, http.StatusUnprocessableEntity, page.ChangePassword(page.PasswordForm{Errors: errs}))
	}
	if err != nil {
		return err
	}
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, sessVersion, updated.SessionVersion)
	return s.redirect(c, "/account/password", "success", "password.changed")
}
