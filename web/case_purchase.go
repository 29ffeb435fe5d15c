package web

import (
	"errors"
	"io/fs"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/evidence"
	"spotcheck/internal/i18n"
	"spotcheck/internal/purchase"
	"spotcheck/web/view/page"
)

// purchasePanel fills the case page's purchase, custody and evidence
// sections.
func (s *Server) purchasePanel(c echo.Context, cs casework.Case, p *page.CasePage, f caseForms) error {
	ctx := c.Request().Context()
	actor := actorOf(c)
	ps, err := s.Purchases.ForCase(ctx, cs.ID)
	if err != nil {
		return err
	}
	p.Forms, p.EvidenceForm, p.CustodyForm = f.Errors, f.Evidence, f.Custody
	p.CanApprove = authz.Can(actor, authz.ApproveReimbursement, authz.Subject{})
	p.CanUpload = authz.Can(actor, authz.UploadEvidence, cs.Subject())
	p.MaxUploadMB = s.Config.MaxUpload >> 20
	var ids []int64
	for _, pu := range ps {
		ids = append(ids, pu.VolunteerID, pu.OrderedBy)
	}
	all, err := s.Sharing.CaseFiles(ctx, actor, cs)
	if err != nil {
		return err
	}
	for _, e := range all {
		ids = append(ids, e.UploadedBy)
	}
	chains, err := s.Purchases.Chains(ctx, cs.ID)
	if err != nil {
		return err
	}
	names, err := s.Users.Names(ctx, ids)
	if err != nil {
		return err
	}
	for _, pu := range ps {
		pv := page.PurchaseView{Purchase: pu, Volunteer: names[pu.VolunteerID], OrderedBy: names[pu.OrderedBy]}
		if persona, err := s.Purchases.PersonaFor(ctx, actor, pu); err == nil {
			pv.Persona = persona
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if r, err := s.Purchases.ReimbursementOf(ctx, pu.ID); err != nil {
			return err
		} else {
			pv.Reimbursement = r
		}
		p.Purchases = append(p.Purchases, pv)
	}
	for _, e := range all {
		item := evidenceItem(e, false)
		item.UploadedBy = names[e.UploadedBy]
		item.CanWithdraw = authz.Can(actor, authz.WithdrawEvidence, authz.Subject{Kind: "evidence", BrandID: cs.BrandID, OwnerID: e.UploadedBy})
		p.Evidence = append(p.Evidence, item)
	}
	lines, err := s.custodyLines(c, chains...)
	if err != nil {
		return err
	}
	var pseudonyms map[int64]string
	for n, ch := range chains {
		iv := page.ItemView{Item: ch.Item, Lines: lines[n]}
		for _, pu := range ps {
			if pu.ID != ch.Item.PurchaseID {
				continue
			}
			iv.NotForBrand = pu.Status == purchase.Cancelled
			if purchase.AwaitingReturn(pu, ch.Item) {
				if pseudonyms == nil {
					if pseudonyms, err = s.Purchases.Pseudonyms(ctx, cs.ID); err != nil {
						return err
					}
				}
				iv.AwaitingFrom = pseudonyms[pu.VolunteerID]
			}
		}
		iv.CanAccept = ch.Item.PendingKind != nil && *ch.Item.PendingKind == purchase.PartyStaff &&
			authz.Can(actor, authz.HandleCustody, authz.Subject{Kind: authz.CustodyStaff})
		iv.CanRelease = ch.Item.PendingKind == nil && ch.Item.HolderKind == purchase.PartyStaff &&
			authz.Can(actor, authz.HandleCustody, authz.Subject{Kind: authz.CustodyStaff})
		p.Items = append(p.Items, iv)
	}
	return nil
}

func evidenceItem(e evidence.Evidence, canWithdraw bool) page.EvidenceItem {
	it := page.EvidenceItem{ID: e.ID, Kind: string(e.Kind), ContentType: e.ContentType, OriginalName: e.OriginalName,
		Visibility: string(e.Visibility), Size: e.Size, SHA256: e.SHA256, UploadedAt: e.UploadedAt,
		Withdrawn: e.WithdrawnAt != nil, WithdrawnReason: e.WithdrawnReason, CanWithdraw: canWithdraw,
		Image: evidence.Derivable(e.ContentType), Fault: e.FaultAt != nil} // Image: a thumbnail can be made
	return it
}

// custodyLines names the parties of the chains of one case, for staff and
// for the volunteer whose purchase it is: volunteers by their pseudonym on
// the case, brands by name, staff and police by their role, and the
// people who acted. (Brands get their own shaping: internal/sharing.)
func (s *Server) custodyLines(c echo.Context, chains ...purchase.Chain) ([][]page.CustodyLine, error) {
	if len(chains) == 0 {
		return nil, nil
	}
	ctx := c.Request().Context()
	var actors []int64
	for _, ch := range chains {
		for _, ev := range ch.Events {
			actors = append(actors, ev.ActorID)
		}
	}
	brands, err := s.brandNames(c)
	if err != nil {
		return nil, err
	}
	pseudonyms, err := s.Purchases.Pseudonyms(ctx, chains[0].Item.CaseID)
	if err != nil {
		return nil, err
	}
	names, err := s.Users.Names(ctx, actors)
	if err != nil {
		return nil, err
	}
	party := func(kind purchase.Party, id int64) string {
		switch kind {
		case purchase.PartyVolunteer:
			return pseudonyms[id]
		case purchase.PartyBrand:
			return brands[id]
		case "":
			return i18nT(c, "party.seller")
		}
		return i18nT(c, "party."+kind)
	}
	out := make([][]page.CustodyLine, len(chains))
	for n, ch := range chains {
		out[n] = make([]page.CustodyLine, len(ch.Events))
		for i, ev := range ch.Events {
			var from int64
			if ev.FromID != nil {
				from = *ev.FromID
			}
			out[n][i] = page.CustodyLine{Seq: ev.Seq, Step: ev.Step, From: party(ev.FromKind, from), To: party(ev.ToKind, ev.ToID),
				At: ev.At, Method: ev.Method, Carrier: ev.Carrier, Tracking: ev.TrackingNumber, Seal: ev.SealNumber,
				SealIntact: ev.SealIntact, Condition: ev.Condition, Place: ev.Place, Who: names[ev.ActorID]}
		}
	}
	return out, nil
}

// orderForm is the assignment screen: the purchase order with the
// volunteers ranked by the rotation rules, and why any is blocked.
func (s *Server) orderForm(c echo.Context) error {
	in := purchase.OrderInput{Currency: "CNY"}
	return s.renderOrder(c, http.StatusOK, caseOf(c), in, c.QueryParam("region"), nil)
}

func (s *Server) renderOrder(c echo.Context, status int, cs casework.Case, in purchase.OrderInput, region string, errs map[string]string) error {
	ctx := c.Request().Context()
	cands, err := s.Purchases.Candidates(ctx, cs.ShopID, region)
	if err != nil {
		return err
	}
	sh, err := s.Shops.Get(ctx, cs.ShopID)
	if err != nil {
		return err
	}
	return s.render(c, status, page.Order(page.OrderPage{Reference: cs.Reference, Version: cs.Version, State: string(cs.State),
		ShopName: sh.Name, Region: region, Candidates: cands, In: in, Errors: errs, WindowDays: int(s.Purchases.Window().Hours() / 24)}))
}

func (s *Server) orderPurchase(c echo.Context) error {
	cs := caseOf(c)
	in := purchase.OrderInput{CaseVersion: atoi(c.FormValue("version")), Budget: c.FormValue("budget"), Currency: c.FormValue("currency"),
		Instructions: c.FormValue("instructions"), ShipTo: c.FormValue("ship_to"), DueOn: c.FormValue("due_on")}
	// The buyer comes as "volunteer:persona" from one radio group.
	if v, p, ok := cutIDs(c.FormValue("buyer")); ok {
		in.VolunteerID, in.PersonaID = v, p
	}
	_, err := s.Purchases.Order(c.Request().Context(), actorOf(c), cs.ID, in)
	if err != nil {
		return s.refused(c, err, func(status int, fresh casework.Case, errs map[string]string) error {
			return s.renderOrder(c, status, fresh, in, c.FormValue("region"), errs)
		})
	}
	return s.redirect(c, "/cases/"+cs.Reference+"#purchase", "success", "event.order_purchase_done")
}

// refused shows a refused purchase action again on the case as it is now;
// an error that is not a refusal goes to the error handler.
func (s *Server) refused(c echo.Context, err error, show func(status int, fresh casework.Case, errs map[string]string) error) error {
	status, errs, ferr := refusal(err)
	if ferr != nil {
		return ferr
	}
	fresh, err := s.Cases.Get(c.Request().Context(), actorOf(c), caseOf(c).ID)
	if err != nil {
		return err
	}
	return show(status, fresh, errs)
}

func cutIDs(s string) (int64, int64, bool) {
	for i := range s {
		if s[i] == ':' {
			a, err1 := strconv.ParseInt(s[:i], 10, 64)
			b, err2 := strconv.ParseInt(s[i+1:], 10, 64)
			return a, b, err1 == nil && err2 == nil
		}
	}
	return 0, 0, false
}

func (s *Server) cancelPurchase(c echo.Context) error {
	cs := caseOf(c)
	reason := c.FormValue("reason")
	err := s.Purchases.Cancel(c.Request().Context(), actorOf(c), cs.ID, atoi(c.FormValue("version")), reason, c.FormValue("burn") != "")
	if err != nil {
		return s.refused(c, err, func(status int, fresh casework.Case, errs map[string]string) error {
			return s.renderCaseWith(c, status, fresh, caseForms{Errors: errs, Note: reason})
		})
	}
	return s.redirect(c, "/cases/"+cs.Reference+"#purchase", "success", "event.cancel_purchase_done")
}

func i18nT(c echo.Context, key string, args ...any) string {
	return i18n.T(c.Request().Context(), key, args...)
}
