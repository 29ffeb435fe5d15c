package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/flag"
	"spotcheck/internal/valid"
	"spotcheck/web/view/page"
)

// reportForm is the brand user's "report a suspect listing" form.
func (s *Server) reportForm(c echo.Context) error {
	return s.renderReport(c, http.StatusOK, page.ReportForm{})
}

func (s *Server) renderReport(c echo.Context, status int, f page.ReportForm) error {
	names, err := s.brandNames(c)
	if err != nil {
		return err
	}
	for _, id := range actorOf(c).BrandIDs {
		f.Brands = append(f.Brands, page.PersonOption{ID: id, Name: names[id]})
	}
	return s.render(c, status, page.ReportListing(f))
}

// reportListing turns the report into a flag with source brand, in the
// staff's inbox.
func (s *Server) reportListing(c echo.Context) error {
	brandID, _ := strconv.ParseInt(c.FormValue("brand"), 10, 64)
	names, err := s.brandNames(c)
	if err != nil {
		return err
	}
	r := flag.BrandReport{BrandID: brandID, BrandName: names[brandID], Platform: c.FormValue("platform"), ShopID: c.FormValue("shop_id"),
		ShopName: c.FormValue("shop_name"), ListingURL: c.FormValue("listing_url"), ListingTitle: c.FormValue("listing_title"),
		Reason: c.FormValue("reason")}
	if err := s.Flags.ReportListing(c.Request().Context(), actorOf(c), r); err != nil {
		errs, ok := valid.As(err)
		if !ok {
			return err
		}
		return s.renderReport(c, http.StatusUnprocessableEntity, page.ReportForm{In: r, Errors: errs})
	}
	return s.redirect(c, "/authentications", "success", "report.sent")
}
