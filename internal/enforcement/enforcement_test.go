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
	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/role"
	"spotcheck/internal/stats"
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
	exec(`INSERT INTO purchases (id, case_id, shop_id, volunteer_id, persona_id, ordered_by, status, budget_minor, currency, due_on,
		amount_paid_minor, fee_minor, order_date, created_at, updated_at)
		VALUES (1, ?, 1, 3, 1, 2, 'dispatched', 100, 'CNY', ?, 18800, 1200, ?, ?, ?)`, c.ID, now, now.Truncate(24*time.Hour), now, now)
	exec(`INSERT INTO items (id, purchase_id, case_id, number, holder_kind, holder_id, custody_seq, created_at) VALUES (1, 1, ?, 'X-1', 'brand', 1, 3, ?)`, c.ID, now)
	exec(`INSERT INTO verdicts (case_id, item_id, brand_id, result, authenticator, signed_name, signed_by, signed_at) VALUES (?, 1, 1, 'counterfeit', 'A', 'A', 4, ?)`, c.ID, signedAt)
	if err := db.Gorm.Take(&c, c.ID).Error; err != nil {
		t.Fatal(err)
	}
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
		svc := enforcement.NewService(db, &dbtest.Jobs{}, enforcement.DefaultThresholds, time.UTC)
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
		if err := db.Gorm.Take(&c, c.ID).Error; err != nil {
			t.Fatal(err)
		}
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
		svc := enforcement.NewService(db, &dbtest.Jobs{}, enforcement.DefaultThresholds, time.UTC)
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
		// A second raid, worth nothing: its line stays with it.
		second := enforcement.RaidInput{RaidedOn: raid.RaidedOn, Place: "Second warehouse", Lines: []enforcement.LineInput{{"Empty boxes", "3", "0"}}}
		if _, err := svc.RecordRaid(ctx, staff, c.ID, second, nil); err != nil {
			t.Fatal(err)
		}
		rec, err := svc.ForCase(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		m := rec.Measure
		if rec.Referral.Status != enforcement.Raided || len(rec.Raids) != 2 || len(rec.Raids[0].Seizures) != 2 ||
			len(rec.Raids[1].Seizures) != 1 || rec.Raids[1].Seizures[0].Description != "Empty boxes" || rec.Raids[0].Seizures[1].Line != 2 {
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
		// Raids count on the day typed; the referral on the day it was
		// made where the platform is.
		typed := clock.DateOf(time.Now().UTC(), time.UTC)
		got, err := stats.Sum(ctx, db.Gorm, c.BrandID, []clock.Date{typed}, typed.AddDays(1), stats.Raids, stats.Seized)
		if err != nil {
			t.Fatal(err)
		}
		if got[stats.Raids][0] != 2 || got[stats.Seized][0] != m.Unsold {
			t.Errorf("the day's figures %v, want 2 raids and %d seized", got, m.Unsold)
		}
		local := clock.DateOf(db.Now(), dbtest.Zone)
		if got, err = stats.Sum(ctx, db.Gorm, c.BrandID, []clock.Date{local}, local.AddDays(1), stats.Referrals); err != nil || got[stats.Referrals][0] != 1 {
			t.Errorf("referrals of the day %v (%v), want 1", got, err)
		}
	})
}

func field(err error, f string) string {
	errs, _ := valid.As(err)
	return errs[f]
}

func TestTheClaimClosesTheCaseAsRecoveredAndTheLedgerAddsUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		c := confirmedCase(t, db, time.Now().UTC().Add(-time.Hour))
		svc := enforcement.NewService(db, &dbtest.Jobs{}, enforcement.DefaultThresholds, time.UTC)
		today := time.Now().UTC().Format(time.DateOnly)
		in := enforcement.ClaimInput{CaseVersion: c.Version, Court: "Riverside Intermediate People's Court", CourtCaseNumber: "(2026) R-01",
			FiledOn: today, Basis: "other", Amount: "1400000"}
		if _, err := svc.FileClaim(ctx, staff, c.ID, in); field(err, "basis_note") == "" {
			t.Fatalf("other basis without a note: %v", err)
		}
		in.Basis = "goodwill"
		if _, err := svc.FileClaim(ctx, staff, c.ID, in); err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Take(&c, c.ID).Error; err != nil {
			t.Fatal(err)
		}
		if c.State != casework.Litigating {
			t.Fatalf("state %s", c.State)
		}
		if err := svc.AddHearing(ctx, staff, c.ID, today, "first hearing"); err != nil {
			t.Fatal(err)
		}
		if err := svc.RecordOutcome(ctx, staff, c.ID, enforcement.OutcomeInput{CaseVersion: c.Version, Outcome: "judgment", Amount: "x", On: today}); field(err, "outcome_amount") == "" {
			t.Fatalf("judgment without an amount: %v", err)
		}
		if err := svc.RecordOutcome(ctx, staff, c.ID, enforcement.OutcomeInput{CaseVersion: c.Version, Outcome: "judgment", Amount: "1400000", On: today}); err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Take(&c, c.ID).Error; err != nil {
			t.Fatal(err)
		}
		if c.State != casework.Closed || c.CloseReason != casework.Recovered {
			t.Fatalf("after the judgment: %s/%s", c.State, c.CloseReason)
		}
		if err := svc.AddPayment(ctx, staff, c.ID, "200000", today, "first instalment"); err != nil {
			t.Fatal(err)
		}
		l, err := svc.CaseLedger(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := enforcement.Ledger{Spend: 18800, Fees: 1200, Claimed: 140_000_000, Awarded: 140_000_000, Collected: 20_000_000}
		if l != want {
			t.Fatalf("case ledger %+v, want %+v", l, want)
		}
		now := time.Now().UTC()
		ls, err := svc.Ledgers(ctx, now.AddDate(0, 0, -30), now.AddDate(0, 0, 1), nil)
		if err != nil || len(ls) != 1 || ls[0].Collected != 20_000_000 || ls[0].Spend != 18800 || ls[0].BrandName != "Aurora" {
			t.Fatalf("brand ledger %+v %v", ls, err)
		}
		old, _ := svc.Ledgers(ctx, now.AddDate(-1, 0, 0), now.AddDate(0, 0, -30), nil)
		if old[0].Collected != 0 || old[0].Claimed != 0 {
			t.Fatalf("a past period counts today's figures: %+v", old[0])
		}
		cl, _ := svc.ClaimOf(ctx, c.ID)
		if len(cl.Hearings) != 1 || cl.Collected() != 20_000_000 {
			t.Fatalf("claim %+v", cl)
		}
		// The dashboard's money figures of the day equal the ledger's sums.
		day := clock.DateOf(now, time.UTC)
		for _, b := range []int64{stats.All, c.BrandID} {
			got, err := stats.Sum(ctx, db.Gorm, b, []clock.Date{day}, day.AddDays(1), stats.Claimed, stats.Awarded, stats.Collected)
			if err != nil {
				t.Fatal(err)
			}
			if got[stats.Claimed][0] != want.Claimed || got[stats.Awarded][0] != want.Awarded || got[stats.Collected][0] != want.Collected {
				t.Errorf("brand %d: the day's figures %v, the ledger %+v", b, got, want)
			}
		}
	})
}
