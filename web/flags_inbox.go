package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/flag"
	"spotcheck/internal/valid"
	"spotcheck/web/view/page"
)

// inbox is the triage inbox of unattached flags, highest score first.
func (s *Server) inbox(c echo.Context) error {
	return s.renderInbox(c, http.StatusOK, c.QueryParams(), nil, "", "", nil)
}

func (s *Server) renderInbox(c echo.Context, status int, query url.Values, errs map[string]string, reason, caseRef string, selected []int64) error {
	ctx := c.Request().Context()
	req := c.Request().Clone(ctx)
	req.URL.RawQuery = query.Encode()
	c.SetRequest(req)
	f, form, ferrs := s.inboxFilter(c)
	rows, next, err := s.Flags.Inbox(ctx, f)
	if fe, ok := valid.As(err); ok {
		for k, v := range fe {
			ferrs[k] = v
		}
		f.After = ""
		rows, next, err = s.Flags.Inbox(ctx, f)
	}
	if err != nil {
		return err
	}
	brands, err := s.brandOptions(c, nil)
	if err != nil {
		return err
	}
	sources, err := s.Flags.Sources(ctx)
	if err != nil {
		return err
	}
	p := page.InboxPage{Filter: form, Brands: brands, Sources: sources, Errors: errs, Reason: reason, CaseRef: caseRef, Selected: selected}
	for _, r := range rows {
		p.Flags = append(p.Flags, inboxFlag(r))
	}
	if next != "" {
		p.NextURL = withParam("/flags", query, "after", next)
	}
	if isHTMX(c) && c.Request().Method == http.MethodGet {
		return s.render(c, status, page.InboxResults(p))
	}
	return s.render(c, status, page.Inbox(p))
}

func inboxFlag(r flag.InboxRow) page.InboxFlag {
	return page.InboxFlag{ID: r.ID, Source: r.Source, ExternalID: r.ExternalID, Rule: r.Rule, Score: r.Score, DetectedAt: r.DetectedAt,
		BrandName: r.BrandName, ShopID: r.ShopID, ShopName: r.ShopName, Platform: r.Platform, ListingTitle: r.ListingTitle, ListingURL: r.ListingURL,
		RepeatOf: r.RepeatOf}
}

// triageOpenCase opens a case (or joins the open one) for each shop and
// brand among the selected flags.
func (s *Server) triageOpenCase(c echo.Context) error {
	if err := c.Request().ParseForm(); err != nil {
		return echo.ErrBadRequest
	}
	ids := splitIDs(c.Request().Form["flag"])
	cases, err := s.Flags.OpenCases(c.Request().Context(), actorOf(c), ids)
	if err != nil {
		return s.triageFailed(c, err, ids)
	}
	if len(cases) == 1 {
		return s.redirect(c, "/cases/"+cases[0].Reference, "success", "inbox.case_opened")
	}
	return s.redirect(c, "/flags", "success", "inbox.cases_opened")
}

func (s *Server) triageAttach(c echo.Context) error {
	if err := c.Request().ParseForm(); err != nil {
		return echo.ErrBadRequest
	}
	ids := splitIDs(c.Request().Form["flag"])
	cs, err := s.Flags.Attach(c.Request().Context(), actorOf(c), ids, c.FormValue("case"))
	if err != nil {
		return s.triageFailed(c, err, ids)
	}
	return s.redirect(c, "/cases/"+cs.Reference, "success", "inbox.attached")
}

func (s *Server) triageDismiss(c echo.Context) error {
	if err := c.Request().ParseForm(); err != nil {
		return echo.ErrBadRequest
	}
	ids := splitIDs(c.Request().Form["flag"])
	if err := s.Flags.Dismiss(c.Request().Context(), actorOf(c), ids, c.FormValue("reason")); err != nil {
		return s.triageFailed(c, err, ids)
	}
	return s.redirect(c, "/flags", "success", "inbox.dismissed")
}

// triageFailed shows the inbox again with the problem next to its field
// and the selection and typed text kept.
func (s *Server) triageFailed(c echo.Context, err error, ids []int64) error {
	status, errs, err := refusal(err)
	if err != nil {
		return err
	}
	referer, _ := url.Parse(c.Request().Header.Get("Referer"))
	query := url.Values{}
	if referer != nil && referer.Path == "/flags" {
		query = referer.Query()
	}
	return s.renderInbox(c, status, query, errs, c.FormValue("reason"), c.FormValue("case"), ids)
}
