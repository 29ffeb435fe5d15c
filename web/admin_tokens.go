package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/valid"
	"spotcheck/web/view/page"
)

func (s *Server) adminTokens(c echo.Context) error {
	return s.renderTokens(c, http.StatusOK, page.TokensPage{})
}

func (s *Server) renderTokens(c echo.Context, status int, p page.TokensPage) error {
	ts, err := s.Tokens.List(c.Request().Context())
	if err != nil {
		return err
	}
	for _, t := range ts {
		p.Rows = append(p.Rows, page.TokenRow{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt})
	}
	return s.render(c, status, page.Tokens(p))
}

// adminCreateToken shows the new secret once, in this response only; it
// is never stored or put in a flash message.
func (s *Server) adminCreateToken(c echo.Context) error {
	name := c.FormValue("name")
	secret, t, err := s.Tokens.Create(c.Request().Context(), actorOf(c).UserID, name)
	if fe, ok := valid.As(err); ok {
		return s.renderTokens(c, http.StatusUnprocessableEntity, page.TokensPage{Name: name, NameError: fe["name"]})
	}
	if err != nil {
		return err
	}
	return s.renderTokens(c, http.StatusCreated, page.TokensPage{NewSecret: secret, NewName: t.Name})
}

func (s *Server) adminRevokeToken(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	if err := s.Tokens.Revoke(c.Request().Context(), id); err != nil {
		return err
	}
	return s.redirect(c, "/admin/tokens", "success", "tokens.revoked_done")
}
