package evidence_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"spotcheck/internal/audit"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/evidence"
)

// onRecord stores content and puts it on the fixture's case.
func (f fixture) onRecord(t testing.TB, s *evidence.Store, content []byte, name string) evidence.Evidence {
	t.Helper()
	st, err := s.Put(context.Background(), bytes.NewReader(content), name)
	if err != nil {
		t.Fatal(err)
	}
	return f.record(t, staff, st)[0]
}

func derive(t *testing.T, s *evidence.Store, db *database.DB, e evidence.Evidence, tr evidence.Transform) (evidence.Derivative, []byte) {
	t.Helper()
	d, err := s.Derive(context.Background(), db, e, tr)
	if err != nil {
		t.Fatalf("Derive %s: %v", tr, err)
	}
	return d, readAll(t, s, d.BlobKey)
}

// checkFile pins down that the derivative's row describes its stored file
// and that the file holds none of the markers.
func checkFile(t *testing.T, d evidence.Derivative, b []byte, markers []string) {
	t.Helper()
	sum := sha256.Sum256(b)
	if d.SHA256 != hex.EncodeToString(sum[:]) || d.Size != int64(len(b)) {
		t.Errorf("row says sha256 %s, %d bytes; the file is %x, %d bytes", d.SHA256, d.Size, sum, len(b))
	}
	for _, m := range markers {
		if bytes.Contains(b, []byte(m)) {
			t.Errorf("derivative %s still holds %s", d.Transform, m)
		}
	}
}

func decoded(t *testing.T, b []byte, wantFormat string) image.Image {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(b))
	if err != nil || format != wantFormat {
		t.Fatalf("derivative decodes as %q (%v), want %s", format, err, wantFormat)
	}
	return img
}

func isRed(c color.Color) bool  { r, _, b, _ := c.RGBA(); return r > 0xa000 && b < 0x6000 }
func isBlue(c color.Color) bool { r, _, b, _ := c.RGBA(); return b > 0xa000 && r < 0x6000 }

func TestCleanJPEGHasNoMetadataAndIsTurnedUpright(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, _ := fileStore(t, 0)
		orig := phoneJPEG(t)
		for _, m := range jpegMarkers {
			if !bytes.Contains(orig, []byte(m)) {
				t.Fatalf("the test photo lacks %s", m)
			}
		}
		e := f.onRecord(t, s, orig, "IMG_0001.jpg")
		d, b := derive(t, s, db, e, evidence.Clean)
		checkFile(t, d, b, jpegMarkers)
		img := decoded(t, b, "jpeg")
		// Stored 64×32, red left and blue right; orientation 6 turns it a
		// quarter clockwise: 32×64, red on top.
		if got := img.Bounds().Size(); got != image.Pt(32, 64) || d.Width != 32 || d.Height != 64 {
			t.Fatalf("derivative is %v (row %d×%d), want 32×64", got, d.Width, d.Height)
		}
		if !isRed(img.At(16, 8)) || !isBlue(img.At(16, 56)) {
			t.Errorf("not turned upright: top %v, bottom %v", img.At(16, 8), img.At(16, 56))
		}
		if d.ContentType != "image/jpeg" || d.EvidenceID != e.ID || d.Transform != evidence.Clean {
			t.Errorf("row = %+v", d)
		}
	})
}

func TestCleanPNGHasNoTextChunksAndKeepsTransparency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, _ := fileStore(t, 0)
		e := f.onRecord(t, s, taggedPNG(t), "scan.png")
		d, b := derive(t, s, db, e, evidence.Clean)
		checkFile(t, d, b, append(pngMarkers, "tEXt", "iTXt", "eXIf"))
		img := decoded(t, b, "png")
		if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
			t.Errorf("transparent pixel has alpha %d", a)
		}
		if !isRed(img.At(5, 5)) || d.Width != 48 || d.Height != 24 || d.ContentType != "image/png" {
			t.Errorf("row %+v, pixel %v", d, img.At(5, 5))
		}
	})
}

func TestWebPBecomesAJPEGWithoutMetadata(t *testing.T) {
	orig, err := os.ReadFile("testdata/photo.webp") // ImageMagick's, tagged with exiftool
	if err != nil {
		t.Fatal(err)
	}
	markers := []string{"WEBP-ARTIST-MARKER", "WEBP-XMP-MARKER"}
	for _, m := range markers {
		if !bytes.Contains(orig, []byte(m)) {
			t.Fatalf("testdata/photo.webp lacks %s", m)
		}
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, _ := fileStore(t, 0)
		e := f.onRecord(t, s, orig, "photo.webp")
		d, b := derive(t, s, db, e, evidence.Clean)
		checkFile(t, d, b, markers)
		img := decoded(t, b, "jpeg")
		if d.ContentType != "image/jpeg" || img.Bounds().Size() != image.Pt(60, 40) || !isRed(img.At(5, 20)) || !isBlue(img.At(55, 20)) {
			t.Errorf("row %+v, image %v", d, img.Bounds())
		}
	})
}

func TestThumbnailIsAtMost320PixelsOnItsLongSide(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, _ := fileStore(t, 0)
		var big bytes.Buffer
		if err := jpeg.Encode(&big, halves(1000, 600), nil); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name    string
			content []byte
			want    image.Point
		}{
			{"large.jpg", big.Bytes(), image.Pt(320, 192)},
			{"sideways.jpg", phoneJPEG(t), image.Pt(32, 64)}, // never enlarged
			{"small.png", taggedPNG(t), image.Pt(48, 24)},
		} {
			e := f.onRecord(t, s, c.content, c.name)
			d, b := derive(t, s, db, e, evidence.Thumb320)
			checkFile(t, d, b, jpegMarkers)
			if got := decodedSize(t, b); got != c.want || d.Width != c.want.X || d.Height != c.want.Y {
				t.Errorf("%s: thumbnail %v (row %d×%d), want %v", c.name, got, d.Width, d.Height, c.want)
			}
		}
	})
}

func decodedSize(t *testing.T, b []byte) image.Point {
	t.Helper()
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return image.Pt(cfg.Width, cfg.Height)
}

func TestDerivingTwiceGivesTheSameRowAndOneFile(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, _ := fileStore(t, 0)
		e := f.onRecord(t, s, phoneJPEG(t), "a.jpg")
		first, _ := derive(t, s, db, e, evidence.Clean)
		second, _ := derive(t, s, db, e, evidence.Clean)
		if first != second {
			t.Errorf("second call gave %+v, want %+v", second, first)
		}
		if n := len(keys(t, s.Bucket)); n != 2 {
			t.Errorf("%d files in storage, want the original and one derivative", n)
		}
		if n := deriveEvents(t, db); len(n) != 1 {
			t.Errorf("%d audit events, want 1", len(n))
		}
	})
}

func TestConcurrentDerivationsRecordOneAndDeleteTheLosersFile(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, _ := fileStore(t, 0)
		e := f.onRecord(t, s, phoneJPEG(t), "a.jpg")
		// Both calls store their copy before either records it.
		var arrived sync.WaitGroup
		arrived.Add(2)
		t.Cleanup(evidence.SetBeforeRecord(func() {
			arrived.Done()
			waitOrFail(t, &arrived)
		}))
		var got [2]evidence.Derivative
		var errs [2]error
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() { got[i], errs[i] = s.Derive(context.Background(), db, e, evidence.Clean) })
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatal(errs)
		}
		if got[0] != got[1] {
			t.Fatalf("the calls got different derivatives:\n%+v\n%+v", got[0], got[1])
		}
		var rows int64
		if err := db.Gorm.Model(&evidence.Derivative{}).Count(&rows).Error; err != nil {
			t.Fatal(err)
		}
		ks := keys(t, s.Bucket)
		if rows != 1 || len(ks) != 2 || !slicesContain(ks, got[0].BlobKey) || !slicesContain(ks, e.BlobKey) {
			t.Errorf("%d rows, files %v; want one row and its file beside the original", rows, ks)
		}
		if n := deriveEvents(t, db); len(n) != 1 {
			t.Errorf("%d audit events, want 1", len(n))
		}
	})
}

func waitOrFail(t *testing.T, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Error("the other derivation never reached recording")
	}
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestHEICAndPDFHaveNoDerivative(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, _ := fileStore(t, 0)
		for name, content := range map[string][]byte{"IMG_0002.heic": heicBytes(), "report.pdf": pdfBytes()} {
			e := f.onRecord(t, s, content, name)
			if evidence.Derivable(e.ContentType) {
				t.Errorf("%s: Derivable(%s) = true", name, e.ContentType)
			}
			for _, tr := range evidence.Transforms {
				if _, err := s.Derive(context.Background(), db, e, tr); !errors.Is(err, evidence.ErrNoDerivative) {
					t.Errorf("%s %s: err = %v, want ErrNoDerivative", name, tr, err)
				}
			}
		}
		var rows int64
		if err := db.Gorm.Model(&evidence.Derivative{}).Count(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if rows != 0 || len(keys(t, s.Bucket)) != 2 {
			t.Errorf("%d rows and %d files after refusals, want 0 and the 2 originals", rows, len(keys(t, s.Bucket)))
		}
	})
}

// hugePNG claims 10,000 × 10,000 pixels in a few dozen bytes.
func hugePNG() []byte {
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 10_000), 10_000)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	out := append([]byte("\x89PNG\r\n\x1a\n"), chunk("IHDR", ihdr)...)
	out = append(out, chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, chunk("IEND", nil)...)
}

func TestDecompressionBombIsRefusedBeforeDecoding(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, _ := fileStore(t, 0)
		e := f.onRecord(t, s, hugePNG(), "bomb.png")
		_, err := s.Derive(context.Background(), db, e, evidence.Thumb320)
		if !errors.Is(err, evidence.ErrTooManyPixels) || !errors.Is(err, evidence.ErrNoDerivative) {
			t.Fatalf("err = %v, want ErrTooManyPixels", err)
		}
	})
}

func TestChangedOriginalIsNotDerived(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, _ := fileStore(t, 0)
		e := f.onRecord(t, s, phoneJPEG(t), "a.jpg")
		if err := s.Bucket.WriteAll(context.Background(), e.BlobKey, jpegBytes(t), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Derive(context.Background(), db, e, evidence.Clean); !errors.Is(err, evidence.ErrOriginalChanged) {
			t.Fatalf("err = %v, want ErrOriginalChanged", err)
		}
		if n := len(keys(t, s.Bucket)); n != 1 {
			t.Errorf("%d files in storage, want only the original", n)
		}
	})
}

func TestDerivativeRowsCannotBeChangedOrDeleted(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, _ := fileStore(t, 0)
		e := f.onRecord(t, s, phoneJPEG(t), "a.jpg")
		d, _ := derive(t, s, db, e, evidence.Clean)
		for _, stmt := range []string{
			`UPDATE evidence_derivatives SET sha256 = 'x'`,
			`UPDATE evidence_derivatives SET created_at = created_at`,
			`DELETE FROM evidence_derivatives`,
		} {
			if err := db.Gorm.Exec(stmt).Error; err == nil {
				t.Errorf("%s: accepted", stmt)
			}
		}
		var after evidence.Derivative
		err := db.Gorm.Take(&after, d.ID).Error
		if after.CreatedAt = after.CreatedAt.UTC(); err != nil || after != d {
			t.Errorf("row after the attempts: %+v (%v), want %+v", after, err, d)
		}
	})
}

// deriveEvents returns the details of the evidence.derive audit events.
func deriveEvents(t *testing.T, db *database.DB) []map[string]any {
	t.Helper()
	var evs []audit.Event
	if err := db.Gorm.Where("action = ?", "evidence.derive").Order("seq").Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, len(evs))
	for i, ev := range evs {
		if err := json.Unmarshal([]byte(ev.Detail), &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestDerivationIsAuditedWithBothHashes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, _ := fileStore(t, 0)
		e := f.onRecord(t, s, phoneJPEG(t), "IMG_SECRET_NAME.jpg")
		d, _ := derive(t, s, db, e, evidence.Thumb320)
		evs := deriveEvents(t, db)
		if len(evs) != 1 {
			t.Fatalf("%d events, want 1", len(evs))
		}
		ev := evs[0]
		if ev["original_sha256"] != e.SHA256 || ev["sha256"] != d.SHA256 || ev["transform"] != string(evidence.Thumb320) ||
			ev["description"] != evidence.Thumb320.Description() {
			t.Errorf("event detail = %v", ev)
		}
		raw, _ := json.Marshal(ev)
		if strings.Contains(string(raw), "SECRET") {
			t.Errorf("event names the file: %s", raw)
		}
		if _, err := audit.Verify(context.Background(), db.Gorm); err != nil {
			t.Errorf("chain: %v", err)
		}
	})
}

func TestDerivativesLoadsEveryFilesDerivativesAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, _ := fileStore(t, 0)
		a := f.onRecord(t, s, phoneJPEG(t), "a.jpg")
		b := f.onRecord(t, s, taggedPNG(t), "b.png")
		c := f.onRecord(t, s, pdfBytes(), "c.pdf")
		ac, _ := derive(t, s, db, a, evidence.Clean)
		at, _ := derive(t, s, db, a, evidence.Thumb320)
		bt, _ := derive(t, s, db, b, evidence.Thumb320)
		got, err := evidence.Derivatives(context.Background(), db.Gorm, []int64{a.ID, b.ID, c.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[a.ID][evidence.Clean] != ac || got[a.ID][evidence.Thumb320] != at ||
			got[b.ID][evidence.Thumb320] != bt || len(got[b.ID]) != 1 {
			t.Errorf("Derivatives = %+v", got)
		}
	})
}

func TestTransformsHaveDescriptionsAndParse(t *testing.T) {
	for _, tr := range evidence.Transforms {
		if got, err := evidence.ParseTransform(string(tr)); got != tr || err != nil {
			t.Errorf("ParseTransform(%q) = %q, %v", tr, got, err)
		}
		if d := tr.Description(); !strings.Contains(d, "EXIF") || !strings.Contains(d, "GPS") {
			t.Errorf("%s: description %q", tr, d)
		}
	}
	if _, err := evidence.ParseTransform("raw"); !errors.Is(err, evidence.ErrUnknownTransform) {
		t.Errorf("ParseTransform(raw) = %v", err)
	}
	for ct, want := range map[string]bool{"image/jpeg": true, "image/png": true, "image/webp": true,
		"image/heic": false, "image/heif": false, "application/pdf": false, "image/gif": false} {
		if evidence.Derivable(ct) != want {
			t.Errorf("Derivable(%s) != %v", ct, want)
		}
	}
}
