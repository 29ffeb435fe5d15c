package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/brand"
	"spotcheck/internal/valid"
	"spotcheck/web/view/page"
)

func (s *Server) adminBrands(c echo.Context) error {
	return s.renderBrands(c, http.StatusOK, page.NewBrandForm{})
}

func (s *Server) renderBrands(c echo.Context, status int, f page.NewBrandForm) error {
	ctx := c.Request().Context()
	bs, err := s.Brands.List(ctx)
	if err != nil {
		return err
	}
	counts, err := s.Brands.MemberCounts(ctx)
	if err != nil {
		return err
	}
	rows := make([]page.BrandRow, len(bs))
	for i, b := range bs {
		rows[i] = page.BrandRow{ID: b.ID, Name: b.Name, RightsHolder: b.RightsHolder, Contact: b.Contact, Users: counts[b.ID]}
	}
	return s.render(c, status, page.Brands(rows, f))
}

func (s *Server) adminCreateBrand(c echo.Context) error {
	in := brand.New{Name: c.FormValue("name"), RightsHolder: c.FormValue("rights_holder"), Contact: c.FormValue("contact")}
	_, err := s.Brands.Create(c.Request().Context(), in)
	if fe, ok := valid.As(err); ok {
		return s.renderBrands(c, http.StatusUnprocessableEntity, page.NewBrandForm{
			Name: in.Name, RightsHolder: in.RightsHolder, Contact: in.Contact, Errors: fe})
	}
	if err != nil {
		return err
	}
	return s.redirect(c, "/admin/brands", "success", "brands.created")
}
