package web

import (
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/deadline"
	"spotcheck/internal/valid"
	"spotcheck/web/view/page"
)

// cases is the case list with its filters in the URL.
func (s *Server) cases(c echo.Context) error {
	return s.caseList(c, http.StatusOK, c.QueryParams(), page.Bulk{})
}

// caseList renders the list filtered by query, with status; bulk is a
// refused bulk assignment to show again with its ticks.
func (s *Server) caseList(c echo.Context, status int, query url.Values, bulk page.Bulk) error {
	ctx := c.Request().Context()
	f, form, errs := s.caseFilter(c, query)
	f.Limit = 50
	rows, next, err := s.Cases.List(ctx, actorOf(c), f)
	if fe, ok := valid.As(err); ok { // a stale or forged cursor: start from the top
		for k, v := range fe {
			errs[k] = v
		}
		f.After = ""
		rows, next, err = s.Cases.List(ctx, actorOf(c), f)
	}
	if err != nil {
		return err
	}
	p := page.CasesPage{Filter: form, FilterErrors: errs, AllURL: withParam("/cases", query, "state", ""),
		ExportURL: withParam("/cases/export.csv", query, "", ""), Bulk: bulk}
	for _, r := range rows {
		p.Rows = append(p.Rows, caseRow(r))
	}
	if next != "" {
		p.NextURL = withParam("/cases", query, "after", next)
	}
	// The bulk assignment sits with the results, which htmx swaps alone.
	if p.CanAssign = authz.Can(actorOf(c), authz.AssignCase, authz.Subject{}); p.CanAssign {
		if p.Investigators, err = s.investigatorOptions(c); err != nil {
			return err
		}
		p.Back = withParam("/cases", query, "", "")
	}
	if isHTMX(c) {
		return s.render(c, status, page.CaseResults(p))
	}
	counts, err := s.Cases.Counts(ctx, f.BrandID) // the tabs keep the brand: they count its cases
	if err != nil {
		return err
	}
	me := actorOf(c).UserID
	mine, nobody, waiting, err := s.Cases.Queues(ctx, me)
	if err != nil {
		return err
	}
	p.Queues = []page.Queue{
		{Key: "cases.queue_mine", N: mine, More: mine >= casework.QueueCap, TestID: "queue-mine",
			URL: "/cases?investigator=" + strconv.FormatInt(me, 10) + "&open=1", Current: form.Open != "" && form.Investigator == strconv.FormatInt(me, 10)},
		{Key: "cases.queue_unassigned", N: nobody, More: nobody >= casework.QueueCap, TestID: "queue-unassigned",
			URL: "/cases?investigator=" + unassigned + "&open=1", Current: form.Open != "" && form.Investigator == unassigned},
		{Key: "cases.queue_waiting", N: waiting, More: waiting >= casework.QueueCap, TestID: "queue-waiting",
			URL: "/cases?waiting=" + waitingOnMe, Current: form.Waiting == waitingOnMe},
	}
	for _, st := range casework.States {
		p.Counts = append(p.Counts, page.StateCount{State: string(st), N: counts[st], URL: withParam("/cases", query, "state", string(st))})
		p.Total += counts[st]
	}
	if p.Brands, err = s.brandOptions(c, nil); err != nil {
		return err
	}
	p.Steps = strs(casework.DatedList)
	p.Reasons = strs(casework.ClosingReasons())
	p.Kinds = strs(deadline.Kinds)
	p.Parties = strs(deadline.Parties)
	if !p.CanAssign { // the filter names investigators too
		if p.Investigators, err = s.investigatorOptions(c); err != nil {
			return err
		}
	}
	return s.render(c, status, page.Cases(p))
}

// assignCases gives the cases ticked on the case list to one investigator
// (or to nobody), all of them or none, and returns to the list as it was;
// refused, it shows that list again with the ticks and the choice kept.
func (s *Server) assignCases(c echo.Context) error {
	back, backQuery := "/cases", url.Values{}
	if u, err := url.Parse(c.FormValue("back")); err == nil && u.Scheme == "" && u.Host == "" && u.Path == "/cases" {
		back, backQuery = u.RequestURI(), u.Query()
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad form")
	}
	ids := make([]int64, 0, len(form["case"]))
	for _, v := range form["case"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "bad case")
		}
		ids = append(ids, id)
	}
	inv, err := strconv.ParseInt(c.FormValue("investigator"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad investigator")
	}
	_, err = s.Cases.AssignMany(c.Request().Context(), actorOf(c), ids, inv)
	refused := page.Bulk{Ticked: map[string]bool{}, Investigator: c.FormValue("investigator")}
	for _, v := range form["case"] {
		refused.Ticked[v] = true
	}
	if fe, ok := valid.As(err); ok {
		for _, key := range fe {
			refused.Error = key
			return s.caseList(c, http.StatusUnprocessableEntity, backQuery, refused)
		}
	}
	if errors.Is(err, casework.ErrConflict) {
		refused.Error = "error.bulk_conflict"
		return s.caseList(c, http.StatusConflict, backQuery, refused)
	}
	if err != nil {
		return err
	}
	return s.redirect(c, back, "success", "cases.bulk_assigned")
}

func caseRow(r casework.Row) page.CaseRow {
	return page.CaseRow{ID: r.ID, Reference: r.Reference, State: string(r.State), CloseReason: string(r.CloseReason), RiskScore: r.RiskScore,
		BrandName: r.BrandName, ShopID: r.ShopID, ShopName: r.ShopName, Platform: r.Platform, Investigator: r.Investigator,
		OpenedAt: r.OpenedAt, UpdatedAt: r.UpdatedAt, Overdue: r.Overdue, Repeat: r.RepeatOffender}
}

func (s *Server) investigatorOptions(c echo.Context) ([]page.PersonOption, error) {
	us, err := s.Users.Investigators(c.Request().Context())
	out := make([]page.PersonOption, len(us))
	for i, u := range us {
		out[i] = page.PersonOption{ID: u.ID, Name: u.Name}
	}
	return out, err
}

// exportCases streams the filtered list as CSV, a page of rows at a time,
// so an export of any size holds little memory.
func (s *Server) exportCases(c echo.Context) error {
	f, _, errs := s.caseFilter(c, c.QueryParams())
	if len(errs) > 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "bad filter")
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="spotcheck-cases-`+s.Clock.Now().In(s.Config.Location).Format("20060102-150405")+`.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	w := newExcelCSV(c.Response())
	_ = w.Write([]string{"reference", "state", "close_reason", "brand", "shop", "platform", "risk_score", "investigator", "opened_at", "updated_at"})
	n := 0
	err := s.Cases.Each(c.Request().Context(), actorOf(c), f, func(r casework.Row) error {
		n++
		if err := w.Write([]string{r.Reference, string(r.State), string(r.CloseReason), csvSafe(r.BrandName), csvSafe(r.ShopName), csvSafe(r.Platform),
			strconv.FormatFloat(r.RiskScore, 'f', 3, 64), csvSafe(r.Investigator), r.OpenedAt.UTC().Format(time.RFC3339), r.UpdatedAt.UTC().Format(time.RFC3339)}); err != nil {
			return err
		}
		if n%1000 == 0 {
			w.Flush()
			c.Response().Flush()
		}
		return nil
	})
	w.Flush()
	if err != nil {
		s.Logger.ErrorContext(c.Request().Context(), "export stopped", "error", err.Error(), "rows", n)
	}
	return nil
}

// utf8BOM starts every CSV export: without it Excel reads the file in the
// system's code page (GBK on Chinese Windows) and shows Chinese as mojibake.
const utf8BOM = "\ufeff"

// newExcelCSV starts a CSV export that Excel opens as UTF-8.
func newExcelCSV(out io.Writer) *csv.Writer {
	_, _ = io.WriteString(out, utf8BOM)
	return csv.NewWriter(out)
}

// csvSafe keeps spreadsheet programs from running a cell as a formula.
func csvSafe(v string) string {
	if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r') {
		return "'" + v
	}
	return v
}

// strs is a list of named strings as strings, for a form's choices.
func strs[S ~string](xs []S) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}
