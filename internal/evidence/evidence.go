// Package evidence keeps the files that back a case: receipts, screenshots,
// photos of parcels and items, reports and police documents. Files are
// streamed into blob storage under names the server chooses, with their
// type decided from their content and their SHA-256 taken on the way in;
// a row in the evidence table describes each one. Evidence is never
// changed or deleted: a mistaken upload is withdrawn with a reason and
// stays on record, and a periodic check re-reads every file to prove it is
// still what was uploaded.
package evidence

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Kind says what a file shows.
type Kind string

const (
	Receipt        Kind = "receipt"
	Screenshot     Kind = "screenshot"
	ParcelPhoto    Kind = "parcel_photo"
	ItemPhoto      Kind = "item_photo"
	Report         Kind = "report"
	PoliceDocument Kind = "police_document"
)

// Kinds lists every kind in a stable order, for forms and tests.
var Kinds = []Kind{Receipt, Screenshot, ParcelPhoto, ItemPhoto, Report, PoliceDocument}

// ErrUnknownKind is returned when a text names no kind.
var ErrUnknownKind = errors.New("unknown evidence kind")

// ParseKind returns the kind a text names.
func ParseKind(s string) (Kind, error) {
	if slices.Contains(Kinds, Kind(s)) {
		return Kind(s), nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownKind, s)
}

// Visibility says who besides staff may see a file.
type Visibility string

const (
	StaffOnly    Visibility = "staff"
	BrandVisible Visibility = "brand"
)

// Visibilities lists every visibility in a stable order.
var Visibilities = []Visibility{StaffOnly, BrandVisible}

// ErrUnknownVisibility is returned when a text names no visibility.
var ErrUnknownVisibility = errors.New("unknown evidence visibility")

// ParseVisibility returns the visibility a text names.
func ParseVisibility(s string) (Visibility, error) {
	if slices.Contains(Visibilities, Visibility(s)) {
		return Visibility(s), nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownVisibility, s)
}

// Evidence is one file on record. The database refuses any change but the
// withdrawal (once) and the integrity check's columns, and any deletion.
type Evidence struct {
	ID              int64
	CaseID          int64
	PurchaseID      *int64
	CustodyEventID  *int64
	Kind            Kind
	BlobKey         string
	SHA256          string `gorm:"column:sha256"` // lower-case hex
	Size            int64
	ContentType     string
	OriginalName    string // the client's name: untrusted, for display only
	Visibility      Visibility
	UploadedBy      int64
	UploadedAt      time.Time
	WithdrawnAt     *time.Time
	WithdrawnBy     *int64
	WithdrawnReason string
	CheckedAt       *time.Time // the integrity check's last reading
	FaultAt         *time.Time // set while the stored file does not match
}

func (Evidence) TableName() string { return "evidence" }

// Withdrawn reports whether the file was withdrawn as a mistake.
func (e Evidence) Withdrawn() bool { return e.WithdrawnAt != nil }
