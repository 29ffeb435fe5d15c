package evidence

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/semaphore"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"spotcheck/internal/audit"
	"spotcheck/internal/database"
)

// Transform names one way of making a derivative. A name is never reused
// for a different recipe: a change gets a new version, so a derivative on
// record always says how it was made.
type Transform string

const (
	// Clean is the full-size copy without metadata.
	Clean Transform = "clean-v1"
	// Thumb320 is a clean copy at most 320 pixels on its long side.
	Thumb320 Transform = "thumb320-v1"
)

// Transforms lists every transform in a stable order.
var Transforms = []Transform{Clean, Thumb320}

// ErrUnknownTransform is returned when a text names no transform.
var ErrUnknownTransform = errors.New("unknown derivative transform")

// ParseTransform returns the transform a text names.
func ParseTransform(s string) (Transform, error) {
	if slices.Contains(Transforms, Transform(s)) {
		return Transform(s), nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownTransform, s)
}

// reencoded is what every transform does. Orientation is read from a
// JPEG's EXIF only, where phones write it; PNG and WebP photos are taken
// as stored.
const reencoded = "decoded; a JPEG's EXIF orientation applied to the pixels; re-encoded as JPEG quality 90 (JPEG and WebP originals) " +
	"or as PNG with its transparency (PNG originals), a transparent WebP flattened onto white; every metadata block (EXIF, XMP, IPTC, GPS, maker notes, " +
	"comments, PNG text chunks, ICC colour profile) dropped"

// Description says what the transform changes, in words for a manifest:
// the documented, unavoidable change of ISO/IEC 27037 between the file on
// record and the copy shown.
func (t Transform) Description() string {
	switch t {
	case Clean:
		return reencoded + "; pixel size unchanged"
	case Thumb320:
		return reencoded + "; scaled down (Lanczos) to at most 320 pixels on the long side"
	}
	return ""
}

// longSide is the bound on the long side of the transform's image, 0 for
// none.
func (t Transform) longSide() int {
	if t == Thumb320 {
		return 320
	}
	return 0
}

var (
	// ErrNoDerivative: the file has no clean derivative, because it is not
	// an image that can be decoded here (PDF, HEIC/HEIF, which has no
	// pure-Go decoder, or a damaged image). Such a file stays staff-only.
	ErrNoDerivative = errors.New("the file has no clean derivative")
	// ErrTooManyPixels: the image is larger than MaxPixels, refused before
	// decoding (a small file can claim a vast image). It is also an
	// ErrNoDerivative.
	ErrTooManyPixels = fmt.Errorf("%w: the image has more than %d megapixels", ErrNoDerivative, MaxPixels/1_000_000)
	// ErrOriginalChanged: the stored original no longer matches its
	// record; nothing is derived from it.
	ErrOriginalChanged = errors.New("the stored file does not match its record")
)

// MaxPixels bounds the images decoded: 80 megapixels, above any phone
// camera's photo, decode to 320 MB of pixels.
const MaxPixels = 80_000_000

// maxDerivativeSize bounds a derivative's file, which the server makes
// from at most MaxPixels: a PNG of as many 4-byte pixels, stored
// uncompressed, is 320 MB.
const maxDerivativeSize = 512 << 20

// deriveSlots bounds the derivations running at once in this process: one
// 25 MiB JPEG decodes to about 100 MB of pixels, and rotating it makes a
// second copy.
var deriveSlots = semaphore.NewWeighted(2)

// Derivable reports whether a file of the content type can have a clean
// derivative.
func Derivable(contentType string) bool {
	_, ok := decodable[contentType]
	return ok
}

// Derivative is a copy of an evidence photo made by the server. Its row is
// never changed or deleted.
type Derivative struct {
	ID          int64
	EvidenceID  int64
	Transform   Transform
	BlobKey     string
	SHA256      string `gorm:"column:sha256"` // lower-case hex
	Size        int64
	ContentType string
	Width       int
	Height      int
	CreatedAt   time.Time
}

func (Derivative) TableName() string { return "evidence_derivatives" }

// beforeRecord runs between storing a derivative and recording it; tests
// use it to make two derivations meet there.
var beforeRecord = func() {}

// Derive returns the derivative t of file e, making it the first time:
// the original is read (and its hash checked), decoded, oriented, scaled
// for a thumbnail and re-encoded into a new stored file, recorded with one
// audit event. Calls for the same file and transform, in this process or
// another, all get the one derivative; a loser's stored copy is deleted.
// A file that cannot have one gives ErrNoDerivative.
func (s *Store) Derive(ctx context.Context, db *database.DB, e Evidence, t Transform) (Derivative, error) {
	if _, err := ParseTransform(string(t)); err != nil {
		return Derivative{}, err
	}
	if !Derivable(e.ContentType) {
		return Derivative{}, fmt.Errorf("%w: %s", ErrNoDerivative, e.ContentType)
	}
	if d, err := findDerivative(ctx, db.Gorm, e.ID, t); err == nil || !errors.Is(err, database.ErrNotFound) {
		return d, err
	}
	if err := deriveSlots.Acquire(ctx, 1); err != nil {
		return Derivative{}, err
	}
	defer deriveSlots.Release(1)
	// Made while this call waited for a slot?
	if d, err := findDerivative(ctx, db.Gorm, e.ID, t); err == nil || !errors.Is(err, database.ErrNotFound) {
		return d, err
	}
	st, w, h, err := s.render(ctx, e, t)
	if err != nil {
		return Derivative{}, err
	}
	beforeRecord()
	d := Derivative{EvidenceID: e.ID, Transform: t, BlobKey: st.Key, SHA256: st.SHA256, Size: st.Size,
		ContentType: st.ContentType, Width: w, Height: h, CreatedAt: db.Now().Truncate(time.Microsecond)}
	err = db.InTx(ctx, func(tx *gorm.DB) error {
		var err error
		d, err = recordDerivativeTx(ctx, tx, e, d)
		return err
	})
	if err != nil || d.BlobKey != st.Key {
		// Not recorded, or another derivation was first: this copy is
		// nobody's. The context may be the reason, so not on it.
		_ = s.Delete(context.WithoutCancel(ctx), st.Key)
	}
	if err != nil {
		return Derivative{}, fmt.Errorf("record derivative: %w", err)
	}
	return d, nil
}

// recordDerivativeTx inserts d unless its file and transform already have
// a derivative, and returns the one on record. Only the insert that
// happened is audited.
func recordDerivativeTx(ctx context.Context, tx *gorm.DB, e Evidence, d Derivative) (Derivative, error) {
	tx = tx.WithContext(ctx)
	res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "evidence_id"}, {Name: "transform"}},
		DoNothing: true}).Create(&d)
	if res.Error != nil {
		return Derivative{}, res.Error
	}
	if res.RowsAffected == 0 {
		return findDerivative(ctx, tx, e.ID, d.Transform)
	}
	_, err := audit.Append(ctx, tx, audit.Record{Action: "evidence.derive", ObjectType: "evidence", ObjectID: e.ID,
		Detail: map[string]any{"transform": d.Transform, "description": d.Transform.Description(),
			"original_sha256": e.SHA256, "sha256": d.SHA256, "size": d.Size, "content_type": d.ContentType,
			"width": d.Width, "height": d.Height}})
	return d, err
}

func findDerivative(ctx context.Context, db *gorm.DB, evidenceID int64, t Transform) (Derivative, error) {
	var d Derivative
	err := db.WithContext(ctx).Where("evidence_id = ? AND transform = ?", evidenceID, t).Take(&d).Error
	d.CreatedAt = d.CreatedAt.UTC() // PostgreSQL's driver gives local time
	return d, database.NotFound(err)
}

// Derivatives loads, in one query (per thousand files), the derivatives already made of the
// files given, by file and transform. A file with none is absent.
func Derivatives(ctx context.Context, db *gorm.DB, evidenceIDs []int64) (map[int64]map[Transform]Derivative, error) {
	out := map[int64]map[Transform]Derivative{}
	if len(evidenceIDs) == 0 {
		return out, nil
	}
	// One query per thousand files keeps under both databases' limits on
	// bound parameters.
	for ids := range slices.Chunk(evidenceIDs, 1000) {
		var rows []Derivative
		if err := db.WithContext(ctx).Where("evidence_id IN ?", ids).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("load derivatives: %w", err)
		}
		for _, d := range rows {
			d.CreatedAt = d.CreatedAt.UTC()
			if out[d.EvidenceID] == nil {
				out[d.EvidenceID] = map[Transform]Derivative{}
			}
			out[d.EvidenceID][d.Transform] = d
		}
	}
	return out, nil
}
