// Package bundle builds a case's evidence bundle for the police or a court
// — one ZIP with a printable summary in the requesting user's language,
// the evidence files, the case's audit events and a manifest of every
// member's SHA-256 and size — and verifies a bundle against its manifest,
// so that whoever receives it can tell whether anything in it changed.
//
// The default bundle is Redacted: it leaves the platform, so it holds no
// buyer identity (DESIGN.md, "What never crosses to a brand (or leaves in
// a default bundle)"): photos as their metadata-free derivatives, files
// with none and withdrawn files listed but left out, the buyer by role and
// case pseudonym, and an extract of the audit events. The Unredacted
// export, for a court order, holds the originals as received and the full
// audit events; asking for it is audited with its reason.
package bundle

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"spotcheck/internal/database"
	"spotcheck/internal/evidence"
	"spotcheck/internal/i18n"
)

// Member names of a bundle besides the evidence files.
const (
	SummaryName  = "summary.html"
	AuditName    = "audit.jsonl"
	ManifestName = "manifest.json"
	evidenceDir  = "evidence/"
)

// Kind is what a bundle may hold.
type Kind string

const (
	// Redacted is the default bundle, for the police: no buyer identity.
	Redacted Kind = "redacted"
	// Unredacted is the export for a court order: originals as received,
	// the full audit events.
	Unredacted Kind = "unredacted"
)

// ParseKind returns the kind a text names; "" is the default.
func ParseKind(s string) (Kind, bool) {
	switch Kind(s) {
	case Redacted, "":
		return Redacted, true
	case Unredacted:
		return Unredacted, true
	}
	return "", false
}

// Notices say in the manifest what kind of bundle it is.
const (
	redactedNotice   = "REDACTED: no buyer identity; photos are metadata-free derivatives of the files on record (each names its original's SHA-256 and the transformation); audit.jsonl is an extract of the audit events, each with its hash as stored"
	unredactedNotice = "UNREDACTED: the files as received and the full audit events, buyer identity included; made for a court order, its request audited"
)

// Manifest is manifest.json, the bundle's last member. Kind, Notice and
// Withheld are absent from bundles made before redaction; such a bundle
// holds the originals.
type Manifest struct {
	Case        string     `json:"case"`
	Kind        Kind       `json:"kind,omitempty"`
	Notice      string     `json:"notice,omitempty"`
	GeneratedAt time.Time  `json:"generated_at"`
	GeneratedIn i18n.Lang  `json:"generated_in"` // the summary's language
	AuditHead   AuditHead  `json:"audit_head"`
	Members     []Member   `json:"members"`            // every member but the manifest, in ZIP order
	Withheld    []Withheld `json:"withheld,omitempty"` // files on record that are not members
}

// AuditHead is the newest event of the whole audit chain when the bundle
// was made: `spotcheck audit verify` on the server prints the same pair
// for as long as the chain is intact, which ties the bundle's audit.jsonl
// to the chain it came from.
type AuditHead struct {
	ID   int64  `json:"id"` // the event's seq
	Hash string `json:"hash"`
}

// Member is one file of the bundle.
type Member struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"` // lower-case hex
	Size   int64  `json:"size"`
	// Evidence files say which record they are and whether it was
	// withdrawn as a mistaken upload (kept on record, and so in here).
	EvidenceID int64         `json:"evidence_id,omitempty"`
	Kind       evidence.Kind `json:"kind,omitempty"`
	Withdrawn  bool          `json:"withdrawn,omitempty"`
	// A derivative names the file on record it was made from and how (the
	// documented, unavoidable change of ISO/IEC 27037), so that the
	// original can be produced on request and checked against it.
	OriginalSHA256 string             `json:"original_sha256,omitempty"`
	OriginalSize   int64              `json:"original_size,omitempty"`
	Transform      evidence.Transform `json:"transform,omitempty"`
	Transformation string             `json:"transformation,omitempty"`
}

// Derived reports whether the member is a derivative of a file on record.
func (m Member) Derived() bool { return m.Transform != "" }

// Withheld is a file on record that a redacted bundle leaves out, listed
// so that its existence is on record: its kind, the SHA-256 and size of
// the file on record, and why.
type Withheld struct {
	EvidenceID     int64         `json:"evidence_id"`
	Kind           evidence.Kind `json:"kind"`
	ContentType    string        `json:"content_type"`
	OriginalSHA256 string        `json:"original_sha256"`
	OriginalSize   int64         `json:"original_size"`
	Reason         string        `json:"reason"` // WithheldWithdrawn or WithheldNoDerivative
}

// Reasons a file is withheld.
const (
	WithheldWithdrawn    = "withdrawn"           // a mistaken upload, kept on record
	WithheldNoDerivative = "no_clean_derivative" // a buyer's file with no metadata-free form (HEIC, PDF)
)

// ErrTampered: a stored evidence file no longer matches its record; no
// bundle is made with it.
var ErrTampered = errors.New("a stored evidence file does not match its record")

// Write streams the bundle of kind kind of case caseID to w: summary.html
// (in lang), the evidence files, audit.jsonl and manifest.json, last.
// Redacted: evidence/<generated name> for each file that may leave the
// platform (a photo as its metadata-free derivative, made now if it has
// none yet), the rest listed as withheld, the audit events as an extract.
// Unredacted: evidence/<id>-<kind><ext> for every file on record as
// received, withdrawn ones too, and the audit events in full.
//
// Everything but the files is read in one snapshot first; the files are
// then copied through one buffer at a time while their SHA-256 is checked
// against the record. Times in the summary are shown in now's location.
// progress, if not nil, is told after each member.
//
// On an error w holds a ZIP without its central directory — unreadable —
// and the caller discards it; a stored file that does not match its
// record fails with ErrTampered this way.
func Write(ctx context.Context, db *database.DB, store *evidence.Store, caseID int64, kind Kind, lang i18n.Lang, now time.Time,
	w io.Writer, progress func(done, total int)) (Manifest, error) {
	if _, ok := i18n.Parse(string(lang)); !ok {
		lang = i18n.English
	}
	if kind != Unredacted {
		kind = Redacted
		// Derivatives made first, so that the snapshot holds their records
		// and their audit events.
		if err := derive(ctx, db, store, caseID); err != nil {
			return Manifest{}, err
		}
	}
	rec, err := load(ctx, db, caseID)
	if err != nil {
		return Manifest{}, err
	}
	rec.Kind = kind
	files, withheld := plan(rec)
	m := Manifest{Case: rec.Case.Reference, Kind: kind, Notice: redactedNotice, GeneratedAt: now, GeneratedIn: lang,
		AuditHead: rec.Head, Withheld: withheld}
	if kind == Unredacted {
		m.Notice = unredactedNotice
	}
	total, done := len(files)+3, 0
	step := func() {
		done++
		if progress != nil {
			progress(done, total)
		}
	}
	zw := zip.NewWriter(w)
	var summary bytes.Buffer
	if err := renderSummary(&summary, rec, files, withheld, lang, now); err != nil {
		return m, err
	}
	if err := m.add(zw, Member{Name: SummaryName}, now, &summary); err != nil {
		return m, err
	}
	step()
	for _, f := range files {
		if err := m.addFile(ctx, zw, store, f, now); err != nil {
			return m, err
		}
		step()
	}
	var events bytes.Buffer
	if err := writeAudit(&events, rec); err != nil {
		return m, err
	}
	if err := m.add(zw, Member{Name: AuditName}, now, &events); err != nil {
		return m, err
	}
	step()
	if err := writeManifest(zw, m, now); err != nil {
		return m, err
	}
	if err := zw.Close(); err != nil {
		return m, fmt.Errorf("bundle: %w", err)
	}
	step()
	return m, nil
}

// add copies r into a new member, hashing it on the way, and lists it.
func (m *Manifest) add(zw *zip.Writer, mem Member, at time.Time, r io.Reader) error {
	method := zip.Deflate
	if mem.EvidenceID != 0 {
		method = zip.Store // photos and PDFs are compressed already
	}
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: mem.Name, Method: method, Modified: at})
	if err != nil {
		return fmt.Errorf("bundle %s: %w", mem.Name, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(fw, h), r)
	if err != nil {
		return fmt.Errorf("bundle %s: %w", mem.Name, err)
	}
	mem.SHA256, mem.Size = hex.EncodeToString(h.Sum(nil)), n
	m.Members = append(m.Members, mem)
	return nil
}

func writeManifest(zw *zip.Writer, m Manifest, at time.Time) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("bundle manifest: %w", err)
	}
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: ManifestName, Method: zip.Deflate, Modified: at})
	if err == nil {
		_, err = fw.Write(append(b, '\n'))
	}
	if err != nil {
		return fmt.Errorf("bundle manifest: %w", err)
	}
	return nil
}
