package bundle

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"time"

	"spotcheck/internal/database"
	"spotcheck/internal/evidence"
	"spotcheck/internal/role"
	"spotcheck/internal/sharing"
)

// file is one evidence file going into the bundle: the record, its name in
// the ZIP and, in a redacted bundle, the derivative sent in its place.
type file struct {
	Evidence   evidence.Evidence
	Name       string
	Derivative *evidence.Derivative // nil: the file as received
}

// derive makes the clean derivative of every photo of the case that has
// none yet. A file that cannot have one (HEIC, a damaged image) is left to
// plan, which withholds it.
func derive(ctx context.Context, db *database.DB, store *evidence.Store, caseID int64) error {
	files, err := evidence.ForCase(ctx, db.Gorm.WithContext(ctx), caseID)
	if err != nil {
		return fmt.Errorf("bundle of case %d: %w", caseID, err)
	}
	for _, e := range files {
		if e.Withdrawn() || !evidence.Derivable(e.ContentType) {
			continue
		}
		_, err := store.Derive(ctx, db, e, evidence.Clean)
		switch {
		case errors.Is(err, evidence.ErrOriginalChanged):
			return fmt.Errorf("%w: evidence %d (%s): %v", ErrTampered, e.ID, e.BlobKey, err)
		case err != nil && !errors.Is(err, evidence.ErrNoDerivative):
			return fmt.Errorf("bundle: derivative of evidence %d: %w", e.ID, err)
		}
	}
	return nil
}

// plan decides, from the snapshot, which files go in and which are only
// listed. Unredacted: every file as received. Redacted: what may leave
// the staff side, as sharing serves it to a brand — an image as its clean
// derivative, a document staff or a brand put on the case as it is; a
// buyer's file with no clean form (HEIC, a volunteer's PDF) and withdrawn
// files are withheld.
func plan(rec record) ([]file, []Withheld) {
	var files []file
	var withheld []Withheld
	for _, e := range rec.Evidence {
		if rec.Kind == Unredacted {
			files = append(files, file{Evidence: e, Name: EvidenceName(e)})
			continue
		}
		hold := func(reason string) {
			withheld = append(withheld, Withheld{EvidenceID: e.ID, Kind: e.Kind, ContentType: e.ContentType,
				OriginalSHA256: e.SHA256, OriginalSize: e.Size, Reason: reason})
		}
		var item *string
		if e.PurchaseID != nil {
			for _, c := range rec.Chains {
				if c.Item.PurchaseID == *e.PurchaseID {
					item = &c.Item.Number
				}
			}
		}
		switch d, ok := rec.Derivatives[e.ID][evidence.Clean]; {
		case e.Withdrawn():
			hold(WithheldWithdrawn)
		case ok:
			files = append(files, file{Evidence: e, Derivative: &d,
				Name: evidenceDir + sharing.OutsideName(e, item, rec.Case.Reference, d.ContentType)})
		case sharing.LeavesAsIs(e.ContentType, uploaderRole(rec, e)):
			files = append(files, file{Evidence: e, Name: evidenceDir + sharing.OutsideName(e, item, rec.Case.Reference, e.ContentType)})
		default:
			hold(WithheldNoDerivative)
		}
	}
	return files, withheld
}

// uploaderRole is the role of a file's uploader; one the snapshot does not
// know counts as a volunteer's, so that a document of theirs is withheld.
func uploaderRole(rec record, e evidence.Evidence) role.Role {
	r, err := role.Parse(rec.Roles[e.UploadedBy])
	if err != nil {
		return role.Volunteer
	}
	return r
}

// addFile copies one stored file (or its derivative) into the bundle and
// refuses it if what storage gave back is not what was recorded.
func (m *Manifest) addFile(ctx context.Context, zw *zip.Writer, store *evidence.Store, f file, at time.Time) error {
	e := f.Evidence
	mem := Member{Name: f.Name, EvidenceID: e.ID, Kind: e.Kind, Withdrawn: e.Withdrawn()}
	key, sum, size := e.BlobKey, e.SHA256, e.Size
	if d := f.Derivative; d != nil {
		key, sum, size = d.BlobKey, d.SHA256, d.Size
		mem.OriginalSHA256, mem.OriginalSize = e.SHA256, e.Size
		mem.Transform, mem.Transformation = d.Transform, d.Transform.Description()
	}
	r, err := store.Open(ctx, key)
	if err != nil {
		return fmt.Errorf("bundle: evidence %d: %w", e.ID, err)
	}
	defer r.Close()
	if err := m.add(zw, mem, at, r); err != nil {
		return err
	}
	got := m.Members[len(m.Members)-1]
	if got.SHA256 != sum || got.Size != size {
		return fmt.Errorf("%w: evidence %d (%s) recorded as %s, %d bytes; storage gave %s, %d bytes",
			ErrTampered, e.ID, key, sum, size, got.SHA256, got.Size)
	}
	return nil
}

// EvidenceName is a file's name in an unredacted bundle: its record id,
// its kind and the extension of its content type. The uploader's own name
// is not used: it is untrusted and may say anything.
func EvidenceName(e evidence.Evidence) string {
	return fmt.Sprintf("%s%d-%s%s", evidenceDir, e.ID, e.Kind, extension(e.ContentType))
}

// extension is fixed per accepted type (the system's MIME table differs
// between machines).
func extension(contentType string) string {
	switch contentType {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/webp":
		return ".webp"
	case "image/heic":
		return ".heic"
	case "image/heif":
		return ".heif"
	case "application/pdf":
		return ".pdf"
	}
	return ".bin"
}
