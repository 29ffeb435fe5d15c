package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"spotcheck/web/view/page"
)

// authentications is the brand home: items on their way to, or held by,
// the brands the user acts for, with the acceptance form for those still
// in transit.
func (s *Server) authentications(c echo.Context) error {
	return s.renderIncoming(c, http.StatusOK, page.StepForm{})
}

func (s *Server) renderIncoming(c echo.Context, status int, form page.StepForm) error {
	ctx := c.Request().Context()
	actor := actorOf(c)
	all, err := s.brandNames(c) // one query, not one per brand
	if err != nil {
		return err
	}
	var names []string
	for _, id := range actor.BrandIDs {
		names = append(names, all[id])
	}
	queue, err := s.Purchases.Queue(ctx, actor)
	if err != nil {
		return err
	}
	overview, err := s.Verdicts.Overview(ctx, actor)
	if err != nil {
		return err
	}
	// All time; the brand sees what was seized and recovered, not what the
	// platform spent.
	recovered, err := s.Enforcement.Ledgers(ctx, time.Time{}, s.Clock.Now().AddDate(1, 0, 0), actor.BrandIDs)
	if err != nil {
		return err
	}
	return s.render(c, status, page.Authentications(page.IncomingPage{Brands: names, Queue: queue, Form: form,
		MaxUploadMB: s.Config.MaxUpload >> 20, Now: s.Clock.Now(), Overview: overview, Recovered: recovered}))
}
