package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/clock"
	"spotcheck/internal/stats"
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
	p := page.IncomingPage{Brands: names, Queue: queue, Form: form,
		MaxUploadMB: s.Config.MaxUpload >> 20, Now: s.Clock.Now(), Overview: overview, Recovered: recovered}
	if err := s.brandFigures(c, &p); err != nil {
		return err
	}
	return s.render(c, status, page.Authentications(p))
}

// brandFigures are the brand home's figures over the six months ending
// with this one: the verdicts it signed (and how many found fakes), what
// raids seized and sellers paid, per month; its verdicts' turnaround
// from receipt over the 12 weeks; its steps past due now.
func (s *Server) brandFigures(c echo.Context, p *page.IncomingPage) error {
	ctx, actor, now := c.Request().Context(), actorOf(c), s.Clock.Now()
	today := clock.DateOf(now, s.Config.Location)
	months, end := lastMonths(today)
	for _, m := range months {
		p.Months = append(p.Months, m.String())
	}
	series, err := s.Stats.Brand(ctx, actor, months, end)
	if err != nil {
		return err
	}
	for _, m := range stats.BrandMetrics {
		fs := page.FlowSeries{Key: "dashboard." + string(m), Values: series[m], Money: m == stats.Seized || m == stats.Collected}
		if fs.Money {
			p.Recoveries = append(p.Recoveries, fs)
		} else {
			p.Judged = append(p.Judged, fs)
		}
	}
	for i := range months {
		p.Counterfeit += series[stats.Counterfeit][i]
		p.Verdicts += series[stats.Verdicts][i]
	}
	p.Figures, err = s.Deadlines.ForBrands(ctx, now, now.AddDate(0, 0, -7*dashboardWeeks), actor.BrandIDs)
	return err
}
