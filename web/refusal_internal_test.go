package web

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/flag"
	"spotcheck/internal/i18n"
	"spotcheck/internal/purchase"
	"spotcheck/internal/valid"
	"spotcheck/internal/verdict"
)

// The error page and the forms read one table: for every refusal they
// give the same status and message, wrapped or not.
func TestTheErrorPageAndTheFormsMapARefusalAlike(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		key    string
	}{
		{casework.ErrConflict, http.StatusConflict, "error.case_changed"},
		{enforcement.ErrConflict, http.StatusConflict, "error.case_changed"},
		{casework.ErrNotAllowed, http.StatusConflict, "error.not_allowed_now"},
		{enforcement.ErrNoBundle, http.StatusConflict, "error.bundle_required"},
		{purchase.ErrConflict, http.StatusConflict, "error.purchase_changed"},
		{purchase.ErrNotAllowed, http.StatusConflict, "error.not_allowed_now"},
		{purchase.ErrNotHolder, http.StatusConflict, "error.custody_not_holder"},
		{purchase.ErrInTransit, http.StatusConflict, "error.custody_in_transit"},
		{flag.ErrNotOpen, http.StatusConflict, "error.flags_changed"},
		{verdict.ErrNoCounterfeitVerdict, http.StatusConflict, "error.no_counterfeit_verdict"},
	} {
		err := fmt.Errorf("in a use case: %w", tc.err)
		if status, key := classify(err); status != tc.status || key != tc.key {
			t.Errorf("page: %v → %d %s, want %d %s", tc.err, status, key, tc.status, tc.key)
		}
		status, errs, rest := refusal(err)
		if rest != nil || status != tc.status || len(errs) != 1 || oneMessage(errs) != tc.key {
			t.Errorf("form: %v → %d %v %v, want %d %s", tc.err, status, errs, rest, tc.status, tc.key)
		}
		if !i18n.Has(tc.key) {
			t.Errorf("%s is not in the catalog", tc.key)
		}
	}
}

func TestNotFoundAndOtherErrorsGoToTheErrorPage(t *testing.T) {
	for _, err := range []error{errors.New("disk on fire")} {
		if _, _, rest := refusal(err); rest != err {
			t.Errorf("%v is shown on a form", err)
		}
	}
	for _, err := range []error{database.ErrNotFound, verdict.ErrNotWithBrand} {
		if status, key := classify(fmt.Errorf("load: %w", err)); status != http.StatusNotFound || key != "error.not_found" {
			t.Errorf("%v → %d %s, want 404", err, status, key)
		}
		if _, _, rest := refusal(err); rest != err {
			t.Errorf("%v is shown on a form", err)
		}
	}
	if status, errs, _ := refusal(valid.Errors{"budget": "error.amount"}); status != http.StatusUnprocessableEntity || errs["budget"] != "error.amount" {
		t.Errorf("field errors → %d %v", status, errs)
	}
}
