// Package bundle builds a case's evidence bundle for the police or a court
// — one ZIP with a printable summary in the requesting user's language,
// every evidence file, the case's audit events and a manifest of every
// member's SHA-256 and size — and verifies a bundle against its manifest,
// so that whoever receives it can tell whether anything in it changed.
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

	"spotcheck/internal/audit"
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

// Manifest is manifest.json, the bundle's last member.
type Manifest struct {
	Case        string    `json:"case"`
	GeneratedAt time.Time `json:"generated_at"`
	GeneratedIn i18n.Lang `json:"generated_in"` // the summary's language
	AuditHead   AuditHead `json:"audit_head"`
	Members     []Member  `json:"members"` // every member but the manifest, in ZIP order
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
}

// ErrTampered: a stored evidence file no longer matches its record; no
// bundle is made with it.
var ErrTampered = errors.New("a stored evidence file does not match its record")

// Write streams the bundle of case caseID to w: summary.html (in lang),
// evidence/<id>-<kind><ext> for every file on record, withdrawn ones too,
// audit.jsonl and manifest.json, last. Everything but the files is read
// in one snapshot first; the files are then copied through one buffer at a
// time while their SHA-256 is checked against the record. Times in the
// summary are shown in now's location. progress, if not nil, is told after
// each member.
//
// On an error w holds a ZIP without its central directory — unreadable —
// and the caller discards it; a stored file that does not match its
// record fails with ErrTampered this way.
func Write(ctx context.Context, db *database.DB, store *evidence.Store, caseID int64, lang i18n.Lang, now time.Time,
	w io.Writer, progress func(done, total int)) (Manifest, error) {
	if _, ok := i18n.Parse(string(lang)); !ok {
		lang = i18n.English
	}
	rec, err := load(ctx, db, caseID)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Case: rec.Case.Reference, GeneratedAt: now, GeneratedIn: lang, AuditHead: rec.Head}
	total, done := len(rec.Evidence)+3, 0
	step := func() {
		done++
		if progress != nil {
			progress(done, total)
		}
	}
	zw := zip.NewWriter(w)
	var summary bytes.Buffer
	if err := renderSummary(&summary, rec, lang, now); err != nil {
		return m, err
	}
	if err := m.add(zw, Member{Name: SummaryName}, now, &summary); err != nil {
		return m, err
	}
	step()
	for _, e := range rec.Evidence {
		if err := m.addEvidence(ctx, zw, store, e, now); err != nil {
			return m, err
		}
		step()
	}
	var events bytes.Buffer
	if err := writeAudit(&events, rec.Audit); err != nil {
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

// addEvidence copies one stored file into the bundle and refuses it if
// what storage gave back is not what was recorded.
func (m *Manifest) addEvidence(ctx context.Context, zw *zip.Writer, store *evidence.Store, e evidence.Evidence, at time.Time) error {
	r, err := store.Open(ctx, e.BlobKey)
	if err != nil {
		return fmt.Errorf("bundle: evidence %d: %w", e.ID, err)
	}
	defer r.Close()
	mem := Member{Name: EvidenceName(e), EvidenceID: e.ID, Kind: e.Kind, Withdrawn: e.Withdrawn()}
	if err := m.add(zw, mem, at, r); err != nil {
		return err
	}
	got := m.Members[len(m.Members)-1]
	if got.SHA256 != e.SHA256 || got.Size != e.Size {
		return fmt.Errorf("%w: evidence %d (%s) recorded as %s, %d bytes; storage gave %s, %d bytes",
			ErrTampered, e.ID, e.BlobKey, e.SHA256, e.Size, got.SHA256, got.Size)
	}
	return nil
}

// EvidenceName is a file's name in the bundle: its record id, its kind and
// the extension of its content type. The uploader's own name is not used:
// it is untrusted and may say anything.
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

// auditLine is one line of audit.jsonl: the event exactly as stored,
// hashes included, so that each can be checked against the chain.
type auditLine struct {
	Seq        int64  `json:"seq"`
	At         string `json:"at"`
	ActorID    *int64 `json:"actor_id"`
	ActorRole  string `json:"actor_role"`
	Action     string `json:"action"`
	ObjectType string `json:"object_type"`
	ObjectID   string `json:"object_id"`
	Outcome    string `json:"outcome"`
	ClientIP   string `json:"client_ip"`
	RequestID  string `json:"request_id"`
	Detail     string `json:"detail"` // the stored JSON text, unchanged
	PrevHash   string `json:"prev_hash"`
	Hash       string `json:"hash"`
}

func writeAudit(w io.Writer, events []audit.Event) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, e := range events {
		err := enc.Encode(auditLine{Seq: e.Seq, At: e.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
			ActorID: e.ActorID, ActorRole: e.ActorRole, Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID,
			Outcome: e.Outcome, ClientIP: e.ClientIP, RequestID: e.RequestID, Detail: e.Detail, PrevHash: e.PrevHash, Hash: e.Hash})
		if err != nil {
			return fmt.Errorf("bundle audit: %w", err)
		}
	}
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
