package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/deadline"
	"spotcheck/internal/shop"
	"spotcheck/internal/verdict"
	"spotcheck/web/view/page"
)

const ctxCase = "spotcheck.case"

// loadCase is the load-and-authorize middleware for /cases/:ref: a case
// the actor may not see is simply not found.
func (s *Server) loadCase(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		cs, err := s.Cases.ByReference(c.Request().Context(), actorOf(c), c.Param("ref"))
		if err != nil {
			return err
		}
		c.Set(ctxCase, cs)
		return next(c)
	}
}

func caseOf(c echo.Context) casework.Case { return c.Get(ctxCase).(casework.Case) }

func (s *Server) showCase(c echo.Context) error {
	return s.renderCaseWith(c, http.StatusOK, caseOf(c), caseForms{})
}

// caseForms is what was typed into the case page's forms and what was
// wrong with it, kept when an action is refused.
type caseForms struct {
	Errors   map[string]string // event, note, investigator, body, conflict, and the purchase panel's fields
	Note     string
	Comment  string
	Evidence page.StepForm
	Custody  page.StepForm
	Enforce  page.StepForm
}

// renderCaseWith shows the case with what this actor may do now, taken
// from the transition table.
func (s *Server) renderCaseWith(c echo.Context, status int, cs casework.Case, f caseForms) error {
	ctx := c.Request().Context()
	actor := actorOf(c)
	errs, note, comment := f.Errors, f.Note, f.Comment
	sh, err := s.Shops.Get(ctx, cs.ShopID)
	if err != nil {
		return err
	}
	b, err := s.Brands.Get(ctx, cs.BrandID)
	if err != nil {
		return err
	}
	p := page.CasePage{Errors: errs, Note: note, Comment: comment,
		Case: page.CaseSummary{ID: cs.ID, Reference: cs.Reference, State: string(cs.State), CloseReason: string(cs.CloseReason),
			Version: cs.Version, RiskScore: cs.RiskScore, BrandName: b.Name, ShopID: sh.ID, ShopName: sh.Name, Platform: sh.Platform,
			ShopOwner: sh.RegisteredOwner, ClusterID: clusterID(sh), OpenedAt: cs.OpenedAt, UpdatedAt: cs.UpdatedAt},
		CanAssign:  authz.Can(actor, authz.AssignCase, cs.Subject()),
		CanComment: authz.Can(actor, authz.CommentCase, cs.Subject()),
	}
	for _, t := range casework.Available(actor, cs) {
		p.Actions = append(p.Actions, page.CaseAction{Event: string(t.Event), NeedsNote: t.NeedsNote, Via: t.Via})
	}
	if err := s.purchasePanel(c, cs, &p, f); err != nil {
		return err
	}
	if p.Verdicts, err = s.Verdicts.ForCase(ctx, cs.ID); err != nil {
		return err
	}
	p.Verdict = verdict.Current(p.Verdicts)
	p.EnforceForm = f.Enforce
	if err := s.enforcementPanel(c, cs, &p); err != nil {
		return err
	}
	if err := s.deadlinePanel(c, cs, b.Name, &p); err != nil {
		return err
	}
	if cs.InvestigatorID != nil {
		p.InvestigatorID = *cs.InvestigatorID
	}
	if p.CanAssign {
		if p.Investigators, err = s.investigatorOptions(c); err != nil {
			return err
		}
	}
	flags, err := s.Flags.ForCase(ctx, cs.ID)
	if err != nil {
		return err
	}
	for _, f := range flags {
		p.Flags = append(p.Flags, inboxFlag(f))
	}
	if p.Linked, err = s.linkedShops(c, sh.ID); err != nil {
		return err
	}
	// A linked shop is offered as a case of this brand once the verdict
	// in force is counterfeit and the shop has no open case of the brand.
	if p.Verdict != nil && p.Verdict.Result == verdict.Counterfeit && authz.Can(actor, authz.TriageFlags, cs.Subject()) {
		for i, l := range p.Linked {
			open := false
			for _, r := range l.Cases {
				open = open || (r.BrandName == b.Name && r.State != string(casework.Closed))
			}
			p.Linked[i].OfferCase = !open
		}
	}
	entries, err := s.Cases.Timeline(ctx, cs.ID)
	if err != nil {
		return err
	}
	var ids []int64
	for _, e := range entries {
		if e.ActorID != nil {
			ids = append(ids, *e.ActorID)
		}
	}
	if cs.InvestigatorID != nil {
		ids = append(ids, *cs.InvestigatorID)
	}
	names, err := s.Users.Names(ctx, ids)
	if err != nil {
		return err
	}
	if cs.InvestigatorID != nil {
		p.Case.Investigator = names[*cs.InvestigatorID]
	}
	for _, e := range entries {
		te := page.TimelineEntry{At: e.At, Kind: e.Kind, Event: e.Event, FromState: e.FromState, ToState: e.ToState, Note: e.Note}
		if e.ActorID != nil {
			te.Who = names[*e.ActorID]
		}
		p.Timeline = append(p.Timeline, te)
	}
	return s.render(c, status, page.Case(p))
}

// linkedShops lists the other shops of shopID's seller network (its
// cluster) with their cases: those linked to it directly with the link's
// kind and note, the rest as in the same network.
func (s *Server) linkedShops(c echo.Context, shopID int64) ([]page.LinkedShop, error) {
	ctx := c.Request().Context()
	group, err := s.Shops.Group(ctx, shopID)
	if err != nil || len(group) < 2 {
		return nil, err
	}
	others := group[1:]
	links, err := s.Shops.Links(ctx, shopID)
	if err != nil {
		return nil, err
	}
	direct := map[int64]shop.Link{}
	for _, l := range links {
		direct[l.Other(shopID)] = l
	}
	shops, err := s.Shops.Shops(ctx, others)
	if err != nil {
		return nil, err
	}
	rows, err := s.Cases.ForShops(ctx, actorOf(c), others)
	if err != nil {
		return nil, err
	}
	var out []page.LinkedShop
	for _, id := range others {
		o := shops[id]
		ls := page.LinkedShop{ID: o.ID, Name: o.Name, Platform: o.Platform, Kind: "network"}
		if l, ok := direct[id]; ok {
			ls.Kind, ls.Note = string(l.Kind), l.Note
		}
		for _, r := range rows {
			if r.ShopID == o.ID {
				ls.Cases = append(ls.Cases, caseRow(r))
			}
		}
		out = append(out, ls)
	}
	return out, nil
}

// fireTransition fires one event of the table. A stale version (someone
// else moved the case first) shows the fresh case with a reload message.
func (s *Server) fireTransition(c echo.Context) error {
	cs := caseOf(c)
	ev, ok := casework.ParseEvent(c.FormValue("event"))
	version, err := strconv.Atoi(c.FormValue("version"))
	if !ok || err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad event or version")
	}
	note := c.FormValue("note")
	_, err = s.Cases.Fire(c.Request().Context(), actorOf(c), cs.ID, version, ev, note)
	if err != nil {
		return s.caseActionFailed(c, err, note, "")
	}
	return s.redirect(c, "/cases/"+cs.Reference, "success", "event."+string(ev)+"_done")
}

func (s *Server) assignCase(c echo.Context) error {
	cs := caseOf(c)
	version, err1 := strconv.Atoi(c.FormValue("version"))
	inv, err2 := strconv.ParseInt(c.FormValue("investigator"), 10, 64)
	if err1 != nil || err2 != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad version or investigator")
	}
	if _, err := s.Cases.Assign(c.Request().Context(), actorOf(c), cs.ID, version, inv); err != nil {
		return s.caseActionFailed(c, err, "", "")
	}
	return s.redirect(c, "/cases/"+cs.Reference, "success", "case.assigned")
}

func (s *Server) commentCase(c echo.Context) error {
	cs := caseOf(c)
	body := c.FormValue("body")
	if err := s.Cases.Comment(c.Request().Context(), actorOf(c), cs.ID, body); err != nil {
		return s.caseActionFailed(c, err, "", body)
	}
	return s.redirect(c, "/cases/"+cs.Reference+"#timeline", "success", "case.commented")
}

// caseActionFailed re-renders the case as it is now, keeping what was
// typed, with the problem shown where it belongs.
func (s *Server) caseActionFailed(c echo.Context, err error, note, comment string) error {
	return s.caseRefused(c, err, caseForms{Note: note, Comment: comment})
}

// caseRefused is the case page's form re-render on refusal: the case as
// it is now, f's typed values kept and the refusal's messages beside
// their fields — in the enforcement section when f holds its form.
func (s *Server) caseRefused(c echo.Context, err error, f caseForms) error {
	status, errs, err := refusal(err)
	if err != nil {
		return err
	}
	fresh, err := s.Cases.Get(c.Request().Context(), actorOf(c), caseOf(c).ID)
	if err != nil {
		return err
	}
	if f.Enforce.Step != "" {
		f.Enforce.Errors = errs
	} else {
		f.Errors = errs
	}
	return s.renderCaseWith(c, status, fresh, f)
}

// openLinkedCase opens a case for this brand on a linked shop, once the
// counterfeit verdict is in force.
func (s *Server) openLinkedCase(c echo.Context) error {
	cs := caseOf(c)
	shopID, err := strconv.ParseInt(c.FormValue("shop"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	opened, err := s.Verdicts.OpenLinkedCase(c.Request().Context(), actorOf(c), cs.ID, shopID)
	if err != nil {
		return s.refusedBack(c, err, "/cases/"+cs.Reference)
	}
	return s.redirect(c, "/cases/"+opened.Reference, "success", "case.linked_opened")
}

// deadlinePanel fills the case page's deadlines: each step with who must
// act, named (the staff's page: a volunteer's name is staff-side).
func (s *Server) deadlinePanel(c echo.Context, cs casework.Case, brandName string, p *page.CasePage) error {
	ctx := c.Request().Context()
	open, done, err := s.Deadlines.ForCase(ctx, actorOf(c), cs.Subject(), cs.ID)
	if err != nil {
		return err
	}
	var ids []int64
	for _, d := range append(append([]deadline.Deadline(nil), open...), done...) {
		if d.Party != deadline.Brand {
			ids = append(ids, d.PartyID)
		}
	}
	names, err := s.Users.Names(ctx, ids)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	row := func(d deadline.Deadline) page.DeadlineRow {
		r := deadlineRow(d, now)
		if d.Party == deadline.Brand {
			r.Who = brandName
		} else {
			r.Who = names[d.PartyID]
		}
		return r
	}
	for _, d := range open {
		p.Deadlines = append(p.Deadlines, row(d))
	}
	for _, d := range done {
		p.DeadlinesDone = append(p.DeadlinesDone, row(d))
	}
	return nil
}

// firstDue keys deadlines listed soonest first by what a screen shows them
// on (a case, a purchase): the first of each is its next step.
func (s *Server) firstDue(ds []deadline.Deadline, key func(deadline.Deadline) int64) map[int64]page.DeadlineRow {
	out := map[int64]page.DeadlineRow{}
	now := s.Clock.Now()
	for _, d := range ds {
		if _, seen := out[key(d)]; !seen {
			out[key(d)] = deadlineRow(d, now)
		}
	}
	return out
}

// deadlineRow is a deadline as every table of them shows it.
func deadlineRow(d deadline.Deadline, now time.Time) page.DeadlineRow {
	return page.DeadlineRow{Kind: string(d.Kind), Party: string(d.Party), DueAt: d.DueAt, DoneAt: d.DoneAt,
		Overdue: d.Overdue(now), Stage: int(d.Stage)}
}
