package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/evidence"
	"spotcheck/internal/purchase"
	"spotcheck/internal/sharing"
	"spotcheck/internal/verdict"
	"spotcheck/web/view/page"
)

// The brand's side of a case, as internal/sharing shapes it for the
// actor: what reached the brand, and its verdict. Anything else is not found.

const ctxBrandCase = "spotcheck.brand_case"

// loadBrandCase is the load-and-authorize middleware of /authentications/:ref.
func (s *Server) loadBrandCase(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		bc, err := s.Sharing.BrandCase(c.Request().Context(), actorOf(c), c.Param("ref"))
		if err != nil {
			return err
		}
		c.Set(ctxBrandCase, bc)
		return next(c)
	}
}

func brandCaseOf(c echo.Context) sharing.BrandCase { return c.Get(ctxBrandCase).(sharing.BrandCase) }

func (s *Server) showBrandCase(c echo.Context) error {
	return s.renderBrandCase(c, http.StatusOK, brandCaseOf(c), page.VerdictForm{})
}

func (s *Server) renderBrandCase(c echo.Context, status int, bc sharing.BrandCase, f page.VerdictForm) error {
	p := page.BrandCasePage{Reference: bc.Case.Reference, State: string(bc.Case.State), Version: bc.Case.Version, ShopName: bc.ShopName,
		Platform: bc.Platform, Form: f, MaxUploadMB: s.Config.MaxUpload >> 20, Verdicts: bc.Verdicts, Current: bc.Current, CanJudge: bc.CanJudge}
	for _, l := range bc.Listings {
		p.Listings = append(p.Listings, page.Listing{Title: l.Title, URL: l.URL})
	}
	for _, f := range bc.Files {
		p.Evidence = append(p.Evidence, page.EvidenceItem{ID: f.ID, Kind: string(f.Kind), ContentType: f.ContentType,
			OriginalName: f.Name, UploadedAt: f.UploadedAt, Image: f.Thumbnail})
	}
	for _, it := range bc.Items {
		iv := page.ItemView{Item: it.Item, CanAccept: it.CanAccept}
		for _, l := range it.Lines {
			iv.Lines = append(iv.Lines, brandLine(c, l))
		}
		p.Items = append(p.Items, iv)
	}
	return s.render(c, status, page.BrandCase(p))
}

// brandLine names a brand-facing custody line's parties: buyers and brands
// by the names the line carries, the others by their role.
func brandLine(c echo.Context, l purchase.Line) page.CustodyLine {
	party := func(kind purchase.Party, name string) string {
		switch {
		case name != "":
			return name
		case kind == "":
			return i18nT(c, "party.seller")
		}
		return i18nT(c, "party."+kind)
	}
	return page.CustodyLine{Step: l.Step, From: party(l.FromKind, l.From), To: party(l.ToKind, l.To), At: l.At, Method: l.Method,
		Carrier: l.Carrier, Seal: l.Seal, SealIntact: l.SealIntact, Condition: l.Condition, Place: l.Place}
}

// submitVerdict records the brand's signed verdict with its report and
// photos, streamed to storage, and fires the verdict's transition.
func (s *Server) submitVerdict(c echo.Context) error {
	cs := brandCaseOf(c).Case
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
		status, errs, ferr := refusal(err) // an item not with the brand: not found

		if ferr != nil {
			return ferr
		}
		fresh, err := s.Sharing.BrandCase(c.Request().Context(), actorOf(c), cs.Reference) // as it is now: someone may have moved it
		if err != nil {
			return err
		}
		return s.renderBrandCase(c, status, fresh, page.VerdictForm{In: in, Errors: errs})
	}
	return s.redirect(c, "/authentications/"+cs.Reference, "success", "verdict.submitted")
}
