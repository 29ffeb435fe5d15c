package web

import (
	"errors"
	"net/http"

	"spotcheck/internal/casework"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/purchase"
	"spotcheck/internal/valid"
)

// refusal maps a refused action to the status and the messages to show
// beside the form it came from; any other error is returned as is. It is
// the one mapping for every form that re-renders a page on refusal.
func refusal(err error) (int, valid.Errors, error) {
	var ue *uploadError
	switch {
	case errors.As(err, &ue):
		return ue.status, ue.errs, nil
	case errors.Is(err, enforcement.ErrNoBundle):
		return http.StatusConflict, valid.Errors{"conflict": "error.bundle_required"}, nil
	case errors.Is(err, casework.ErrConflict), errors.Is(err, casework.ErrNotAllowed), errors.Is(err, enforcement.ErrConflict):
		return http.StatusConflict, valid.Errors{"conflict": "error.case_changed"}, nil
	case errors.Is(err, purchase.ErrConflict), errors.Is(err, purchase.ErrNotAllowed):
		return http.StatusConflict, valid.Errors{"conflict": "error.purchase_changed"}, nil
	case errors.Is(err, purchase.ErrNotHolder):
		return http.StatusConflict, valid.Errors{"conflict": "error.custody_not_holder"}, nil
	case errors.Is(err, purchase.ErrInTransit):
		return http.StatusConflict, valid.Errors{"conflict": "error.custody_in_transit"}, nil
	}
	if errs, ok := valid.As(err); ok {
		return http.StatusUnprocessableEntity, errs, nil
	}
	return 0, nil, err
}
