package web

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/evidence"
	"spotcheck/internal/i18n"
	"spotcheck/web/view/page"
)

// enforcementPanel fills the case page's enforcement section.
func (s *Server) enforcementPanel(c echo.Context, cs casework.Case, p *page.CasePage) error {
	rec, err := s.Enforcement.ForCase(c.Request().Context(), cs.ID)
	if err != nil {
		return err
	}
	p.Enforcement = rec
	p.CanEnforce = authz.Can(actorOf(c), authz.Enforce, cs.Subject())
	if p.Claim, err = s.Enforcement.ClaimOf(c.Request().Context(), cs.ID); err != nil {
		return err
	}
	if p.Bundles, err = s.Bundles.Builds(c.Request().Context(), cs.ID); err != nil {
		return err
	}
	p.Ledger, err = s.Enforcement.CaseLedger(c.Request().Context(), cs.ID)
	return err
}

// refer fires refer_to_police with the referral's details.
func (s *Server) refer(c echo.Context) error {
	cs := caseOf(c)
	in := enforcement.ReferralInput{CaseVersion: atoi(c.FormValue("version")), Bureau: c.FormValue("bureau"), District: c.FormValue("district"),
		Contact: c.FormValue("contact"), ReferredOn: c.FormValue("referred_on"), LetterNumber: c.FormValue("letter_number")}
	_, err := s.Enforcement.Refer(c.Request().Context(), actorOf(c), cs.ID, in)
	return s.enforcementDone(c, err, c.Request().PostForm, "event.refer_to_police_done")
}

func (s *Server) progressReferral(c echo.Context) error {
	cs := caseOf(c)
	err := s.Enforcement.Progress(c.Request().Context(), actorOf(c), cs.ID, atoi(c.FormValue("referral_version")),
		enforcement.Status(c.FormValue("status")), c.FormValue("police_case_number"))
	return s.enforcementDone(c, err, c.Request().PostForm, "referral.updated")
}

// recordRaid records a raid with its seizure lines and police documents.
func (s *Server) recordRaid(c echo.Context) error {
	cs := caseOf(c)
	up, err := s.readUpload(c, fixedKinds(map[string]evidence.Kind{"documents": evidence.PoliceDocument}))
	if err == nil {
		in := enforcement.RaidInput{RaidedOn: up.Values.Get("raided_on"), Place: up.Values.Get("place"), Arrests: up.Values.Get("arrests"),
			EstimatedSales: up.Values.Get("estimated_sales"), Notes: up.Values.Get("notes")}
		for i := range page.RaidLines {
			n := strconv.Itoa(i)
			in.Lines = append(in.Lines, enforcement.LineInput{Description: up.Values.Get("line_desc_" + n),
				Quantity: up.Values.Get("line_qty_" + n), UnitValue: up.Values.Get("line_value_" + n)})
		}
		if _, err = s.Enforcement.RecordRaid(c.Request().Context(), actorOf(c), cs.ID, in, up.Files); err != nil {
			s.discard(c.Request().Context(), up.Files)
		}
	}
	return s.enforcementDone(c, err, up.Values, "raid.recorded")
}

// enforcementDone: back to the case's enforcement section, or the case
// again as it is now with what was typed, field errors beside their
// fields and a refusal of the whole form once, in the enforcement section.
func (s *Server) enforcementDone(c echo.Context, err error, typed url.Values, done string) error {
	if err != nil {
		return s.caseRefused(c, err, caseForms{Enforce: page.StepForm{Step: "enforce", Values: typed}})
	}
	return s.redirect(c, "/cases/"+caseOf(c).Reference+"#enforcement", "success", done)
}

// fileClaim fires file_claim with the claim's details.
func (s *Server) fileClaim(c echo.Context) error {
	cs := caseOf(c)
	in := enforcement.ClaimInput{CaseVersion: atoi(c.FormValue("version")), Court: c.FormValue("court"),
		CourtCaseNumber: c.FormValue("court_case_number"), FiledOn: c.FormValue("filed_on"), Basis: c.FormValue("basis"),
		BasisNote: c.FormValue("basis_note"), Amount: c.FormValue("amount")}
	_, err := s.Enforcement.FileClaim(c.Request().Context(), actorOf(c), cs.ID, in)
	return s.enforcementDone(c, err, c.Request().PostForm, "event.file_claim_done")
}

func (s *Server) addHearing(c echo.Context) error {
	err := s.Enforcement.AddHearing(c.Request().Context(), actorOf(c), caseOf(c).ID, c.FormValue("held_on"), c.FormValue("note"))
	return s.enforcementDone(c, err, c.Request().PostForm, "claim.hearing_added")
}

// claimOutcome fires record_judgment or settle with the amount.
func (s *Server) claimOutcome(c echo.Context) error {
	in := enforcement.OutcomeInput{CaseVersion: atoi(c.FormValue("version")), Outcome: c.FormValue("outcome"),
		Amount: c.FormValue("outcome_amount"), On: c.FormValue("outcome_on")}
	err := s.Enforcement.RecordOutcome(c.Request().Context(), actorOf(c), caseOf(c).ID, in)
	return s.enforcementDone(c, err, c.Request().PostForm, "claim.outcome_recorded")
}

func (s *Server) addPayment(c echo.Context) error {
	err := s.Enforcement.AddPayment(c.Request().Context(), actorOf(c), caseOf(c).ID, c.FormValue("payment_amount"),
		c.FormValue("received_on"), c.FormValue("payment_note"))
	return s.enforcementDone(c, err, c.Request().PostForm, "claim.payment_added")
}

// requestBundle queues the default (redacted) evidence bundle of the
// case, in the user's language; the case page shows its progress.
func (s *Server) requestBundle(c echo.Context) error {
	cs := caseOf(c)
	ctx := c.Request().Context()
	if _, err := s.Bundles.Request(ctx, actorOf(c), cs.ID, i18n.From(ctx)); err != nil {
		return err
	}
	return s.redirect(c, "/cases/"+cs.Reference+"#bundles", "success", "bundle.requested")
}

// requestUnredacted queues the unredacted export for a court order; the
// reason typed is required and audited.
func (s *Server) requestUnredacted(c echo.Context) error {
	cs := caseOf(c)
	ctx := c.Request().Context()
	_, err := s.Bundles.RequestUnredacted(ctx, actorOf(c), cs.ID, i18n.From(ctx), c.FormValue("reason"))
	if err == nil {
		return s.redirect(c, "/cases/"+cs.Reference+"#bundles", "success", "bundle.requested")
	}
	return s.enforcementDone(c, err, c.Request().PostForm, "bundle.requested")
}

// downloadBundle sends a built bundle of this case.
func (s *Server) downloadBundle(c echo.Context) error {
	cs := caseOf(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	b, err := s.Bundles.Get(c.Request().Context(), cs.ID, id)
	if err != nil || b.Status != "done" {
		return echo.ErrNotFound
	}
	r, err := s.Evidence.Bucket.NewReader(c.Request().Context(), b.BlobKey, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/zip")
	h.Set(echo.HeaderContentLength, strconv.FormatInt(b.Size, 10))
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-bundle-%d-%s.zip"`, cs.Reference, b.ID, b.Kind))
	h.Set(echo.HeaderContentSecurityPolicy, "sandbox; default-src 'none'")
	c.Response().WriteHeader(http.StatusOK)
	_, err = io.Copy(c.Response(), r)
	return err
}
