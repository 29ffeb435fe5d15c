package flag_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"gorm.io/gorm"

	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/flag"
	"spotcheck/internal/role"
	"spotcheck/internal/valid"
)

var shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// importer is a staff member with the service, as the import screens use it.
type importer struct {
	t     *testing.T
	db    *database.DB
	s     *flag.Service
	actor authz.Actor
}

func newImporter(t *testing.T, db *database.DB) importer {
	t.Helper()
	seedBrands(t, db)
	now := time.Now().UTC()
	if err := db.Gorm.Exec(`INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at) VALUES (7, 'staff@example.test', 'Staff', 'staff', 'x', ?, ?)`,
		now, now).Error; err != nil {
		t.Fatal(err)
	}
	return importer{t: t, db: db, s: flag.NewService(db, 0.8), actor: authz.Actor{UserID: 7, Role: role.Staff}}
}

// run previews the file and, when the preview is accepted, imports it.
func (im importer) run(name string, content []byte) (flag.Import, []flag.PreviewRow) {
	im.t.Helper()
	ctx := context.Background()
	imp, preview, err := im.s.CreateImport(ctx, im.actor, name, content, shanghai)
	if err != nil {
		im.t.Fatalf("preview of %s: %v", name, err)
	}
	if err := im.s.StartImport(ctx, im.actor, imp.ID, func(*gorm.DB) error { return nil }); err != nil {
		im.t.Fatal(err)
	}
	if err := im.s.RunImport(ctx, imp.ID, shanghai); err != nil {
		im.t.Fatalf("import of %s: %v", name, err)
	}
	done, err := im.s.GetImport(ctx, im.actor, imp.ID)
	if err != nil {
		im.t.Fatal(err)
	}
	return done, preview
}

// shopNames are the stored shops' names by platform shop id.
func (im importer) shopNames() map[string]string {
	im.t.Helper()
	var rows []struct{ PlatformShopID, Name string }
	if err := im.db.Gorm.Raw("SELECT platform_shop_id, name FROM shops").Scan(&rows).Error; err != nil {
		im.t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.PlatformShopID] = r.Name
	}
	return out
}

const header = "source,external_id,brand,score,rule,detected_at,shop_platform,shop_id,shop_name,shop_owner,listing_id,listing_title\n"

// chineseCSV is three flags about shops with Chinese names, as UTF-8.
const chineseCSV = header +
	"risk,c-1,Aurora Timepieces,0.5,price_anomaly,2026-11-20T08:00:00Z,taobao,s-1,星光名表旗舰店,刘伟,it-1,正品手表 特价\n" +
	"risk,c-2,Aurora Timepieces,0.5,price_anomaly,2026-11-20T08:00:00Z,taobao,s-2,\"皮具城, 总店\",王芳,it-2,真皮钱包\n" +
	"risk,c-3,Lotus Leather,0.5,price_anomaly,2026-11-20T08:00:00Z,taobao,s-3,𠮷野家精品（GB18030 四字节）,李娜,it-3,手袋\n"

var wantNames = map[string]string{"s-1": "星光名表旗舰店", "s-2": "皮具城, 总店", "s-3": "𠮷野家精品（GB18030 四字节）"}

func checkNames(t *testing.T, got map[string]string) {
	t.Helper()
	for id, want := range wantNames {
		if got[id] != want {
			t.Errorf("shop %s is named %q, want %q", id, got[id], want)
		}
	}
}

func checkImported(t *testing.T, imp flag.Import, preview []flag.PreviewRow, want int) {
	t.Helper()
	if imp.Status != "done" || imp.Created != want || imp.Rejected != 0 {
		t.Fatalf("import %s: %d created, %d rejected (%s), want %d created", imp.Status, imp.Created, imp.Rejected, imp.Rejections, want)
	}
	for _, r := range preview {
		if r.Problem != nil {
			t.Errorf("preview line %d: %+v", r.Line, *r.Problem)
		}
	}
}

func gb18030(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAGB18030FileImportsWithItsChineseNamesIntact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		im := newImporter(t, db)
		content := gb18030(t, chineseCSV)
		imp, preview := im.run("flags.csv", content)
		checkImported(t, imp, preview, 3)
		if preview[0].Cells[8] != "星光名表旗舰店" {
			t.Errorf("the preview shows %q", preview[0].Cells[8])
		}
		checkNames(t, im.shopNames())
	})
}

func TestImportOfUTF16WithTabsAsExcelSavesUnicodeText(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		im := newImporter(t, db)
		tabbed := strings.ReplaceAll(chineseCSV, ",", "\t")
		tabbed = strings.ReplaceAll(tabbed, "\"皮具城\t 总店\"", "皮具城, 总店") // a comma needs no quotes between tabs
		tabbed = strings.ReplaceAll(tabbed, "\n", "\r\n")
		content, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(tabbed))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(content, []byte{0xff, 0xfe}) {
			t.Fatal("the test file has no byte-order mark")
		}
		imp, preview := im.run("flags.txt", content)
		checkImported(t, imp, preview, 3)
		checkNames(t, im.shopNames())
	})
}

func TestImportOfUTF16BigEndian(t *testing.T) {
	im := newImporter(t, dbtest.SQLite(t))
	content, err := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(chineseCSV))
	if err != nil {
		t.Fatal(err)
	}
	imp, preview := im.run("flags.csv", content)
	checkImported(t, imp, preview, 3)
	checkNames(t, im.shopNames())
}

func TestImportOfUTF8WithOrWithoutAByteOrderMark(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		im := newImporter(t, db)
		imp, preview := im.run("bom.csv", []byte("\ufeff"+chineseCSV))
		checkImported(t, imp, preview, 3)
		checkNames(t, im.shopNames())
		plain := strings.ReplaceAll(chineseCSV, "c-", "d-")
		imp, preview = im.run("plain.csv", []byte(plain))
		checkImported(t, imp, preview, 3)
	})
}

func TestImportRefusesBytesOfNoKnownEncodingAtPreview(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		im := newImporter(t, db)
		lines := strings.SplitAfter(chineseCSV, "\n")
		utf16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(chineseCSV))
		for name, tc := range map[string]struct {
			content []byte
			line    int
		}{
			// Latin-1 "é" followed by a comma is neither UTF-8 nor GB18030.
			"latin-1 on line 3":       {[]byte(lines[0] + lines[1] + strings.Replace(lines[2], "皮具城", "caf\xe9", 1) + lines[3]), 3},
			"bad UTF-8 after a BOM":   {[]byte("\ufeff" + lines[0] + lines[1] + lines[2] + "risk,c-9,\xff\xfe\n"), 4},
			"a lone 0xFF in GB18030":  {append(gb18030(t, lines[0]+lines[1]), []byte("risk,c-8,\xff\n")...), 3},
			"UTF-16 cut mid-way":      {utf16[:len(utf16)-1], 4},
			"UTF-16 lone surrogate":   {append(append([]byte{}, utf16[:len(utf16)-2]...), 0x00, 0xd8), 4},
			"a replacement character": {[]byte(lines[0] + strings.Replace(lines[1], "星光", "星\ufffd", 1)), 2},
			"NUL bytes":               {[]byte(lines[0] + "risk,c-7\x00,Aurora\n"), 2},
		} {
			t.Run(name, func(t *testing.T) {
				_, _, err := im.s.CreateImport(context.Background(), im.actor, "bad.csv", tc.content, shanghai)
				var ee *flag.EncodingError
				if !errors.As(err, &ee) || ee.Line != tc.line {
					t.Fatalf("got %v, want an encoding error on line %d", err, tc.line)
				}
				if !errors.Is(err, valid.ErrInvalid) {
					t.Error("an encoding error is not an invalid input")
				}
				if !strings.Contains(err.Error(), "not UTF-8, UTF-16 or GB18030") {
					t.Errorf("message %q", err.Error())
				}
			})
		}
		if n := count(t, db, "flag_imports", ""); n != 0 {
			t.Fatalf("%d refused files were kept", n)
		}
		if n := count(t, db, "shops", ""); n != 0 {
			t.Fatalf("%d shops stored", n)
		}
	})
}

func TestImportRefusesAnOldBinaryExcelFile(t *testing.T) {
	im := newImporter(t, dbtest.SQLite(t))
	xls := append([]byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}, make([]byte, 504)...)
	_, _, err := im.s.CreateImport(context.Background(), im.actor, "flags.xls", xls, shanghai)
	fe, ok := valid.As(err)
	if !ok || fe["file"] != "error.import_xls" {
		t.Fatalf("got %v", err)
	}
}

// workbook writes rows into the first sheet of a new xlsx; a time.Time
// becomes a date cell with a date-time format, as Excel stores one.
func workbook(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	dbtest.Close(t, f)
	sheet := f.GetSheetName(0)
	style, err := f.NewStyle(&excelize.Style{NumFmt: 22}) // m/d/yy h:mm
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		for j, v := range r {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellValue(sheet, cell, v); err != nil {
				t.Fatal(err)
			}
			if _, ok := v.(time.Time); ok {
				_ = f.SetCellStyle(sheet, cell, cell, style)
			}
		}
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestAnXLSXWorkbookImportsTheSameRowsAsTheCSV(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		im := newImporter(t, db)
		at := time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC) // the wall clock Excel shows: 16:00 in Shanghai
		var rows [][]any
		var head []any
		for _, c := range strings.Split(strings.TrimSuffix(header, "\n"), ",") {
			head = append(head, c)
		}
		rows = append(rows, head)
		for i, id := range []string{"s-1", "s-2", "s-3"} {
			// score and listing id as numbers, as Excel keeps typed-in numbers
			rows = append(rows, []any{"risk", "x-" + id, "Aurora Timepieces", 0.5, "price_anomaly", at, "taobao", id, wantNames[id], "刘伟", 1234567890123 + i, "手表"})
		}
		// the CSV of the same rows, dates as Excel writes them
		var csv strings.Builder
		csv.WriteString(header)
		for i, id := range []string{"s-1", "s-2", "s-3"} {
			csv.WriteString("risk,y-" + id + ",Aurora Timepieces,0.5,price_anomaly,2026/11/20 16:00,taobao,c" + id + `,"` + wantNames[id] + `",刘伟,` +
				[]string{"1234567890123", "1234567890124", "1234567890125"}[i] + ",手表\n")
		}
		x, xp := im.run("flags.xlsx", workbook(t, rows))
		c, cp := im.run("flags.csv", gb18030(t, csv.String()))
		checkImported(t, x, xp, 3)
		checkImported(t, c, cp, 3)
		for i := range xp {
			xc, cc := xp[i].Cells, cp[i].Cells
			if xp[i].Line != cp[i].Line || xc[8] != cc[8] || xc[10] != cc[10] {
				t.Errorf("xlsx row %d %q, csv %q", xp[i].Line, xc, cc)
			}
		}
		checkNames(t, im.shopNames())
		var got []struct {
			ExternalID string
			DetectedAt time.Time
		}
		if err := db.Gorm.Raw("SELECT external_id, detected_at FROM flags ORDER BY external_id").Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		want := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
		for _, f := range got {
			if !f.DetectedAt.Equal(want) {
				t.Errorf("%s detected at %s, want %s", f.ExternalID, f.DetectedAt.UTC(), want)
			}
		}
		var listings int64
		if err := db.Gorm.Table("listings").Where("platform_listing_id = ?", "1234567890123").Count(&listings).Error; err != nil {
			t.Fatal(err)
		}
		if listings != 2 {
			t.Errorf("the numeric listing id was stored as something else (%d found)", listings)
		}
	})
}

func TestImportRefusesAWorkbookWithoutTheColumns(t *testing.T) {
	im := newImporter(t, dbtest.SQLite(t))
	_, _, err := im.s.CreateImport(context.Background(), im.actor, "x.xlsx", workbook(t, [][]any{{"name", "price"}, {"x", 1}}), shanghai)
	if fe, ok := valid.As(err); !ok || fe["file"] != "error.csv_columns" {
		t.Fatalf("got %v", err)
	}
}

func TestImportReadsExcelsDateFormatsAsLocalTimes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		im := newImporter(t, db)
		cases := map[string]time.Time{
			"2026/11/20 8:00":           time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
			"2026/11/20 08:00:00":       time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
			"2026-11-20 08:00:00":       time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
			"2026-11-20 8:00":           time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
			"2026/1/2 23:59":            time.Date(2026, 1, 2, 15, 59, 0, 0, time.UTC),
			"2026/11/20":                time.Date(2026, 11, 19, 16, 0, 0, 0, time.UTC),
			"2026-11-20T08:00:00Z":      time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC),
			"2026-11-20T08:00:00+02:00": time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC),
		}
		var b strings.Builder
		b.WriteString(header)
		var ids []string
		for v := range cases {
			ids = append(ids, v)
			b.WriteString("risk," + v + ",Aurora Timepieces,0.5,,\"" + v + "\",taobao,s-1,,,,\n")
		}
		b.WriteString("risk,bad,Aurora Timepieces,0.5,,20/11/2026 8:00,taobao,s-1,,,,\n")
		imp, preview := im.run("dates.csv", []byte(b.String()))
		if imp.Created != len(cases) || imp.Rejected != 1 {
			t.Fatalf("%d created, %d rejected: %s", imp.Created, imp.Rejected, imp.Rejections)
		}
		if last := preview[len(preview)-1]; last.Problem == nil || last.Problem.Field != "detected_at" {
			t.Errorf("the day-first date was not refused in the preview: %+v", last)
		}
		for _, id := range ids {
			var at time.Time
			if err := db.Gorm.Raw("SELECT detected_at FROM flags WHERE external_id = ?", id).Row().Scan(&at); err != nil {
				t.Fatal(err)
			}
			if !at.Equal(cases[id]) {
				t.Errorf("%q was stored as %s, want %s", id, at.UTC(), cases[id])
			}
		}
	})
}

// TestImportBatchThatFailsLeavesTheProgressUnchanged: the progress of a batch is
// written in the batch's transaction, so when it cannot be written the
// batch's flags are not stored either, and the retry counts each row once.
func TestImportBatchThatFailsLeavesTheProgressUnchanged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		im := newImporter(t, db)
		ctx := context.Background()
		imp, _, err := im.s.CreateImport(ctx, im.actor, "flags.csv", []byte(chineseCSV), shanghai)
		if err != nil {
			t.Fatal(err)
		}
		if err := im.s.StartImport(ctx, im.actor, imp.ID, func(*gorm.DB) error { return nil }); err != nil {
			t.Fatal(err)
		}
		// The database refuses to record progress, as a crash between the
		// batch and its progress would leave it.
		if db.Dialect == database.Postgres {
			su := dbtest.PostgresSuperuser(t, db)
			for _, q := range []string{
				`CREATE FUNCTION refuse_progress() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no progress'; END $$`,
				`CREATE TRIGGER refuse_progress BEFORE UPDATE OF rows_done ON flag_imports FOR EACH ROW EXECUTE FUNCTION refuse_progress()`,
			} {
				if _, err := su.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			t.Cleanup(func() {
				if _, err := su.Exec(`DROP TRIGGER refuse_progress ON flag_imports`); err != nil {
					t.Error(err)
				}
			})
		} else {
			if err := db.Gorm.Exec(`CREATE TRIGGER refuse_progress BEFORE UPDATE OF rows_done ON flag_imports BEGIN SELECT RAISE(ABORT, 'no progress'); END`).Error; err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := db.Gorm.Exec(`DROP TRIGGER refuse_progress`).Error; err != nil {
					t.Error(err)
				}
			})
		}
		if err := im.s.RunImport(ctx, imp.ID, shanghai); err == nil {
			t.Fatal("the batch did not fail")
		}
		after, err := im.s.GetImport(ctx, im.actor, imp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.RowsDone != 0 || after.Created != 0 {
			t.Fatalf("progress %d rows, %d created after a failed batch", after.RowsDone, after.Created)
		}
		if n := count(t, db, "flags", ""); n != 0 {
			t.Fatalf("%d flags of the failed batch were stored without its progress", n)
		}
	})
}
