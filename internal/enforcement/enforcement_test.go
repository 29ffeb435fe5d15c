package enforcement_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/role"
	"spotcheck/internal/valid"
)

var (
	staff     = authz.Actor{UserID: 2, Role: role.Staff}
	brandUser = authz.Actor{UserID: 4, Role: role.Brand, BrandIDs: []int64{1}}
)

// confirmedCase makes a case in confirmed with a counterfeit verdict
// signed at signedAt.
func confirmedCase(t *testing.T, db *database.DB, signedAt time.Time) casework.Case {
	t.Helper()
	now := time.Now().UTC()
	exec := func(q string, args ...any) {
		t.Helper()
		if err := db.Gorm.Exec(q, args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct {
		id   int64
		role string
	}{{2, "staff"}, {3, "volunteer"}, {4, "brand"}} {
		exec(`INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at) VALUES (?, ?, 'U', ?, 'x', ?, ?)`,
			u.id, fmt.Sprintf("u%d@x.test", u.id), u.role, now, now)
	}
	exec(`INSERT INTO brands (id, name, created_at) VALUES (1, 'Aurora', ?)`, now)
	exec(`INSERT INTO shops (id, platform, platform_shop_id, name, created_at, updated_at) VALUES (1, 'taobao', 's-1', 'Shop', ?, ?)`, now, now)
	var c casework.Case
	if err := db.InTx(context.Background(), func(tx *gorm.DB) error {
		cs, err := casework.OpenTx(tx, staff, []casework.NewCase{{ShopID: 1, BrandID: 1}})
		c = cs[0]
		return err
	}); err != nil {
		t.Fatal(err)
	}
	exec(`UPDATE cases SET state = 'confirmed' WHERE id = ?`, c.ID)
	exec(`INSERT INTO volunteers (user_id, pseudonym, created_at) VALUES (3, 'Buyer B-TEST', ?)`, now)
	exec(`INSERT INTO personas (id, volunteer_id, platform_account, address_alias, phone, payment_instrument, created_at) VALUES (1, 3, 'a', 'b', 'c', 'd', ?)`, now)
	exec(`INSERT INTO purchases (id, case_id, shop_id, volunteer_id, persona_id, ordered_by, status, budget_minor, currency, due_on, created_at, updated_at)
		VALUES (1, ?, 1, 3, 1, 2, 'dispatched', 100, 'CNY', ?, ?, ?)`, c.ID, now, now, now)
	exec(`INSERT INTO items (id, purchase_id, case_id, number, holder_kind, holder_id, custody_seq, created_at) VALUES (1, 1, ?, 'X-1', 'brand', 1, 3, ?)`, c.ID, now)
	exec(`INSERT INTO verdicts (case_id, item_id, brand_id, result, authenticator, signed_name, signed_by, signed_at) VALUES (?, 1, 1, 'counterfeit', 'A', 'A', 4, ?)`, c.ID, signedAt)
	db.Gorm.Take(&c, c.ID)
	return c
}

func bundle(t *testing.T, db *database.DB, caseID int64, at time.Time, status string) {
	t.Helper()
	if err := db.Gorm.Exec(`INSERT INTO bundles (case_id, requested_by, lang, status, created_at) VALUES (?, 2, 'en', ?, ?)`, caseID, status, at).Error; err != nil {
		t.Fatal(err)
	}
}

func TestReferringNeedsABundleBuiltAfterTheVerdict(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		signed := time.Now().UTC().Add(-time.Hour)
		c := confirmedCase(t, db, signed)
		svc := enforcement.NewService(db, enforcement.DefaultThresholds)
		in := enforcement.ReferralInput{CaseVersion: c.Version, Bureau: "Riverside Public Security Bureau", District: "North",
			ReferredOn: time.Now().UTC().Format(time.DateOnly), LetterNumber: "L-77"}
		if _, err := svc.Refer(ctx, staff, c.ID, in); !errors.Is(err, enforcement.ErrNoBundle) {
			t.Fatalf("no bundle: %v", err)
		}
		bundle(t, db, c.ID, signed.Add(-time.Minute), "done") // before the verdict
		bundle(t, db, c.ID, signed.Add(time.Minute), "failed")
		if _, err := svc.Refer(ctx, staff, c.ID, in); !errors.Is(err, enforcement.ErrNoBundle) {
			t.Fatalf("only a stale or failed bundle: %v", err)
		}
		bundle(t, db, c.ID, signed.Add(time.Minute), "done")
		if _, err := svc.Refer(ctx, brandUser, c.ID, in); err == nil {
			t.Fatal("a brand user referred the case")
		}
		bad := in
		bad.Bureau = ""
		if _, err := svc.Refer(ctx, staff, c.ID, bad); err == nil {
			t.Fatal("a referral without a bureau")
		}
		if _, err := svc.Refer(ctx, staff, c.ID, in); err != nil {
			t.Fatal(err)
		}
		db.Gorm.Take(&c, c.ID)
		if c.State != casework.Referred {
			t.Fatalf("state %s", c.State)
		}
	})
}

func TestThePoliceRoadAndTheThresholds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		signed := time.Now().UTC().Add(-time.Hour)
		c := confirmedCase(t, db, signed)
		bundle(t, db, c.ID, time.Now().UTC(), "done")
		svc := enforcement.NewService(db, enforcement.DefaultThresholds)
		today := time.Now().UTC().Format(time.DateOnly)
		if _, err := svc.Refer(ctx, staff, c.ID, enforcement.ReferralInput{CaseVersion: c.Version, Bureau: "PSB", ReferredOn: today}); err != nil {
			t.Fatal(err)
		}
		raid := enforcement.RaidInput{RaidedOn: today, Place: "Warehouse 3, Riverside", Arrests: "2", EstimatedSales: "60000",
			Lines: []enforcement.LineInput{{"Counterfeit crystal watches", "125", "800.00"}, {"Counterfeit seals", "2", "50.00"}, {}}}
		if _, err := svc.RecordRaid(ctx, staff, c.ID, raid, nil); field(err, "status") == "" {
			t.Fatalf("a raid before the police accepted: %v", err)
		}
		if err := svc.Progress(ctx, staff, c.ID, 1, enforcement.Accepted, ""); field(err, "police_case_number") == "" {
			t.Fatalf("accepted without a police case number: %v", err)
		}
		if err := svc.Progress(ctx, staff, c.ID, 1, enforcement.Prosecuted, "X"); field(err, "status") == "" {
			t.Fatalf("referred → prosecuted: %v", err)
		}
		if err := svc.Progress(ctx, staff, c.ID, 1, enforcement.Accepted, "PSB-2026-0042"); err != nil {
			t.Fatal(err)
		}
		if err := svc.Progress(ctx, staff, c.ID, 1, enforcement.Declined, ""); !errors.Is(err, enforcement.ErrConflict) {
			t.Fatalf("a stale version: %v", err)
		}
		badLine := raid
		badLine.Lines = []enforcement.LineInput{{"Watches", "many", "800"}}
		if _, err := svc.RecordRaid(ctx, staff, c.ID, badLine, nil); field(err, "line_0") == "" {
			t.Fatalf("a bad seizure line: %v", err)
		}
		if _, err := svc.RecordRaid(ctx, staff, c.ID, raid, nil); err != nil {
			t.Fatal(err)
		}
		rec, err := svc.ForCase(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		m := rec.Measure
		if rec.Referral.Status != enforcement.Raided || len(rec.Raids) != 1 || len(rec.Raids[0].Seizures) != 2 {
			t.Fatalf("record %+v", rec)
		}
		// 125 × 800 + 2 × 50 = 100,100 unsold (under 150,000); 60,000 sold
		// (over 50,000): a threshold is reached.
		if m.Unsold != 100_100_00 || m.Sold != 60_000_00 || m.OverUnsold || !m.OverSold || !m.Over {
			t.Fatalf("measure %+v", m)
		}
		if err := svc.Progress(ctx, staff, c.ID, rec.Referral.Version, enforcement.Prosecuted, ""); err != nil {
			t.Fatal(err)
		}
	})
}

func field(err error, f string) string {
	errs, _ := valid.As(err)
	return errs[f]
}
