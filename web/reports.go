package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/clock"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/valid"
	"spotcheck/web/view/page"
)

// period reads ?from=&to= (calendar days, to inclusive); the default is
// this year in the platform's zone. The bounds are days as DATE columns
// hold them (the ledger sums dated rows). What is wrong is keyed by the
// field it belongs beside.
func (s *Server) period(c echo.Context) (from, to time.Time, errs valid.Errors) {
	year := clock.Today(s.Clock, s.Config.Location).Year
	from, to, errs = time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC), valid.Errors{}
	if v := c.QueryParam("from"); v != "" {
		from = valid.Date(errs, "from", v)
	}
	if v := c.QueryParam("to"); v != "" {
		to = valid.Date(errs, "to", v).AddDate(0, 0, 1)
	}
	if len(errs) == 0 && !to.After(from) {
		errs.Add("to", "error.period")
	}
	return from, to, errs
}

// recoveries is the staff's recoveries report: the ledger per brand over
// a period.
func (s *Server) recoveries(c echo.Context) error {
	from, to, errs := s.period(c)
	status := http.StatusOK
	var ls []enforcement.Ledger
	if len(errs) == 0 {
		var err error
		if ls, err = s.Enforcement.Ledgers(c.Request().Context(), from, to, nil); err != nil {
			return err
		}
	} else {
		status = http.StatusUnprocessableEntity
	}
	return s.render(c, status, page.Recoveries(page.RecoveriesPage{From: c.QueryParam("from"), To: c.QueryParam("to"),
		Start: from, End: to.AddDate(0, 0, -1), Ledgers: ls, Errors: errs, Query: c.QueryString()}))
}

// recoveriesCSV exports the same figures, amounts in yuan.
func (s *Server) recoveriesCSV(c echo.Context) error {
	from, to, errs := s.period(c)
	if len(errs) > 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "bad period")
	}
	ls, err := s.Enforcement.Ledgers(c.Request().Context(), from, to, nil)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="recoveries-%s-%s.csv"`,
		from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly)))
	c.Response().WriteHeader(http.StatusOK)
	w := newExcelCSV(c.Response())
	_ = w.Write([]string{"brand", "spend", "fees", "seized", "claimed", "awarded", "collected", "currency"})
	yuan := func(minor int64) string { return fmt.Sprintf("%d.%02d", minor/100, minor%100) }
	for _, l := range ls {
		_ = w.Write([]string{csvSafe(l.BrandName), yuan(l.Spend), yuan(l.Fees), yuan(l.Seized), yuan(l.Claimed), yuan(l.Awarded), yuan(l.Collected), "CNY"})
	}
	w.Flush()
	return w.Error()
}
