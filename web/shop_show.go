package web

import (
	"errors"
	"io/fs"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/authz"
	"spotcheck/internal/network"
	"spotcheck/internal/shop"
	"spotcheck/internal/valid"
	"spotcheck/web/view/page"
)

const ctxShop = "spotcheck.shop"

// loadShop is the load-and-authorize middleware for /shops/:id.
func (s *Server) loadShop(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return echo.ErrNotFound
		}
		sh, err := s.Shops.View(c.Request().Context(), actorOf(c), id)
		if err != nil {
			return err
		}
		c.Set(ctxShop, sh)
		return next(c)
	}
}

func shopOf(c echo.Context) shop.Shop { return c.Get(ctxShop).(shop.Shop) }

func (s *Server) showShop(c echo.Context) error {
	return s.renderShop(c, http.StatusOK, page.LinkForm{Kind: string(shop.SameController)})
}

// decideSuggestion confirms or rejects a link the shops' shared
// identifiers suggest; refused, the page again with the note kept.
func (s *Server) decideSuggestion(c echo.Context) error {
	sh := shopOf(c)
	id, err := strconv.ParseInt(c.Param("suggestion"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	decision, note := c.FormValue("decision"), c.FormValue("note")
	if decision != "confirm" && decision != "reject" {
		return echo.NewHTTPError(http.StatusBadRequest, "bad decision")
	}
	err = s.Network.Decide(c.Request().Context(), actorOf(c), sh.ID, id, decision == "confirm", note)
	if fe, ok := valid.As(err); ok {
		return s.renderShop(c, http.StatusUnprocessableEntity, page.LinkForm{Kind: string(shop.SameController)},
			page.SuggestedLink{ID: id, Note: note, Error: fe["note"]})
	}
	if errors.Is(err, network.ErrDecided) {
		return s.redirect(c, "/shops/"+strconv.FormatInt(sh.ID, 10), "error", "error.suggestion_decided")
	}
	if err != nil {
		return err
	}
	done := "shop.suggestion_confirmed"
	if decision == "reject" {
		done = "shop.suggestion_rejected"
	}
	return s.redirect(c, "/shops/"+strconv.FormatInt(sh.ID, 10), "success", done)
}

// renderShop shows a shop, its identifiers (masked) and the links they
// suggest, its links, and the flags and cases of its whole linked group;
// refused is a decision on a suggestion shown again with what was typed.
func (s *Server) renderShop(c echo.Context, status int, form page.LinkForm, refused ...page.SuggestedLink) error {
	ctx := c.Request().Context()
	sh := shopOf(c)
	p := page.ShopPage{ID: sh.ID, Name: sh.Name, Platform: sh.Platform, PlatformShopID: sh.PlatformShopID, Owner: sh.RegisteredOwner, ClusterID: clusterID(sh),
		CanLink: authz.Can(actorOf(c), authz.LinkShops, authz.Subject{Kind: "shop"}), Form: form}
	for _, k := range shop.LinkKinds {
		p.Kinds = append(p.Kinds, string(k))
	}
	links, err := s.Shops.Links(ctx, sh.ID)
	if err != nil {
		return err
	}
	group, err := s.Shops.Group(ctx, sh.ID)
	if err != nil {
		return err
	}
	shops, err := s.Shops.Shops(ctx, group)
	if err != nil {
		return err
	}
	for _, l := range links {
		o := shops[l.Other(sh.ID)]
		p.Links = append(p.Links, page.ShopLink{ID: l.ID, OtherID: o.ID, OtherName: o.Name, Platform: o.Platform, Kind: string(l.Kind), Note: l.Note})
	}
	for _, id := range group {
		p.Group = append(p.Group, shops[id].Name)
	}
	ids, err := s.Network.Identifiers(ctx, actorOf(c), sh.ID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		p.Identifiers = append(p.Identifiers, page.ShopIdentifier{Kind: string(id.Kind), Masked: id.Masked, FirstSeen: id.FirstSeen})
	}
	suggested, err := s.Network.Suggested(ctx, actorOf(c), sh.ID)
	if err != nil {
		return err
	}
	others := make([]int64, len(suggested))
	for i, sg := range suggested {
		others[i] = sg.OtherID
	}
	otherShops, err := s.Shops.Shops(ctx, others)
	if err != nil {
		return err
	}
	for _, sg := range suggested {
		o := otherShops[sg.OtherID]
		v := page.SuggestedLink{ID: sg.ID, OtherID: o.ID, OtherName: o.Name, Platform: o.Platform, Since: sg.Since()}
		for _, e := range sg.Evidence {
			mine, theirs := e.MaskedA, e.MaskedB
			if sg.ShopBID == sh.ID {
				mine, theirs = theirs, mine
			}
			v.Evidence = append(v.Evidence, page.LinkEvidence{Kind: string(e.Kind), Mine: mine, Theirs: theirs, Since: e.Since})
		}
		for _, r := range refused {
			if r.ID == sg.ID {
				v.Note, v.Error = r.Note, r.Error
			}
		}
		p.Suggested = append(p.Suggested, v)
	}
	rows, err := s.Cases.ForShops(ctx, actorOf(c), group)
	if err != nil {
		return err
	}
	for _, r := range rows {
		p.Cases = append(p.Cases, caseRow(r))
	}
	flags, err := s.Flags.ForShops(ctx, group)
	if err != nil {
		return err
	}
	for _, f := range flags {
		p.Flags = append(p.Flags, inboxFlag(f))
	}
	return s.render(c, status, page.Shop(p))
}

// addShopLink links this shop to another, named by platform and id.
func (s *Server) addShopLink(c echo.Context) error {
	if !authz.Can(actorOf(c), authz.LinkShops, authz.Subject{Kind: "shop"}) {
		return echo.ErrForbidden
	}
	sh := shopOf(c)
	form := page.LinkForm{Platform: c.FormValue("platform"), ShopID: c.FormValue("platform_shop_id"), Kind: c.FormValue("kind"), Note: c.FormValue("note")}
	other, err := s.Shops.FindByPlatformID(c.Request().Context(), form.Platform, form.ShopID)
	if errors.Is(err, fs.ErrNotExist) {
		err = valid.Errors{"shop": "error.shop_unknown"}
	}
	if err == nil {
		_, err = s.Shops.AddLink(c.Request().Context(), actorOf(c).UserID, sh.ID, other.ID, form.Kind, form.Note)
	}
	if fe, ok := valid.As(err); ok {
		form.Errors = fe
		return s.renderShop(c, http.StatusUnprocessableEntity, form)
	}
	if err != nil {
		return err
	}
	return s.redirect(c, "/shops/"+strconv.FormatInt(sh.ID, 10), "success", "shop.linked_done")
}

func (s *Server) removeShopLink(c echo.Context) error {
	if !authz.Can(actorOf(c), authz.LinkShops, authz.Subject{Kind: "shop"}) {
		return echo.ErrForbidden
	}
	sh := shopOf(c)
	linkID, err := strconv.ParseInt(c.Param("link"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	if err := s.Shops.RemoveLink(c.Request().Context(), sh.ID, linkID); err != nil {
		return err
	}
	return s.redirect(c, "/shops/"+strconv.FormatInt(sh.ID, 10), "success", "shop.unlinked_done")
}
