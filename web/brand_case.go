package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/evidence"
	"spotcheck/internal/purchase"
	"spotcheck/internal/verdict"
	"spotcheck/web/view/page"
)

// The brand's side of a case: what reached the brand, and its verdict.
// A brand user sees a case of their brand only once an item is on its way
// to, or with, the brand; buyers appear by pseudonym; evidence only when
// marked brand-visible. Anything else is not found.

const ctxBrandCase = "spotcheck.brand_case"

// loadBrandCase is the load-and-authorize middleware of /authentications/:ref.
func (s *Server) loadBrandCase(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		var cs casework.Case
		if err := s.DB.Gorm.WithContext(ctx).Where("reference = ?", c.Param("ref")).Take(&cs).Error; err != nil {
			return database.NotFound(err)
		}
		sub := cs.Subject()
		if actorOf(c).HasBrand(cs.BrandID) {
			reached, err := s.Purchases.ReachedBrand(ctx, cs.ID, cs.BrandID)
			if err != nil {
				return err
			}
			sub.Shared = reached
		}
		if !authz.Can(actorOf(c), authz.ViewBrandCase, sub) {
			return database.ErrNotFound
		}
		c.Set(ctxBrandCase, cs)
		return next(c)
	}
}

func brandCaseOf(c echo.Context) casework.Case { return c.Get(ctxBrandCase).(casework.Case) }

func (s *Server) showBrandCase(c echo.Context) error {
	return s.renderBrandCase(c, http.StatusOK, brandCaseOf(c), page.VerdictForm{})
}

func (s *Server) renderBrandCase(c echo.Context, status int, cs casework.Case, f page.VerdictForm) error {
	ctx := c.Request().Context()
	sh, err := s.Shops.Get(ctx, cs.ShopID)
	if err != nil {
		return err
	}
	p := page.BrandCasePage{Reference: cs.Reference, State: string(cs.State), Version: cs.Version, ShopName: sh.Name,
		Platform: sh.Platform, Form: f, MaxUploadMB: s.Config.MaxUpload >> 20}
	flags, err := s.Flags.ForCase(ctx, cs.ID)
	if err != nil {
		return err
	}
	for _, fl := range flags {
		if fl.ListingTitle != "" || fl.ListingURL != "" {
			p.Listings = append(p.Listings, page.Listing{Title: fl.ListingTitle, URL: fl.ListingURL})
		}
	}
	all, err := evidence.ForCase(ctx, s.DB.Gorm.WithContext(ctx), cs.ID)
	if err != nil {
		return err
	}
	for _, e := range all {
		if e.Visibility == evidence.BrandVisible {
			p.Evidence = append(p.Evidence, evidenceItem(e, false)) // no uploader names
		}
	}
	chains, err := s.Purchases.Chains(ctx, cs.ID)
	if err != nil {
		return err
	}
	var reached []purchase.Chain // an item that never reached the brand is not the brand's to see
	for _, ch := range chains {
		if ch.Item.HolderKind == purchase.PartyBrand || (ch.Item.PendingKind != nil && *ch.Item.PendingKind == purchase.PartyBrand) {
			reached = append(reached, ch)
		}
	}
	lines, err := s.custodyLines(c, reached...)
	if err != nil {
		return err
	}
	for n, ch := range reached {
		p.Items = append(p.Items, page.ItemView{Item: ch.Item, Lines: lines[n], CanAccept: ch.Item.PendingKind != nil})
		if ch.Item.PendingKind == nil {
			p.CanJudge = cs.State == casework.Authenticating || cs.State == casework.Confirmed
		}
	}
	if p.Verdicts, err = s.Verdicts.ForCase(ctx, cs.ID); err != nil {
		return err
	}
	p.Current = verdict.Current(p.Verdicts)
	return s.render(c, status, page.BrandCase(p))
}

// submitVerdict records the brand's signed verdict with its report and
// photos, streamed to storage, and fires the verdict's transition.
func (s *Server) submitVerdict(c echo.Context) error {
	cs := brandCaseOf(c)
	up, err := s.readUpload(c, func(field string, _ url.Values) (evidence.Kind, bool) {
		switch {
		case field == "report":
			return evidence.Report, true
		case field == "photos", strings.HasPrefix(field, "photo_"):
			return evidence.ItemPhoto, true
		}
		return "", false
	})
	in := verdict.Input{CaseVersion: atoi(up.Values.Get("version")), Result: up.Values.Get("result"),
		Outcomes: map[string]string{}, Notes: map[string]string{}, Authenticator: up.Values.Get("authenticator"),
		Summary: up.Values.Get("summary"), SignedName: up.Values.Get("signed_name"), Confirmed: up.Values.Get("confirm") != "",
		SupersedeReason: up.Values.Get("supersede_reason")}
	for _, item := range verdict.Items {
		in.Outcomes[item], in.Notes[item] = up.Values.Get("check_"+item), up.Values.Get("note_"+item)
	}
	if err == nil {
		var report, photos []evidence.Upload
		lines := map[string][]evidence.Upload{} // photos of one checklist line
		for i, f := range up.Files {
			switch field := up.Fields[i]; {
			case f.Kind == evidence.Report:
				report = append(report, f)
			case strings.HasPrefix(field, "photo_"):
				lines[strings.TrimPrefix(field, "photo_")] = append(lines[strings.TrimPrefix(field, "photo_")], f)
			default:
				photos = append(photos, f)
			}
		}
		if len(report) > 1 {
			report, photos = report[:1], append(photos, report[1:]...)
		}
		if _, err = s.Verdicts.Submit(c.Request().Context(), actorOf(c), cs.ID, in, report, photos, lines); err != nil {
			s.discard(c.Request().Context(), up.Files)
		}
	}
	if err != nil {
		if errors.Is(err, verdict.ErrNotWithBrand) {
			return database.ErrNotFound
		}
		status, errs, ferr := caseRefusal(err)
		if ferr != nil {
			return ferr
		}
		var fresh casework.Case // as it is now: someone may have moved it
		if err := s.DB.Gorm.WithContext(c.Request().Context()).Take(&fresh, cs.ID).Error; err != nil {
			return err
		}
		return s.renderBrandCase(c, status, fresh, page.VerdictForm{In: in, Errors: errs})
	}
	return s.redirect(c, "/authentications/"+cs.Reference, "success", "verdict.submitted")
}
