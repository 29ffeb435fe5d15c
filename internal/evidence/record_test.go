package evidence_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/evidence"
	"spotcheck/internal/valid"
)

func TestRecordTxWritesRowsAndOneAuditEventPerFile(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, _ := fileStore(t, 0)
		ctx := context.Background()
		a, err := s.Put(ctx, bytes.NewReader(pngBytes(t)), "../receipt.png")
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Put(ctx, bytes.NewReader(pdfBytes()), "收据 2026.pdf")
		if err != nil {
			t.Fatal(err)
		}
		before := time.Now().UTC().Add(-time.Second)
		got := f.record(t, vol, a, b)
		if len(got) != 2 || got[0].ID == 0 || got[1].ID <= got[0].ID {
			t.Fatalf("recorded %+v", got)
		}
		rows, err := evidence.ForCase(ctx, db.Gorm, f.caseID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].ID != got[0].ID || rows[1].ID != got[1].ID {
			t.Fatalf("ForCase = %+v", rows)
		}
		e := rows[1]
		if e.BlobKey != b.Key || e.SHA256 != b.SHA256 || e.Size != b.Size || e.ContentType != "application/pdf" ||
			e.OriginalName != "收据 2026.pdf" || e.Kind != evidence.Receipt || e.Visibility != evidence.StaffOnly ||
			e.UploadedBy != vol.UserID || e.UploadedAt.Before(before) || e.Withdrawn() || e.CheckedAt != nil || e.FaultAt != nil {
			t.Fatalf("row %+v", e)
		}
		if rows[0].OriginalName != "receipt.png" {
			t.Fatalf("name kept as %q", rows[0].OriginalName)
		}
		if g, err := evidence.Get(ctx, db.Gorm, e.ID); err != nil || g.BlobKey != e.BlobKey {
			t.Fatalf("Get = %+v, %v", g, err)
		}
		if _, err := evidence.Get(ctx, db.Gorm, e.ID+100); !errors.Is(err, database.ErrNotFound) {
			t.Fatalf("Get of an unknown id = %v", err)
		}
		var events []audit.Event
		if err := db.Gorm.Where("action = ?", "evidence.upload").Order("seq").Find(&events).Error; err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 {
			t.Fatalf("%d upload events, want 2", len(events))
		}
		for i, ev := range events {
			if ev.ObjectType != "evidence" || ev.ObjectID != strconv.FormatInt(got[i].ID, 10) {
				t.Fatalf("event %+v", ev)
			}
			var d map[string]any
			if err := json.Unmarshal([]byte(ev.Detail), &d); err != nil {
				t.Fatal(err)
			}
			if d["case"] != f.ref || d["kind"] != "receipt" || d["sha256"] != got[i].SHA256 || d["size"] != float64(got[i].Size) ||
				d["content_type"] != got[i].ContentType || d["visibility"] != "staff" {
				t.Fatalf("detail %v", d)
			}
		}
		if _, err := audit.Verify(ctx, db.Gorm); err != nil {
			t.Fatalf("audit chain: %v", err)
		}
	})
}

func TestRecordTxRefusesAKindOrVisibilityOutsideTheLists(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		st := evidence.Stored{Key: "evidence/x", SHA256: strings.Repeat("a", 64), Size: 1, ContentType: "image/png"}
		for _, n := range []evidence.New{
			{CaseID: f.caseID, Kind: "selfie", Visibility: evidence.StaffOnly, Stored: st},
			{CaseID: f.caseID, Kind: evidence.Receipt, Visibility: "public", Stored: st},
		} {
			err := db.InTx(context.Background(), func(tx *gorm.DB) error {
				_, err := evidence.RecordTx(context.Background(), tx, staff, f.ref, []evidence.New{n})
				return err
			})
			if !errors.Is(err, valid.ErrInvalid) {
				t.Fatalf("RecordTx(%+v) = %v", n, err)
			}
		}
	})
}

func TestAttachRecordsCaseFilesWithTheChosenVisibility(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, _ := fileStore(t, 0)
		ctx := context.Background()
		st, err := s.Put(ctx, bytes.NewReader(pdfBytes()), "police.pdf")
		if err != nil {
			t.Fatal(err)
		}
		if err := evidence.Attach(ctx, db, staff, f.caseID, f.ref, evidence.BrandVisible, nil); !errors.Is(err, valid.ErrInvalid) {
			t.Fatalf("Attach of nothing = %v", err)
		}
		err = evidence.Attach(ctx, db, staff, f.caseID, f.ref, evidence.BrandVisible,
			[]evidence.Upload{{Kind: evidence.PoliceDocument, Stored: st}})
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := evidence.ForCase(ctx, db.Gorm, f.caseID)
		if len(rows) != 1 || rows[0].Kind != evidence.PoliceDocument || rows[0].Visibility != evidence.BrandVisible ||
			rows[0].PurchaseID != nil || rows[0].UploadedBy != staff.UserID {
			t.Fatalf("rows %+v", rows)
		}
	})
}

// The database itself keeps evidence as it was recorded, whatever the
// code above it does: these statements bypass the package on purpose.
func TestEvidenceIsImmutableInTheDatabase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		s, _ := fileStore(t, 0)
		ctx := context.Background()
		st, err := s.Put(ctx, bytes.NewReader(pngBytes(t)), "a.png")
		if err != nil {
			t.Fatal(err)
		}
		e := f.record(t, vol, st)[0]
		g := db.Gorm
		for name, sql := range map[string]string{
			"sha256":        "UPDATE evidence SET sha256 = '" + strings.Repeat("0", 64) + "' WHERE id = ?",
			"blob_key":      "UPDATE evidence SET blob_key = 'evidence/other' WHERE id = ?",
			"original_name": "UPDATE evidence SET original_name = 'other.png' WHERE id = ?",
			"visibility":    "UPDATE evidence SET visibility = 'brand' WHERE id = ?",
			"delete":        "DELETE FROM evidence WHERE id = ?",
		} {
			if err := g.Exec(sql, e.ID).Error; err == nil {
				t.Errorf("%s: the database accepted it", name)
			}
		}
		// The integrity columns may change.
		if err := g.Exec("UPDATE evidence SET checked_at = ? WHERE id = ?", time.Now().UTC(), e.ID).Error; err != nil {
			t.Fatalf("checked_at: %v", err)
		}

		if err := evidence.Withdraw(ctx, db, vol, e.ID, "  "); !errors.Is(err, valid.ErrInvalid) {
			t.Fatalf("Withdraw without a reason = %v", err)
		} else if errs, _ := valid.As(err); errs["reason"] != "error.reason_required" {
			t.Fatalf("field errors %v", errs)
		}
		if err := evidence.Withdraw(ctx, db, vol, e.ID, "wrong receipt"); err != nil {
			t.Fatal(err)
		}
		w, _ := evidence.Get(ctx, db.Gorm, e.ID)
		if !w.Withdrawn() || w.WithdrawnBy == nil || *w.WithdrawnBy != vol.UserID || w.WithdrawnReason != "wrong receipt" {
			t.Fatalf("after withdrawal %+v", w)
		}
		if err := evidence.Withdraw(ctx, db, staff, e.ID, "again"); !errors.Is(err, evidence.ErrWithdrawn) {
			t.Fatalf("second withdrawal = %v, want ErrWithdrawn", err)
		}
		if err := g.Exec("UPDATE evidence SET withdrawn_at = ? WHERE id = ?", time.Now().UTC().Add(time.Hour), e.ID).Error; err == nil {
			t.Fatal("the database let a withdrawal be changed")
		}
		if err := g.Exec("UPDATE evidence SET withdrawn_at = NULL WHERE id = ?", e.ID).Error; err == nil {
			t.Fatal("the database let a withdrawal be undone")
		}
		if err := evidence.Withdraw(ctx, db, staff, e.ID+100, "no such file"); !errors.Is(err, database.ErrNotFound) {
			t.Fatalf("withdrawing an unknown id = %v", err)
		}
		var n int64
		if err := g.Model(&audit.Event{}).Where("action = ? AND object_id = ?", "evidence.withdraw", strconv.FormatInt(e.ID, 10)).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("%d withdrawal events, want 1", n)
		}
		if rows, _ := evidence.ForCase(ctx, db.Gorm, f.caseID); len(rows) != 1 {
			t.Fatalf("a withdrawn file must stay listed: %d rows", len(rows))
		}
	})
}
