package bundle_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/bundle"
	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/evidence"
	"spotcheck/internal/i18n"
	"spotcheck/internal/valid"
)

const (
	exifMarker  = "MRKEXIFARTIST"
	ipMarker    = "198.51.100.77"
	noteMarker  = "MRKSTAFFNOTE"
	trackMarker = "SF1" // the fixture's delivery: seller → buyer
)

// exifJPEG is a small JPEG whose EXIF names marker as its artist.
func exifJPEG(t *testing.T, marker string) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range 16 {
		img.Set(i, i, color.RGBA{200, 10, 10, 255})
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, nil); err != nil {
		t.Fatal(err)
	}
	// TIFF, little-endian: one IFD with one entry, Artist (0x013B, ASCII).
	val := append([]byte(marker), 0)
	le := binary.LittleEndian
	tiff := []byte("II*\x00")
	tiff = le.AppendUint32(tiff, 8)
	tiff = le.AppendUint16(tiff, 1)
	tiff = le.AppendUint16(le.AppendUint16(tiff, 0x013B), 2)
	tiff = le.AppendUint32(le.AppendUint32(tiff, uint32(len(val))), 8+2+12+4) // #nosec G115 -- val is a short marker
	tiff = le.AppendUint32(tiff, 0)
	tiff = append(tiff, val...)
	app1 := append([]byte("Exif\x00\x00"), tiff...)
	var out bytes.Buffer
	out.Write(enc.Bytes()[:2]) // SOI
	out.Write([]byte{0xFF, 0xE1})
	out.Write(binary.BigEndian.AppendUint16(nil, uint16(len(app1)+2))) // #nosec G115 -- app1 is a short marker and a 26-byte header
	out.Write(app1)
	out.Write(enc.Bytes()[2:])
	return out.Bytes()
}

// marked adds to the fixture what identifies the buyer beyond its own
// data: a volunteer's photo with EXIF, a volunteer's PDF (no clean form),
// a staff comment and an audit event from the volunteer's address.
func (f *fixture) marked(t *testing.T) (photo, pdf evidence.Evidence) {
	t.Helper()
	ctx := audit.WithOrigin(context.Background(), audit.Origin{ActorID: vol.UserID, ActorRole: "volunteer", ClientIP: ipMarker})
	var purchaseID int64
	if err := f.db.Gorm.Raw("SELECT id FROM purchases WHERE case_id = ?", f.c.ID).Row().Scan(&purchaseID); err != nil {
		t.Fatal(err)
	}
	var files []evidence.New
	for _, b := range [][]byte{exifJPEG(t, exifMarker), pdfBytes()} {
		st, err := f.store.Put(ctx, bytes.NewReader(b), "IMG_0001.jpg")
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, evidence.New{CaseID: f.c.ID, PurchaseID: &purchaseID, Kind: evidence.ItemPhoto, Visibility: evidence.BrandVisible, Stored: st})
	}
	files[1].Kind = evidence.Receipt
	var got []evidence.Evidence
	err := f.db.InTx(ctx, func(tx *gorm.DB) (err error) {
		got, err = evidence.RecordTx(ctx, tx, vol, f.c.Reference, files)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].ContentType != "image/jpeg" || got[1].ContentType != "application/pdf" {
		t.Fatalf("content types %s, %s", got[0].ContentType, got[1].ContentType)
	}
	if err := casework.NewService(f.db).Comment(context.Background(), staff, f.c.ID, "Internal: "+noteMarker); err != nil {
		t.Fatal(err)
	}
	return got[0], got[1]
}

// members reads every member of a ZIP, uncompressed.
func members(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		if err := errors.Join(err, rc.Close()); err != nil {
			t.Fatal(err)
		}
		out[zf.Name] = data
	}
	return out
}

func TestTheDefaultBundleHoldsNoBuyerIdentityAndTheUnredactedOneDoes(t *testing.T) {
	markers := []string{exifMarker, ipMarker, noteMarker, "TB4200001", "Person 3", "u3@x.test", "buyer-one", "Locker 7"}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		photo, pdf := f.marked(t)
		redacted, m := f.write(t, bundle.Redacted, i18n.English)
		if rep := verify(t, redacted); !rep.OK() {
			t.Fatalf("redacted bundle: %s", rep)
		}
		all := members(t, redacted)
		for name, data := range all {
			for _, mk := range markers {
				if bytes.Contains(data, []byte(mk)) {
					t.Errorf("redacted member %s holds %q", name, mk)
				}
			}
		}
		for _, name := range []string{bundle.SummaryName, bundle.AuditName} {
			if strings.Contains(string(all[name]), `"`+trackMarker+`"`) || strings.Contains(string(all[name]), " "+trackMarker+"<") {
				t.Errorf("redacted %s holds the delivery's tracking number", name)
			}
			for _, k := range []string{`"client_ip"`, `"actor_id"`, `"volunteer_id"`, `"persona_id"`, `"tracking"`, `"order_number"`} {
				if name == bundle.AuditName && strings.Contains(string(all[name]), k) {
					t.Errorf("the audit extract has the key %s", k)
				}
			}
		}
		if m.Kind != bundle.Redacted || !strings.HasPrefix(m.Notice, "REDACTED") {
			t.Errorf("manifest kind %q, notice %q", m.Kind, m.Notice)
		}
		if !strings.Contains(string(all[bundle.SummaryName]), "Buyer B-") {
			t.Error("the summary does not name the buyer by their case pseudonym")
		}

		// Every photo is its clean derivative; the manifest ties it to the
		// original.
		derived := 0
		for _, mem := range m.Members {
			if mem.EvidenceID == 0 {
				continue
			}
			var e evidence.Evidence
			if err := db.Gorm.Take(&e, mem.EvidenceID).Error; err != nil {
				t.Fatal(err)
			}
			if mem.Withdrawn || e.Withdrawn() {
				t.Errorf("the withdrawn file %d is a member (%s)", e.ID, mem.Name)
			}
			if !evidence.Derivable(e.ContentType) {
				continue
			}
			derived++
			if !mem.Derived() || mem.OriginalSHA256 != e.SHA256 || mem.OriginalSize != e.Size || (e.ID == photo.ID && mem.SHA256 == e.SHA256) ||
				mem.Transform != evidence.Clean || mem.Transformation != evidence.Clean.Description() {
				t.Errorf("member %+v of file %d (%s)", mem, e.ID, e.SHA256)
			}
			if strings.Contains(mem.Name, e.OriginalName) || !strings.HasPrefix(mem.Name, "evidence/"+f.item+"-") {
				t.Errorf("member name %s", mem.Name)
			}
		}
		var extract []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(string(all[bundle.AuditName])), "\n") {
			var l map[string]any
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Fatal(err)
			}
			extract = append(extract, l)
			if d, _ := l["detail"].(map[string]any); strings.HasPrefix(l["action"].(string), "custody.") && d["place"] != nil {
				t.Errorf("a custody event of the extract has a place: %v", l)
			}
		}
		if len(extract) < 10 {
			t.Errorf("the audit extract has %d lines", len(extract))
		}
		if derived != 4 { // receipt, screenshot, parcel photo, the EXIF photo
			t.Errorf("%d derived members, want 4", derived)
		}

		// Withheld: the volunteer's PDF (no clean form) and the withdrawn
		// file, by hash; the brand's PDF report is a member as it is.
		want := map[int64]string{pdf.ID: bundle.WithheldNoDerivative, f.evidence[3].ID: bundle.WithheldWithdrawn}
		if len(m.Withheld) != 2 {
			t.Fatalf("withheld %+v", m.Withheld)
		}
		for _, w := range m.Withheld {
			var e evidence.Evidence
			if err := db.Gorm.Take(&e, w.EvidenceID).Error; err != nil {
				t.Fatal(err)
			}
			if want[w.EvidenceID] != w.Reason || w.OriginalSHA256 != e.SHA256 || w.OriginalSize != e.Size || w.Kind != e.Kind {
				t.Errorf("withheld %+v, file %d %s", w, e.ID, e.SHA256)
			}
		}
		if _, ok := all[bundle.EvidenceName(f.evidence[4])]; ok {
			t.Error("the report is named as in the unredacted bundle")
		}

		// The unredacted export holds every marker.
		full, fm := f.write(t, bundle.Unredacted, i18n.English)
		if rep := verify(t, full); !rep.OK() || fm.Kind != bundle.Unredacted || !strings.HasPrefix(fm.Notice, "UNREDACTED") || len(fm.Withheld) != 0 {
			t.Fatalf("unredacted: %s, %+v", rep, fm)
		}
		got := members(t, full)
		var everything []byte
		for _, data := range got {
			everything = append(everything, data...)
		}
		for _, mk := range []string{exifMarker, ipMarker, noteMarker, "TB4200001", `"tracking\":\"SF1\"`} {
			if !bytes.Contains(everything, []byte(mk)) {
				t.Errorf("the unredacted export lacks %q", mk)
			}
		}
		if !bytes.Contains(got[bundle.EvidenceName(photo)], []byte(exifMarker)) {
			t.Error("the unredacted export's photo is not the original")
		}
		if !strings.Contains(string(got[bundle.SummaryName]), "UNREDACTED") {
			t.Error("the unredacted summary is not marked so")
		}
	})
}

func TestADerivedMemberVerifiesAndNamesItsOriginal(t *testing.T) {
	f := setup(t, dbtest.SQLite(t))
	b, m := f.write(t, bundle.Redacted, i18n.English)
	var photo bundle.Member
	for _, mem := range m.Members {
		if mem.Derived() {
			photo = mem
		}
	}
	if photo.Name == "" {
		t.Fatal("no derived member")
	}
	if rep := verify(t, b); !rep.OK() {
		t.Fatalf("fresh: %s", rep)
	}
	changed := rewrite(t, b, func(name string, data []byte) []byte {
		if name == photo.Name {
			data = bytes.Clone(data)
			data[len(data)/2] ^= 1
		}
		return data
	}, nil)
	if rep := verify(t, changed); len(rep.Changed) != 1 || rep.Changed[0].Name != photo.Name {
		t.Fatalf("a derived member changed: %s", rep)
	}
	// A manifest whose derivative no longer names its original.
	orphan := rewrite(t, b, func(name string, data []byte) []byte {
		if name != bundle.ManifestName {
			return data
		}
		var mm bundle.Manifest
		if err := json.Unmarshal(data, &mm); err != nil {
			t.Fatal(err)
		}
		for i := range mm.Members {
			if mm.Members[i].Name == photo.Name {
				mm.Members[i].OriginalSHA256 = ""
			}
		}
		out, _ := json.Marshal(mm)
		return out
	}, nil)
	if rep := verify(t, orphan); len(rep.Changed) != 1 || rep.Changed[0].Name != photo.Name {
		t.Fatalf("a derivative without its original: %s", rep)
	}
}

func TestTheUnredactedExportNeedsAReasonAndIsAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		ctx := context.Background()
		svc := bundle.NewService(db, f.store, noJobs{})
		if _, err := svc.RequestUnredacted(ctx, staff, f.c.ID, i18n.English, "  "); !errors.Is(err, valid.ErrInvalid) {
			t.Fatalf("no reason: %v", err)
		}
		if _, err := svc.RequestUnredacted(ctx, brandUser, f.c.ID, i18n.English, "order"); !errors.Is(err, database.ErrNotFound) {
			t.Fatalf("a brand user: %v", err)
		}
		const reason = "Court order (2026) Zhe 0782 Min Chu 1234"
		b, err := svc.RequestUnredacted(ctx, staff, f.c.ID, i18n.English, reason)
		if err != nil || b.Kind != bundle.Unredacted {
			t.Fatalf("request: %+v, %v", b, err)
		}
		var ev audit.Event
		if err := db.Gorm.Where("action = ?", "bundle.unredacted").Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		var detail struct {
			BundleID    int64  `json:"bundle_id"`
			RequestedBy int64  `json:"requested_by"`
			Reason      string `json:"reason"`
		}
		if err := json.Unmarshal([]byte(ev.Detail), &detail); err != nil {
			t.Fatal(err)
		}
		if ev.ObjectID != f.c.Reference || detail.BundleID != b.ID || detail.RequestedBy != staff.UserID || detail.Reason != reason {
			t.Fatalf("audit event %+v", ev)
		}
		w := &bundle.Worker{DB: db, Store: f.store}
		if err := w.Work(ctx, &river.Job[bundle.Args]{Args: bundle.Args{BundleID: b.ID}}); err != nil {
			t.Fatal(err)
		}
		built, err := svc.Get(ctx, f.c.ID, b.ID)
		if err != nil || built.Status != "done" || !strings.HasSuffix(built.BlobKey, "-unredacted.zip") {
			t.Fatalf("built %+v, %v", built, err)
		}
		if _, err := svc.Get(ctx, f.linked.ID, b.ID); !errors.Is(err, database.ErrNotFound) {
			t.Fatalf("another case's bundle: %v", err)
		}
		// The reason stays out of a redacted bundle made afterwards.
		redacted, _ := f.write(t, bundle.Redacted, i18n.English)
		if !bytes.Contains(member(t, redacted, bundle.AuditName), []byte(`"bundle.unredacted"`)) {
			t.Error("the redacted audit extract does not list the unredacted export")
		}
		for name, data := range members(t, redacted) {
			if bytes.Contains(data, []byte(reason)) {
				t.Errorf("redacted member %s holds the reason", name)
			}
		}
	})
}
