package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/user"
	"spotcheck/internal/valid"
	"spotcheck/web/view/page"
)

const ctxSubjectUser = "spotcheck.subject_user"

// loadUser is the load-and-authorize middleware for /admin/users/:id: the
// account is loaded, the policy asked, and a refusal looks like a missing
// account (404).
func (s *Server) loadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return echo.ErrNotFound
		}
		u, err := s.Users.Managed(c.Request().Context(), actorOf(c), id)
		if err != nil {
			return err
		}
		c.Set(ctxSubjectUser, &u)
		return next(c)
	}
}

func subjectUser(c echo.Context) *user.User { return c.Get(ctxSubjectUser).(*user.User) }

func (s *Server) adminUsers(c echo.Context) error {
	ctx := c.Request().Context()
	us, err := s.Users.List(ctx)
	if err != nil {
		return err
	}
	names, err := s.brandNames(c)
	if err != nil {
		return err
	}
	rows := make([]page.UserRow, len(us))
	for i, u := range us {
		rows[i] = userRow(u, names)
	}
	return s.render(c, http.StatusOK, page.Users(rows))
}

func (s *Server) adminNewUser(c echo.Context) error {
	opts, err := s.brandOptions(c, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page.NewUser(page.NewUserForm{}, opts))
}

func (s *Server) adminCreateUser(c echo.Context) error {
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return echo.ErrBadRequest
	}
	in := user.New{Email: form.Get("email"), Name: form.Get("name"), Role: form.Get("role"), Password: form.Get("password")}
	ids, err := parseIDs(form["brand"])
	in.BrandIDs = ids
	var u user.User
	if err == nil {
		u, err = s.Users.Create(ctx, in)
	}
	if fe, ok := valid.As(err); ok {
		opts, oerr := s.brandOptions(c, nil)
		if oerr != nil {
			return oerr
		}
		return s.render(c, http.StatusUnprocessableEntity, page.NewUser(page.NewUserForm{
			Email: in.Email, Name: in.Name, Role: in.Role, BrandIDs: in.BrandIDs, Errors: fe}, opts))
	}
	if err != nil {
		return err
	}
	return s.redirect(c, "/admin/users/"+strconv.FormatInt(u.ID, 10), "success", "users.created")
}

func (s *Server) adminUser(c echo.Context) error {
	return s.renderUserPage(c, http.StatusOK, userPageErrors{})
}

// userPageErrors are the message keys shown next to the user page's forms.
type userPageErrors struct{ password, brand, role string }

func (s *Server) renderUserPage(c echo.Context, status int, errs userPageErrors) error {
	u := subjectUser(c)
	names, err := s.brandNames(c)
	if err != nil {
		return err
	}
	opts, err := s.brandOptions(c, u.BrandIDs)
	if err != nil {
		return err
	}
	all, err := s.brandOptions(c, nil)
	if err != nil {
		return err
	}
	return s.render(c, status, page.User(page.UserPage{User: userRow(*u, names), UserBrandIDs: u.BrandIDs, Brands: opts, AllBrands: all,
		PasswordErr: errs.password, BrandErr: errs.brand, RoleErr: errs.role}))
}

func (s *Server) adminDisableUser(c echo.Context) error {
	u := subjectUser(c)
	if u.ID == actorOf(c).UserID {
		return s.redirect(c, userPath(u), "error", "users.cannot_disable_self")
	}
	if err := s.Users.Disable(c.Request().Context(), u.ID); err != nil {
		return err
	}
	return s.redirect(c, userPath(u), "success", "users.disabled_done")
}

func (s *Server) adminEnableUser(c echo.Context) error {
	u := subjectUser(c)
	if err := s.Users.Enable(c.Request().Context(), u.ID); err != nil {
		return err
	}
	return s.redirect(c, userPath(u), "success", "users.enabled_done")
}

func (s *Server) adminResetPassword(c echo.Context) error {
	u := subjectUser(c)
	err := s.Users.ResetPassword(c.Request().Context(), u.ID, c.FormValue("password"))
	if fe, ok := valid.As(err); ok {
		return s.renderUserPage(c, http.StatusUnprocessableEntity, userPageErrors{password: fe["password"]})
	}
	if err != nil {
		return err
	}
	return s.redirect(c, userPath(u), "success", "users.password_reset_done")
}

func (s *Server) adminChangeRole(c echo.Context) error {
	u := subjectUser(c)
	if u.ID == actorOf(c).UserID {
		return s.redirect(c, userPath(u), "error", "users.cannot_change_own_role")
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.ErrBadRequest
	}
	ids, err := parseIDs(form["brand"])
	if err == nil {
		err = s.Users.ChangeRole(c.Request().Context(), u.ID, form.Get("role"), ids)
	}
	if fe, ok := valid.As(err); ok {
		return s.renderUserPage(c, http.StatusUnprocessableEntity, userPageErrors{role: firstOf(fe, "role", "brands")})
	}
	if err != nil {
		return err
	}
	return s.redirect(c, userPath(u), "success", "users.role_changed")
}

func (s *Server) adminBindBrand(c echo.Context) error {
	u := subjectUser(c)
	id, err := strconv.ParseInt(c.FormValue("brand"), 10, 64)
	if err == nil {
		err = s.Users.BindBrand(c.Request().Context(), u.ID, id)
	} else {
		err = valid.Errors{"brands": "error.brand_unknown"}
	}
	if fe, ok := valid.As(err); ok {
		return s.renderUserPage(c, http.StatusUnprocessableEntity, userPageErrors{brand: fe["brands"]})
	}
	if err != nil {
		return err
	}
	return s.redirect(c, userPath(u), "success", "users.brand_bound")
}

// parseIDs reads the ids of checked brands; a forged value is a field error.
func parseIDs(vs []string) ([]int64, error) {
	ids := make([]int64, 0, len(vs))
	for _, v := range vs {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, valid.Errors{"brands": "error.brand_unknown"}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func firstOf(fe valid.Errors, fields ...string) string {
	for _, f := range fields {
		if k, ok := fe[f]; ok {
			return k
		}
	}
	return ""
}

func userPath(u *user.User) string { return "/admin/users/" + strconv.FormatInt(u.ID, 10) }

func userRow(u user.User, brandNames map[int64]string) page.UserRow {
	r := page.UserRow{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, DisabledAt: u.DisabledAt, CreatedAt: u.CreatedAt}
	for _, id := range u.BrandIDs {
		r.Brands = append(r.Brands, brandNames[id])
	}
	return r
}

func (s *Server) brandNames(c echo.Context) (map[int64]string, error) {
	bs, err := s.Brands.List(c.Request().Context())
	if err != nil {
		return nil, err
	}
	m := make(map[int64]string, len(bs))
	for _, b := range bs {
		m[b.ID] = b.Name
	}
	return m, nil
}

// brandOptions lists the brands not in exclude.
func (s *Server) brandOptions(c echo.Context, exclude []int64) ([]page.BrandOption, error) {
	bs, err := s.Brands.List(c.Request().Context())
	if err != nil {
		return nil, err
	}
	skip := map[int64]bool{}
	for _, id := range exclude {
		skip[id] = true
	}
	var out []page.BrandOption
	for _, b := range bs {
		if !skip[b.ID] {
			out = append(out, page.BrandOption{ID: b.ID, Name: b.Name})
		}
	}
	return out, nil
}
