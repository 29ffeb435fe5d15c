package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"gocloud.dev/gcerrors"

	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/evidence"
	"spotcheck/internal/role"
	"spotcheck/internal/valid"
	"spotcheck/web/view/page"
)

// loadEvidence finds an evidence file and asks the policy whether the
// actor may have it, on every request: not allowed is not found.
func (s *Server) loadEvidence(c echo.Context, action authz.Action) (evidence.Evidence, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return evidence.Evidence{}, database.ErrNotFound
	}
	ctx := c.Request().Context()
	e, err := evidence.Get(ctx, s.DB.Gorm.WithContext(ctx), id)
	if err != nil {
		return e, err
	}
	sub, err := s.Purchases.EvidenceSubject(ctx, e.CaseID, e.PurchaseID, e.Visibility == evidence.BrandVisible)
	if err != nil {
		return e, err
	}
	if !authz.Can(actorOf(c), authz.ViewEvidence, sub) {
		return e, database.ErrNotFound
	}
	if action == authz.WithdrawEvidence {
		sub.OwnerID = e.UploadedBy
		if !authz.Can(actorOf(c), action, sub) {
			return e, database.ErrNotFound
		}
	}
	return e, nil
}

// downloadEvidence sends the file as an attachment: never rendered by the
// browser in the app's origin, whatever it holds.
func (s *Server) downloadEvidence(c echo.Context) error {
	e, err := s.loadEvidence(c, authz.ViewEvidence)
	if err != nil {
		return err
	}
	return s.sendEvidence(c, e, "attachment")
}

// thumbEvidence shows an image inline for the thumbnails of the case page.
func (s *Server) thumbEvidence(c echo.Context) error {
	e, err := s.loadEvidence(c, authz.ViewEvidence)
	if err != nil {
		return err
	}
	if !isImage(e.ContentType) {
		return database.ErrNotFound
	}
	return s.sendEvidence(c, e, "inline")
}

func (s *Server) sendEvidence(c echo.Context, e evidence.Evidence, disposition string) error {
	r, err := s.Evidence.Open(c.Request().Context(), e.BlobKey)
	if gcerrors.Code(err) == gcerrors.NotFound {
		// On record but gone from storage: the integrity check reports it.
		s.Logger.ErrorContext(c.Request().Context(), "evidence file missing from storage", "evidence", e.ID, "key", e.BlobKey)
		return database.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer r.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, e.ContentType)
	h.Set(echo.HeaderContentLength, strconv.FormatInt(e.Size, 10))
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType(disposition, map[string]string{"filename": downloadName(e)}))
	h.Set(echo.HeaderContentSecurityPolicy, "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	c.Response().WriteHeader(http.StatusOK)
	_, err = io.Copy(c.Response(), r)
	return err
}

// downloadName is the client's name when it had one (untrusted: only the
// base name, as a header parameter), else the kind and the id.
func downloadName(e evidence.Evidence) string {
	name := path.Base(strings.ReplaceAll(e.OriginalName, "\\", "/"))
	if name == "" || name == "." || name == "/" {
		exts, _ := mime.ExtensionsByType(e.ContentType)
		ext := ""
		if len(exts) > 0 {
			ext = exts[0]
		}
		name = string(e.Kind) + "-" + strconv.FormatInt(e.ID, 10) + ext
	}
	return name
}

func isImage(ct string) bool {
	return ct == "image/jpeg" || ct == "image/png" || ct == "image/webp"
}

// withdrawEvidence records that a file was uploaded by mistake; it stays
// on record with the reason.
func (s *Server) withdrawEvidence(c echo.Context) error {
	e, err := s.loadEvidence(c, authz.WithdrawEvidence)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	back := "/cases/" + s.caseRef(c, e.CaseID) + "#evidence"
	if actorOf(c).Role == role.Volunteer && e.PurchaseID != nil {
		back = "/assignments/" + strconv.FormatInt(*e.PurchaseID, 10)
	}
	err = evidence.Withdraw(ctx, s.DB, actorOf(c), e.ID, c.FormValue("reason"))
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

func (s *Server) caseRef(c echo.Context, caseID int64) string {
	var ref string
	_ = s.DB.Gorm.WithContext(c.Request().Context()).Raw("SELECT reference FROM cases WHERE id = ?", caseID).Row().Scan(&ref)
	return ref
}

// uploadCaseEvidence: staff add files to a case (reports, police
// documents, photos), choosing whether the brand may see them.
func (s *Server) uploadCaseEvidence(c echo.Context) error {
	cs := caseOf(c)
	if !authz.Can(actorOf(c), authz.UploadEvidence, cs.Subject()) {
		return echo.ErrForbidden
	}
	up, err := s.readUpload(c, chosenKind)
	if err == nil {
		vis := evidence.StaffOnly
		if up.Values.Get("brand_visible") != "" {
			vis = evidence.BrandVisible
		}
		if err = evidence.Attach(c.Request().Context(), s.DB, actorOf(c), cs.ID, cs.Reference, vis, up.Files); err != nil {
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
