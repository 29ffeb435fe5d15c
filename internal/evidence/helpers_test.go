package evidence_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gorm.io/gorm"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/evidence"
	"spotcheck/internal/role"
)

var (
	staff = authz.Actor{UserID: 1, Role: role.Staff}
	vol   = authz.Actor{UserID: 2, Role: role.Volunteer}
)

// fileStore is a Store on a file:// bucket in a fresh folder.
func fileStore(t testing.TB, max int64) (*evidence.Store, string) {
	t.Helper()
	dir := t.TempDir()
	b, err := evidence.OpenBucket(context.Background(), "file://"+filepath.ToSlash(dir))
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Close(t, b)
	return &evidence.Store{Bucket: b, MaxSize: max}, dir
}

// keys lists every object in b.
func keys(t testing.TB, b *blob.Bucket) []string {
	t.Helper()
	var out []string
	it := b.List(nil)
	for {
		obj, err := it.Next(context.Background())
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, obj.Key)
	}
}

// diskFiles lists every regular file under dir: objects, their metadata
// and any temporary file a write left behind.
func diskFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readAll(t testing.TB, s *evidence.Store, key string) []byte {
	t.Helper()
	r, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Minimal files of each type: real encoders for PNG and JPEG, the
// signatures a reader checks for the others.

func pngBytes(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{200, 30, 30, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func webpBytes() []byte {
	return append([]byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"), make([]byte, 24)...)
}

func heicBytes() []byte {
	return append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 64)...)
}

func pdfBytes() []byte {
	return []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

func zipBytes(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, err := z.Create("receipt.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("not really")); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fixture is a case to hang evidence on, with a staff member (user 1) and
// a volunteer (user 2).
type fixture struct {
	db     *database.DB
	caseID int64
	ref    string
}

func setup(t testing.TB, db *database.DB) fixture {
	t.Helper()
	now := time.Now().UTC()
	g := db.Gorm
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct {
		id   int64
		role string
	}{{1, "staff"}, {2, "volunteer"}} {
		must(g.Exec(`INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, 'x', ?, ?)`,
			u.id, fmt.Sprintf("u%d@x.test", u.id), fmt.Sprintf("User %d", u.id), u.role, now, now).Error)
	}
	must(g.Exec(`INSERT INTO brands (id, name, created_at) VALUES (1, 'Aurora', ?)`, now).Error)
	must(g.Exec(`INSERT INTO shops (id, platform, platform_shop_id, name, created_at, updated_at) VALUES (1, 'taobao', 's-1', 'Shop', ?, ?)`,
		now, now).Error)
	f := fixture{db: db}
	must(db.InTx(context.Background(), func(tx *gorm.DB) error {
		cs, err := casework.OpenTx(tx, staff, []casework.NewCase{{ShopID: 1, BrandID: 1}})
		if err == nil {
			f.caseID, f.ref = cs[0].ID, cs[0].Reference
		}
		return err
	}))
	return f
}

// record puts stored files on the fixture's case, staff-only receipts.
func (f fixture) record(t testing.TB, actor authz.Actor, files ...evidence.Stored) []evidence.Evidence {
	t.Helper()
	in := make([]evidence.New, len(files))
	for i, st := range files {
		in[i] = evidence.New{CaseID: f.caseID, Kind: evidence.Receipt, Visibility: evidence.StaffOnly, Stored: st}
	}
	var out []evidence.Evidence
	err := f.db.InTx(context.Background(), func(tx *gorm.DB) error {
		var err error
		out, err = evidence.RecordTx(context.Background(), tx, actor, f.ref, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
