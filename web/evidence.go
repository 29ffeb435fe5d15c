package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"gocloud.dev/gcerrors"

	"spotcheck/internal/authz"
	"spotcheck/internal/evidence"
	"spotcheck/internal/role"
	"spotcheck/internal/valid"
	"spotcheck/web/view/page"
)

// downloadEvidence sends the file as an attachment: never rendered by the
// browser in the app's origin, whatever it holds. Which bytes (the
// original, or a metadata-free derivative) is the sharing service's call.
func (s *Server) downloadEvidence(c echo.Context) error {
	return s.sendEvidence(c, false, "attachment")
}

// thumbEvidence shows a thumbnail inline on the pages that list files.
func (s *Server) thumbEvidence(c echo.Context) error { return s.sendEvidence(c, true, "inline") }

func (s *Server) sendEvidence(c echo.Context, thumb bool, disposition string) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	d, err := s.Sharing.Open(ctx, actorOf(c), id, thumb)
	if err != nil {
		return err
	}
	r, err := s.Evidence.Open(ctx, d.Key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		// On record but gone from storage: the integrity check reports it.
		s.Logger.ErrorContext(ctx, "evidence file missing from storage", "evidence", d.Evidence.ID, "key", d.Key)
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer r.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, d.ContentType)
	h.Set(echo.HeaderContentLength, strconv.FormatInt(d.Size, 10))
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType(disposition, map[string]string{"filename": d.Name}))
	h.Set(echo.HeaderContentSecurityPolicy, "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	c.Response().WriteHeader(http.StatusOK)
	_, err = io.Copy(c.Response(), r)
	return err
}

// withdrawEvidence records that a file was uploaded by mistake; it stays
// on record with the reason.
func (s *Server) withdrawEvidence(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	e, ref, err := s.Sharing.Withdraw(c.Request().Context(), actorOf(c), id, c.FormValue("reason"))
	back := "/cases/" + ref + "#evidence"
	if actorOf(c).Role == role.Volunteer && e.PurchaseID != nil {
		back = "/assignments/" + strconv.FormatInt(*e.PurchaseID, 10)
	}
	if errors.Is(err, evidence.ErrWithdrawn) {
		return s.redirect(c, back, "error", "error.already_withdrawn")
	}
	if errs, ok := valid.As(err); ok {
		key := errs["reason"]
		if key == "" {
			key = "error.invalid"
		}
		return s.redirect(c, back, "error", key)
	}
	if err != nil {
		return err
	}
	return s.redirect(c, back, "success", "evidence.withdrawn_done")
}

// uploadCaseEvidence: staff add files to a case (reports, police
// documents, photos), choosing whether the brand may see them.
func (s *Server) uploadCaseEvidence(c echo.Context) error {
	cs := caseOf(c)
	if !authz.Can(actorOf(c), authz.UploadEvidence, cs.Subject()) {
		return echo.ErrForbidden // before reading any file
	}
	up, err := s.readUpload(c, chosenKind)
	if err == nil {
		vis := evidence.StaffOnly
		if up.Values.Get("brand_visible") != "" {
			vis = evidence.BrandVisible
		}
		if err = s.Sharing.Attach(c.Request().Context(), actorOf(c), cs, vis, up.Files); err != nil {
			s.discard(c.Request().Context(), up.Files)
		}
	}
	if err != nil {
		status, errs, ferr := refusal(err)
		if ferr != nil {
			return ferr
		}
		return s.renderCaseWith(c, status, cs, caseForms{Errors: errs, Evidence: page.StepForm{Step: "evidence", Values: up.Values, Errors: errs}})
	}
	return s.redirect(c, "/cases/"+cs.Reference+"#evidence", "success", "evidence.uploaded")
}
