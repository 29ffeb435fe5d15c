package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/authz"
	"spotcheck/internal/purchase"
	"spotcheck/web/view/page"
)

// myReimbursements lists the volunteer's own reimbursements.
func (s *Server) myReimbursements(c echo.Context) error {
	rs, err := s.Purchases.MyReimbursements(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page.Reimbursements(rs))
}

func (s *Server) approveReimbursement(c echo.Context) error {
	in := purchase.Approval{Refunded: c.FormValue("refunded")}
	return s.moveReimbursement(c, func(ctx context.Context, a authz.Actor, id int64) error {
		return s.Purchases.Approve(ctx, a, id, in)
	}, "reimbursement.approved_done")
}

func (s *Server) payReimbursement(c echo.Context) error {
	return s.moveReimbursement(c, s.Purchases.MarkPaid, "reimbursement.paid_done")
}

// moveReimbursement approves or pays, then goes back to the case, with
// the reason in a flash when the move is refused.
func (s *Server) moveReimbursement(c echo.Context, move func(context.Context, authz.Actor, int64) error, done string) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	ref, err := s.Purchases.ReimbursementCase(c.Request().Context(), id)
	if err != nil {
		return err
	}
	back := "/cases/" + ref + "#purchase"
	if err := move(c.Request().Context(), actorOf(c), id); err != nil {
		return s.refusedBack(c, err, back)
	}
	return s.redirect(c, back, "success", done)
}
