package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/deadline"
	"spotcheck/internal/valid"
	"spotcheck/web/view/page"
)

// adminDeadlines shows how long each kind of step may take, globally and
// per brand.
func (s *Server) adminDeadlines(c echo.Context) error {
	return s.renderDeadlines(c, http.StatusOK, nil, nil, 0, nil)
}

// renderDeadlines shows the settings; typed (the global form) or brandTyped
// (brand brandID's row) replace the stored values when a save was refused.
func (s *Server) renderDeadlines(c echo.Context, status int, typed map[string]string, brandTyped map[string]string,
	brandID int64, errs map[string]string) error {
	ctx := c.Request().Context()
	actor := actorOf(c)
	set, err := s.Deadlines.Settings(ctx)
	if err != nil {
		return err
	}
	bs, err := s.Deadlines.Brands(ctx, actor)
	if err != nil {
		return err
	}
	p := page.DeadlineSettings{Keys: deadline.SettingKeys, Values: map[string]string{}}
	for _, k := range deadline.SettingKeys {
		p.Values[k] = strconv.Itoa(set[k])
	}
	if typed != nil {
		p.Values, p.Errors = typed, errs
	}
	for _, b := range bs {
		r := page.BrandDaysRow{ID: b.ID, Name: b.Name, Authentication: strconv.Itoa(b.AuthenticationDays)}
		if b.AcceptanceDays != nil {
			r.Acceptance = strconv.Itoa(*b.AcceptanceDays)
		}
		if b.ID == brandID && brandTyped != nil {
			r.Authentication, r.Acceptance, r.Errors = brandTyped["authentication_days"], brandTyped["acceptance_days"], errs
		}
		p.Brands = append(p.Brands, r)
	}
	return s.render(c, status, page.Deadlines(p))
}

func (s *Server) adminSaveDeadlines(c echo.Context) error {
	typed := map[string]string{}
	for _, k := range deadline.SettingKeys {
		typed[k] = c.FormValue(k)
	}
	err := s.Deadlines.Save(c.Request().Context(), actorOf(c), typed)
	if fe, ok := valid.As(err); ok {
		return s.renderDeadlines(c, http.StatusUnprocessableEntity, typed, nil, 0, fe)
	}
	if err != nil {
		return err
	}
	return s.redirect(c, "/admin/deadlines", "success", "deadline.settings_saved")
}

func (s *Server) adminSaveBrandDeadlines(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	typed := map[string]string{"authentication_days": c.FormValue("authentication_days"), "acceptance_days": c.FormValue("acceptance_days")}
	err = s.Deadlines.SaveBrand(c.Request().Context(), actorOf(c), id, typed["authentication_days"], typed["acceptance_days"])
	if fe, ok := valid.As(err); ok {
		return s.renderDeadlines(c, http.StatusUnprocessableEntity, nil, typed, id, fe)
	}
	if err != nil {
		return err
	}
	return s.redirect(c, "/admin/deadlines#brand-"+c.Param("id"), "success", "deadline.settings_saved")
}
