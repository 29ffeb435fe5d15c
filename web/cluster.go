package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/casework"
	"spotcheck/internal/shop"
	"spotcheck/web/view/page"
)

// clusterID is the seller network a shop is in, 0 for none.
func clusterID(sh shop.Shop) int64 {
	if sh.ClusterID == nil {
		return 0
	}
	return *sh.ClusterID
}

// showCluster is a seller network: its shops with their state of play,
// drawn as a graph of their links, what ties them, its cases and flags,
// and what raids found.
func (s *Server) showCluster(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	n, err := s.Shops.Network(ctx, actorOf(c), id)
	if err != nil {
		return err
	}
	ids := make([]int64, len(n.Shops))
	for i, sh := range n.Shops {
		ids[i] = sh.ID
	}
	rows, err := s.Cases.ForShops(ctx, actorOf(c), ids)
	if err != nil {
		return err
	}
	p := page.ClusterPage{ID: n.ID}
	byShop := map[int64][]casework.Row{}
	var caseIDs []int64
	for _, r := range rows {
		byShop[r.ShopID] = append(byShop[r.ShopID], r)
		caseIDs = append(caseIDs, r.ID)
		p.Cases = append(p.Cases, caseRow(r))
		if r.State != casework.Closed {
			p.OpenCases++
		}
	}
	for _, sh := range n.Shops {
		node := page.ClusterShop{ID: sh.ID, Name: sh.Name, Platform: sh.Platform, Worst: page.Unseen}
		for _, r := range byShop[sh.ID] {
			if w := page.StandingOf(string(r.State), string(r.CloseReason)); w > node.Worst {
				node.Worst, node.Case, node.CaseState, node.CaseReason = w, r.Reference, string(r.State), string(r.CloseReason)
			}
		}
		p.Shops = append(p.Shops, node)
	}
	for _, l := range n.Links {
		p.Links = append(p.Links, page.ClusterLink{A: l.ShopAID, B: l.ShopBID, Kind: string(l.Kind), Note: l.Note})
	}
	ties, err := s.Network.Ties(ctx, actorOf(c), ids)
	if err != nil {
		return err
	}
	for _, t := range ties {
		p.Ties = append(p.Ties, page.ClusterTie{Kind: string(t.Kind), Masked: t.Masked, Shops: t.Shops})
	}
	totals, err := s.Enforcement.TotalsOf(ctx, caseIDs)
	if err != nil {
		return err
	}
	p.Sales, p.Seized = totals.Sales, totals.Seized
	flags, err := s.Flags.ForShops(ctx, ids)
	if err != nil {
		return err
	}
	p.Flags = len(flags)
	return s.render(c, http.StatusOK, page.Cluster(p))
}
