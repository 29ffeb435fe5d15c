package web

import (
	"errors"
	"io/fs"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/authz"
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

// renderShop shows a shop, its links, and the flags and cases of its
// whole linked group.
func (s *Server) renderShop(c echo.Context, status int, form page.LinkForm) error {
	ctx := c.Request().Context()
	sh := shopOf(c)
	p := page.ShopPage{ID: sh.ID, Name: sh.Name, Platform: sh.Platform, PlatformShopID: sh.PlatformShopID, Owner: sh.RegisteredOwner,
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
