package web

import (
	"net/http"

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
	items, err := s.Purchases.Incoming(ctx, actor)
	if err != nil {
		return err
	}
	var views []page.ItemView
	for _, it := range items {
		ch, _, err := s.Purchases.ChainOf(ctx, it.PurchaseID)
		if err != nil {
			return err
		}
		views = append(views, page.ItemView{Item: it, Lines: s.custodyLines(c, ch), CanAccept: it.PendingKind != nil})
	}
	return s.render(c, status, page.Authentications(page.IncomingPage{Brands: names, Items: views, Form: form,
		MaxUploadMB: s.Config.MaxUpload >> 20}))
}
