package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/casework"
	"spotcheck/internal/deadline"
	"spotcheck/internal/sharing"
	"spotcheck/web/view/page"
)

// brandCases is the brand's case history: every case of its brands that
// reached it, filtered by state and by reference or shop, newest first.
func (s *Server) brandCases(c echo.Context) error {
	f := sharing.CaseFilter{Query: c.QueryParam("q")}
	if st, err := casework.ParseState(c.QueryParam("state")); err == nil {
		f.State = st
	}
	f.Before, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	rows, more, err := s.Sharing.BrandCases(c.Request().Context(), actorOf(c), f)
	if err != nil {
		return err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	ds, err := s.Deadlines.Next(c.Request().Context(), actorOf(c), ids)
	if err != nil {
		return err
	}
	p := page.BrandCasesPage{Rows: rows, Filter: f, Due: s.firstDue(ds, func(d deadline.Deadline) int64 { return d.CaseID })}
	if more {
		p.Next = rows[len(rows)-1].ID
	}
	return s.render(c, http.StatusOK, page.BrandCases(p))
}
