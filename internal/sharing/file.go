package sharing

import (
	"context"
	"errors"
	"mime"
	"path"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/evidence"
	"spotcheck/internal/purchase"
	"spotcheck/internal/role"
)

// Originals are seen by staff (and by the volunteer who took them); every
// image anyone else gets is a metadata-free derivative, under a name the
// server makes up. A file a volunteer uploaded reaches outsiders only as
// a derivative: their HEIC photos and PDFs, which have none, stay with
// staff. A report or document staff or a brand put on the case (no
// buyer's device made it) is shared as it is.

// sharedRow is an evidence file shared with its case's brand, with what
// naming and judging it needs.
type sharedRow struct {
	evidence.Evidence
	UploaderRole  role.Role
	ItemNumber    *string
	CaseReference string
}

// sharedFiles selects the files of case caseID shared with its brand (one
// file when id is not 0): brand-visible, not withdrawn, and either the
// case's own (a case that reached the brand) or of a purchase whose item
// was released to the brand.
func sharedFiles(db *gorm.DB, caseID, id int64) ([]sharedRow, error) {
	q := `SELECT e.*, u.role AS uploader_role, i.number AS item_number, c.reference AS case_reference FROM evidence e
		JOIN cases c ON c.id = e.case_id JOIN users u ON u.id = e.uploaded_by LEFT JOIN items i ON i.purchase_id = e.purchase_id
		WHERE e.case_id = ? AND e.visibility = ? AND e.kind <> ? AND e.withdrawn_at IS NULL AND ` + purchase.CaseReachedBrandSQL + `
		AND (e.purchase_id IS NULL OR e.purchase_id IN (` + purchase.SharedPurchasesSQL + `))`
	// A parcel photo shows the label (the buyer's name and address): never
	// shared, whatever visibility it was recorded with before intake made
	// parcel photos staff-only.
	args := []any{caseID, evidence.BrandVisible, evidence.ParcelPhoto, caseID}
	if id != 0 {
		q, args = q+" AND e.id = ?", append(args, id)
	}
	var rows []sharedRow
	err := db.Raw(q+" ORDER BY e.id", args...).Scan(&rows).Error
	return rows, err
}

// outsiderMay: the file can leave the staff side in a clean form.
func (r sharedRow) outsiderMay() bool {
	return evidence.Derivable(r.ContentType) || LeavesAsIs(r.ContentType, r.UploaderRole)
}

// LeavesAsIs reports whether a file may leave the staff side as it was
// received: a document (not an image) that staff or a brand put on the
// case. Images leave only as derivatives; a volunteer's documents not at all.
func LeavesAsIs(contentType string, uploader role.Role) bool {
	return !isImage(contentType) && uploader != role.Volunteer
}

// outsiderType is the content type of what an outsider gets.
func (r sharedRow) outsiderType() string { return outsideType(r.ContentType) }

// name is the file's name outside staff: the item (or case), the kind and
// the file's number, never the client's name.
func (r sharedRow) name() string {
	return OutsideName(r.Evidence, r.ItemNumber, r.CaseReference, r.outsiderType())
}

// OutsideName is the generated name of a file outside staff, e.g.
// SC-2026-000123-1-item-photo-42.jpg (the bundle names files the same way).
func OutsideName(e evidence.Evidence, itemNumber *string, caseRef, contentType string) string {
	base := caseRef
	if itemNumber != nil && *itemNumber != "" {
		base = *itemNumber
	}
	return base + "-" + strings.ReplaceAll(string(e.Kind), "_", "-") + "-" + strconv.FormatInt(e.ID, 10) + extension(contentType)
}

func extension(contentType string) string {
	switch contentType {
	case "image/jpeg":
		return ".jpg"
	case "application/pdf":
		return ".pdf"
	}
	if exts, _ := mime.ExtensionsByType(contentType); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

// outsideType is the content type of what an outsider gets of a file: a
// derivative's (PNG stays PNG, its alpha kept; other images become JPEG),
// or the file's own.
func outsideType(contentType string) string {
	if evidence.Derivable(contentType) && contentType != "image/png" {
		return "image/jpeg"
	}
	return contentType
}

func isImage(contentType string) bool { return strings.HasPrefix(contentType, "image/") }

// Download is what to send for one request of an evidence file.
type Download struct {
	Evidence    evidence.Evidence // the file on record
	Key         string            // the blob to send: the original or a derivative
	ContentType string
	Size        int64
	Name        string
}

// Evidence loads file id for the actor with its subject, or not found when
// the actor may not see it at all.
func (s *Service) Evidence(ctx context.Context, actor authz.Actor, id int64) (evidence.Evidence, authz.Subject, error) {
	db := s.db.Gorm.WithContext(ctx)
	e, err := evidence.Get(ctx, db, id)
	if err != nil {
		return e, authz.Subject{}, err
	}
	sub := authz.Subject{Kind: "evidence"}
	if err := db.Raw("SELECT brand_id FROM cases WHERE id = ?", e.CaseID).Row().Scan(&sub.BrandID); err != nil {
		return e, sub, err
	}
	if e.PurchaseID != nil {
		if err := db.Raw("SELECT volunteer_id FROM purchases WHERE id = ?", *e.PurchaseID).Row().Scan(&sub.OwnerID); err != nil {
			return e, sub, err
		}
	}
	if actor.Role == role.Brand && actor.HasBrand(sub.BrandID) {
		rows, err := sharedFiles(db, e.CaseID, e.ID)
		if err != nil {
			return e, sub, err
		}
		sub.Shared = len(rows) == 1 && rows[0].outsiderMay()
	}
	if !authz.Can(actor, authz.ViewEvidence, sub) {
		return evidence.Evidence{}, authz.Subject{}, database.ErrNotFound
	}
	return e, sub, nil
}

// Open decides which bytes of file id the actor gets: the original for
// staff and for the volunteer whose purchase it backs, a metadata-free
// derivative of an image for anyone else, a thumbnail (for everyone) when
// thumb is set. Not allowed, or no clean form to give, is not found.
func (s *Service) Open(ctx context.Context, actor authz.Actor, id int64, thumb bool) (Download, error) {
	e, sub, err := s.Evidence(ctx, actor, id)
	if err != nil {
		return Download{}, err
	}
	original := authz.Can(actor, authz.ViewOriginal, sub)
	name := downloadName(e)
	if !original {
		var ref string
		var item *string
		if err := s.db.Gorm.WithContext(ctx).Raw(`SELECT c.reference, i.number FROM cases c LEFT JOIN items i ON i.purchase_id = ?
			WHERE c.id = ?`, e.PurchaseID, e.CaseID).Row().Scan(&ref, &item); err != nil {
			return Download{}, err
		}
		name = OutsideName(e, item, ref, outsideType(e.ContentType))
	}
	switch {
	case thumb:
		return s.derived(ctx, e, evidence.Thumb320, "thumb-"+name)
	case original:
		return Download{Evidence: e, Key: e.BlobKey, ContentType: e.ContentType, Size: e.Size, Name: name}, nil
	case evidence.Derivable(e.ContentType):
		return s.derived(ctx, e, evidence.Clean, name)
	case !isImage(e.ContentType): // Evidence let it through: not a volunteer's
		return Download{Evidence: e, Key: e.BlobKey, ContentType: e.ContentType, Size: e.Size, Name: name}, nil
	}
	return Download{}, database.ErrNotFound
}

func (s *Service) derived(ctx context.Context, e evidence.Evidence, t evidence.Transform, name string) (Download, error) {
	d, err := s.store.Derive(ctx, s.db, e, t)
	if errors.Is(err, evidence.ErrNoDerivative) {
		return Download{}, database.ErrNotFound
	}
	if err != nil {
		return Download{}, err
	}
	return Download{Evidence: e, Key: d.BlobKey, ContentType: d.ContentType, Size: d.Size, Name: name}, nil
}

// downloadName is the client's name for staff (untrusted: only the base
// name, as a header parameter), else the kind and the id.
func downloadName(e evidence.Evidence) string {
	name := path.Base(strings.ReplaceAll(e.OriginalName, "\\", "/"))
	if name == "" || name == "." || name == "/" {
		name = string(e.Kind) + "-" + strconv.FormatInt(e.ID, 10) + extension(e.ContentType)
	}
	return name
}
