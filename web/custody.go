package web

import (
	"errors"
	"strconv"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/evidence"
	"spotcheck/internal/purchase"
	"spotcheck/internal/role"
	"spotcheck/web/view/page"
)

// acceptItem logs an item into the custody of the party it was released
// to: staff on the case page, a brand user on their queue. The use case
// asks the policy whether the actor acts for that party.
func (s *Server) acceptItem(c echo.Context) error {
	it, err := s.itemParam(c)
	if err != nil {
		return err
	}
	if !purchase.MayAccept(actorOf(c), it) {
		return echo.ErrNotFound // before reading any file
	}
	up, err := s.readUpload(c, fixedKinds(map[string]evidence.Kind{"photos": evidence.ItemPhoto}))
	if err == nil {
		a := purchase.Acceptance{SealIntact: up.Values.Get("seal_intact") != "", Condition: up.Values.Get("condition"),
			Place: up.Values.Get("place")}
		if err = s.Purchases.Accept(c.Request().Context(), actorOf(c), it.ID, a, up.Files); err != nil {
			s.discard(c.Request().Context(), up.Files)
		}
	}
	return s.custodyDone(c, it, up, err, "custody.accepted_done")
}

// releaseItem hands an item staff hold on to the brand or the police.
func (s *Server) releaseItem(c echo.Context) error {
	it, err := s.itemParam(c)
	if err != nil {
		return err
	}
	h := purchase.Handover{ToKind: c.FormValue("to"), Method: c.FormValue("method"), Carrier: c.FormValue("carrier"),
		Tracking: c.FormValue("tracking"), Seal: c.FormValue("seal"), Place: c.FormValue("place"), Condition: c.FormValue("condition")}
	err = s.Purchases.Release(c.Request().Context(), actorOf(c), it.ID, h)
	return s.custodyDone(c, it, upload{Values: c.Request().PostForm}, err, "custody.released_done")
}

func (s *Server) itemParam(c echo.Context) (purchase.Item, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return purchase.Item{}, echo.ErrNotFound
	}
	return s.Purchases.GetItem(c.Request().Context(), id)
}

// custodyDone answers a custody action: back to where the actor works
// (the case page for staff, the queue for brand users), or the same page
// with the problem shown. An item that is not the actor's to move is not
// found: the answer says nothing about it.
func (s *Server) custodyDone(c echo.Context, it purchase.Item, up upload, err error, done string) error {
	actor := actorOf(c)
	if errors.Is(err, purchase.ErrNotHolder) {
		return echo.ErrNotFound
	}
	if err == nil {
		if actor.Role == role.Brand {
			return s.redirect(c, "/authentications", "success", done)
		}
		ref, err := s.Cases.Reference(c.Request().Context(), it.CaseID)
		if err != nil {
			return err
		}
		return s.redirect(c, "/cases/"+ref+"#custody", "success", done)
	}
	status, errs, ferr := refusal(err)
	if ferr != nil {
		return ferr
	}
	form := page.StepForm{Step: "custody", Values: up.Values, Errors: errs}
	if actor.Role == role.Brand {
		return s.renderIncoming(c, status, form)
	}
	cs, gerr := s.Cases.Get(c.Request().Context(), actor, it.CaseID)
	if gerr != nil {
		return gerr
	}
	return s.renderCaseWith(c, status, cs, caseForms{Errors: errs, Custody: form})
}
