package evidence_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"spotcheck/internal/audit"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/evidence"
)

func faultEvents(t *testing.T, db *database.DB, action string, id int64) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Model(&audit.Event{}).Where("action = ? AND object_id = ?", action, strconv.FormatInt(id, 10)).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCheckerReportsAChangedAndAMissingFileOnceAndLeavesCleanOnesAlone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, dir := fileStore(t, 0)
		ctx := context.Background()
		var stored []evidence.Stored
		for i := 0; i < 3; i++ {
			st, err := s.Put(ctx, bytes.NewReader(pdfOfSize(5000+i)), "f.pdf")
			if err != nil {
				t.Fatal(err)
			}
			stored = append(stored, st)
		}
		rows := f.record(t, staff, stored...)
		clean, flipped, gone := rows[0], rows[1], rows[2]

		// One byte flipped on disk, behind the store's back.
		p := filepath.Join(dir, filepath.FromSlash(flipped.BlobKey))
		b, err := os.ReadFile(p) // #nosec G304 -- a blob key of the test's own evidence in its temporary folder
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x01
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(gone.BlobKey))); err != nil {
			t.Fatal(err)
		}

		var logs bytes.Buffer
		c := &evidence.Checker{DB: db, Store: s, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
		rep, err := c.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Checked != 3 || len(rep.Faults) != 2 {
			t.Fatalf("report %+v", rep)
		}
		byID := map[int64]evidence.Fault{}
		for _, fl := range rep.Faults {
			byID[fl.EvidenceID] = fl
		}
		if fl := byID[flipped.ID]; fl.Expected != flipped.SHA256 || fl.Found == flipped.SHA256 || len(fl.Found) != 64 ||
			fl.CaseID != f.caseID || fl.FoundSize != flipped.Size || !fl.New {
			t.Fatalf("flipped file: %+v", fl)
		}
		if fl := byID[gone.ID]; fl.Found != evidence.Missing || fl.Expected != gone.SHA256 || !fl.New {
			t.Fatalf("missing file: %+v", fl)
		}
		if _, ok := byID[clean.ID]; ok {
			t.Fatal("the clean file was reported")
		}
		if !strings.Contains(logs.String(), "level=ERROR") {
			t.Fatalf("no error logged:\n%s", logs.String())
		}
		for _, e := range []evidence.Evidence{clean, flipped, gone} {
			got, _ := evidence.Get(ctx, db.Gorm, e.ID)
			if got.CheckedAt == nil || (got.FaultAt != nil) != (e.ID != clean.ID) {
				t.Fatalf("evidence %d after the check: checked %v, fault %v", e.ID, got.CheckedAt, got.FaultAt)
			}
		}

		// A second run still reports both, but audits neither again.
		rep, err = c.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Faults) != 2 || rep.Faults[0].New || rep.Faults[1].New {
			t.Fatalf("second report %+v", rep)
		}
		for _, e := range []evidence.Evidence{flipped, gone} {
			if n := faultEvents(t, db, "evidence.integrity_fault", e.ID); n != 1 {
				t.Fatalf("evidence %d: %d fault events, want 1", e.ID, n)
			}
		}
		if n := faultEvents(t, db, "evidence.integrity_fault", clean.ID); n != 0 {
			t.Fatalf("clean file audited as a fault")
		}

		// Put back from a backup, the file is whole again and its fault is
		// cleared, on the record.
		b[len(b)/2] ^= 0x01
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err = c.Check(ctx)
		if err != nil || len(rep.Faults) != 1 || rep.Faults[0].EvidenceID != gone.ID {
			t.Fatalf("after the restore: %+v, %v", rep, err)
		}
		if got, _ := evidence.Get(ctx, db.Gorm, flipped.ID); got.FaultAt != nil {
			t.Fatal("the restored file is still marked faulty")
		}
		if n := faultEvents(t, db, "evidence.integrity_restored", flipped.ID); n != 1 {
			t.Fatalf("%d restore events, want 1", n)
		}
		if _, err := audit.Verify(ctx, db.Gorm); err != nil {
			t.Fatalf("audit chain: %v", err)
		}
	})
}

// The check pages through the table: more rows than two pages, all read
// and all marked checked.
func TestCheckerReadsEveryPage(t *testing.T) {
	db := dbtest.SQLite(t)
	f := setup(t, db)
	s, _ := fileStore(t, 0)
	const n = 450
	for i := 0; i < n; i++ {
		st, err := s.Put(context.Background(), bytes.NewReader(pdfOfSize(100+i)), "f.pdf")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Exec(`INSERT INTO evidence (case_id, kind, blob_key, sha256, size, content_type, visibility, uploaded_by, uploaded_at)
			VALUES (?, 'receipt', ?, ?, ?, ?, 'staff', 1, CURRENT_TIMESTAMP)`,
			f.caseID, st.Key, st.SHA256, st.Size, st.ContentType).Error; err != nil {
			t.Fatal(err)
		}
	}
	rep, err := (&evidence.Checker{DB: db, Store: s}).Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var unchecked int64
	if err := db.Gorm.Model(&evidence.Evidence{}).Where("checked_at IS NULL").Count(&unchecked).Error; err != nil {
		t.Fatal(err)
	}
	if rep.Checked != n || len(rep.Faults) != 0 || unchecked != 0 {
		t.Fatalf("checked %d, faults %d, unchecked rows %d; want %d, 0, 0", rep.Checked, len(rep.Faults), unchecked, n)
	}
}

func TestIntegrityWorkerRunsTheCheck(t *testing.T) {
	db := dbtest.SQLite(t)
	f := setup(t, db)
	s, _ := fileStore(t, 0)
	st, err := s.Put(context.Background(), bytes.NewReader(pngBytes(t)), "a.png")
	if err != nil {
		t.Fatal(err)
	}
	e := f.record(t, staff, st)[0]
	w := &evidence.IntegrityWorker{Checker: &evidence.Checker{DB: db, Store: s}}
	if err := w.Work(context.Background(), &river.Job[evidence.IntegrityArgs]{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := evidence.Get(context.Background(), db.Gorm, e.ID); got.CheckedAt == nil {
		t.Fatal("the worker did not check the file")
	}
	if (evidence.IntegrityArgs{}).Kind() != "evidence.integrity" || evidence.IntegrityEvery(24*time.Hour) == nil {
		t.Fatal("job wiring")
	}
	if w.Timeout(nil) <= time.Minute {
		t.Fatal("a full check needs more than River's default minute")
	}
}
