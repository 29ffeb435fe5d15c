package web

import (
	"errors"
	"io/fs"
	"maps"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/casework"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/flag"
	"spotcheck/internal/purchase"
	"spotcheck/internal/valid"
	"spotcheck/internal/verdict"
)

// whole is the field of a message about the whole form, shown once at
// its top rather than beside a field.
const whole = "conflict"

// refusals is the one mapping of the areas' sentinel errors to what the
// user is told: the status, the message, and the field of the form it
// came from that the message goes beside. A row without a field is never
// shown on a form, only as the error page. The error page (handleError)
// and every form that re-renders on refusal (refusal) read it; the first
// row that matches wins.
var refusals = []struct {
	err    error
	status int
	key    string
	field  string
}{
	{casework.ErrConflict, http.StatusConflict, "error.case_changed", whole},
	{enforcement.ErrConflict, http.StatusConflict, "error.case_changed", whole},
	{casework.ErrNotAllowed, http.StatusConflict, "error.not_allowed_now", whole},
	{enforcement.ErrNoBundle, http.StatusConflict, "error.bundle_required", whole},
	{purchase.ErrConflict, http.StatusConflict, "error.purchase_changed", whole},
	{purchase.ErrNotAllowed, http.StatusConflict, "error.not_allowed_now", whole},
	{purchase.ErrNotHolder, http.StatusConflict, "error.custody_not_holder", whole},
	{purchase.ErrInTransit, http.StatusConflict, "error.custody_in_transit", whole},
	{flag.ErrNotOpen, http.StatusConflict, "error.flags_changed", "flags"},
	{verdict.ErrNoCounterfeitVerdict, http.StatusConflict, "error.no_counterfeit_verdict", whole},
	// An item not yet in the brand's hands is not the brand's to see.
	{verdict.ErrNotWithBrand, http.StatusNotFound, "error.not_found", ""},
	{fs.ErrNotExist, http.StatusNotFound, "error.not_found", ""},
	{valid.ErrControl, http.StatusBadRequest, "error.control_chars", ""},
	{valid.ErrInvalid, http.StatusUnprocessableEntity, "error.invalid", ""},
}

// refusalOf finds err's row in refusals.
func refusalOf(err error) (status int, key, field string, ok bool) {
	for _, r := range refusals {
		if errors.Is(err, r.err) {
			return r.status, r.key, r.field, true
		}
	}
	return 0, "", "", false
}

// refusal is the form side of the mapping: the status and the messages
// to show beside the form a refused action came from, field errors as
// the use case gave them. Any other error is returned as is, for the
// error page.
func refusal(err error) (int, valid.Errors, error) {
	var ue *uploadError
	if errors.As(err, &ue) {
		return ue.status, ue.errs, nil
	}
	if errs, ok := valid.As(err); ok {
		return http.StatusUnprocessableEntity, errs, nil
	}
	if status, key, field, ok := refusalOf(err); ok && field != "" {
		return status, valid.Errors{field: key}, nil
	}
	return 0, nil, err
}

// refusedBack answers a refused action whose form is a button on another
// page: back to that page with the message in a flash.
func (s *Server) refusedBack(c echo.Context, err error, to string) error {
	_, errs, err := refusal(err)
	if err != nil {
		return err
	}
	return s.redirect(c, to, "error", oneMessage(errs))
}

// oneMessage is the message of errs a flash shows: the whole form's, else
// the first field's by name.
func oneMessage(errs valid.Errors) string {
	if k := errs[whole]; k != "" {
		return k
	}
	fields := slices.Sorted(maps.Keys(errs))
	if len(fields) == 0 {
		return ""
	}
	return errs[fields[0]]
}
