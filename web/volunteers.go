package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/purchase"
	"spotcheck/internal/valid"
	"spotcheck/web/view/page"
)

// volunteerPool is the staff's view of every volunteer: workload, record,
// personas.
func (s *Server) volunteerPool(c echo.Context) error {
	pool, err := s.Purchases.ListPool(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page.VolunteerPool(pool))
}

func (s *Server) volunteerProfile(c echo.Context) error {
	return s.renderProfile(c, http.StatusOK, page.ProfileForms{})
}

// renderProfile shows a volunteer's profile; an id that is not a
// volunteer is not found.
func (s *Server) renderProfile(c echo.Context, status int, f page.ProfileForms) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	p, err := s.Purchases.GetProfile(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	return s.render(c, status, page.VolunteerProfile(p, f))
}

func (s *Server) updateVolunteer(c echo.Context) error {
	region, paused := c.FormValue("region"), c.FormValue("paused") != ""
	return s.profileAction(c, page.ProfileForms{Edited: true, Region: region, Paused: paused}, func(id int64) error {
		return s.Purchases.UpdateVolunteer(c.Request().Context(), actorOf(c), id, region, paused)
	}, "volunteers.updated")
}

func (s *Server) addPersona(c echo.Context) error {
	in := purchase.NewPersona{PlatformAccount: c.FormValue("platform_account"), AddressAlias: c.FormValue("address_alias"),
		Phone: c.FormValue("phone"), PaymentInstrument: c.FormValue("payment_instrument")}
	return s.profileAction(c, page.ProfileForms{Adding: true, Persona: in}, func(id int64) error {
		_, err := s.Purchases.AddPersona(c.Request().Context(), actorOf(c), id, in)
		return err
	}, "volunteers.persona_added")
}

func (s *Server) burnPersona(c echo.Context) error {
	pid, err := strconv.ParseInt(c.Param("persona"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	reason := c.FormValue("reason")
	return s.profileAction(c, page.ProfileForms{BurnID: pid, BurnReason: reason}, func(id int64) error {
		return s.Purchases.BurnPersona(c.Request().Context(), actorOf(c), id, pid, reason)
	}, "volunteers.persona_burned")
}

// profileAction runs one change to a volunteer's profile: back to the
// profile with a flash, or the profile again with what was typed and the
// messages next to the fields.
func (s *Server) profileAction(c echo.Context, f page.ProfileForms, run func(id int64) error, done string) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	if err := run(id); err != nil {
		errs, ok := valid.As(err)
		if !ok {
			return err
		}
		// A user who is no volunteer is refused as a field error too;
		// renderProfile turns that into 404 when it loads the profile.
		f.Errors = errs
		return s.renderProfile(c, http.StatusUnprocessableEntity, f)
	}
	return s.redirect(c, "/volunteers/"+strconv.FormatInt(id, 10), "success", done)
}
