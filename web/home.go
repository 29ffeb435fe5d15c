package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"spotcheck/web/view/page"
)

// assignments is the volunteer home.
func (s *Server) assignments(c echo.Context) error {
	return s.render(c, http.StatusOK, page.Assignments())
}

// authentications is the brand home, for the brands the user acts for.
func (s *Server) authentications(c echo.Context) error {
	all, err := s.brandNames(c) // one query, not one per brand
	if err != nil {
		return err
	}
	var names []string
	for _, id := range actorOf(c).BrandIDs {
		names = append(names, all[id])
	}
	return s.render(c, http.StatusOK, page.Authentications(names))
}
