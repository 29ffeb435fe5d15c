package enforcement_test

import (
	"context"
	"testing"
	"time"

	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/enforcement"
)

// 01:30 in Shanghai, 17:30 UTC the day before: the referral, raid, claim,
// outcome and payment dates staff type are days that have come, in the
// platform's zone; hearings may be set ahead.
var nightInShanghai = time.Date(2026, 11, 19, 17, 30, 0, 0, time.UTC)

func shanghai(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestPoliceDatesAreDaysThatHaveComeInThePlatformZone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		db.UseClock(clock.NewFixed(nightInShanghai))
		ctx := context.Background()
		c := confirmedCase(t, db, nightInShanghai.Add(-time.Hour))
		bundle(t, db, c.ID, nightInShanghai, "done")
		svc := enforcement.NewService(db, &dbtest.Jobs{}, enforcement.DefaultThresholds, shanghai(t))
		in := enforcement.ReferralInput{CaseVersion: c.Version, Bureau: "PSB", ReferredOn: "2026-11-21"}
		if _, err := svc.Refer(ctx, staff, c.ID, in); field(err, "referred_on") != "error.date_future" {
			t.Fatalf("referred tomorrow: %v", err)
		}
		in.ReferredOn = "2026-11-20"
		if _, err := svc.Refer(ctx, staff, c.ID, in); err != nil {
			t.Fatalf("referred today: %v", err)
		}
		if err := svc.Progress(ctx, staff, c.ID, 1, enforcement.Accepted, "PSB-2026-0042"); err != nil {
			t.Fatal(err)
		}
		raid := enforcement.RaidInput{RaidedOn: "2026-11-21", Place: "Warehouse 3", Lines: []enforcement.LineInput{{"Watches", "1", "800"}}}
		if _, err := svc.RecordRaid(ctx, staff, c.ID, raid, nil); field(err, "raided_on") != "error.date_future" {
			t.Fatalf("raided tomorrow: %v", err)
		}
		raid.RaidedOn = "2026-11-20"
		if _, err := svc.RecordRaid(ctx, staff, c.ID, raid, nil); err != nil {
			t.Fatalf("raided today: %v", err)
		}
	})
}

func TestClaimDatesAreDaysThatHaveComeInThePlatformZone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		db.UseClock(clock.NewFixed(nightInShanghai))
		ctx := context.Background()
		c := confirmedCase(t, db, nightInShanghai.Add(-time.Hour))
		svc := enforcement.NewService(db, &dbtest.Jobs{}, enforcement.DefaultThresholds, shanghai(t))
		in := enforcement.ClaimInput{CaseVersion: c.Version, Court: "Riverside Court", FiledOn: "2026-11-21", Basis: "goodwill", Amount: "1000"}
		if _, err := svc.FileClaim(ctx, staff, c.ID, in); field(err, "filed_on") != "error.date_future" {
			t.Fatalf("filed tomorrow: %v", err)
		}
		in.FiledOn = "2026-11-20"
		if _, err := svc.FileClaim(ctx, staff, c.ID, in); err != nil {
			t.Fatalf("filed today: %v", err)
		}
		if err := svc.AddHearing(ctx, staff, c.ID, "2026-12-15", "set ahead"); err != nil {
			t.Fatalf("a hearing ahead: %v", err)
		}
		if err := db.Gorm.Take(&c, c.ID).Error; err != nil {
			t.Fatal(err)
		}
		out := enforcement.OutcomeInput{CaseVersion: c.Version, Outcome: "settlement", Amount: "1000", On: "2026-11-21"}
		if err := svc.RecordOutcome(ctx, staff, c.ID, out); field(err, "outcome_on") != "error.date_future" {
			t.Fatalf("settled tomorrow: %v", err)
		}
		out.On = "2026-11-20"
		if err := svc.RecordOutcome(ctx, staff, c.ID, out); err != nil {
			t.Fatalf("settled today: %v", err)
		}
		if err := svc.AddPayment(ctx, staff, c.ID, "500", "2026-11-21", ""); field(err, "received_on") != "error.date_future" {
			t.Fatalf("paid tomorrow: %v", err)
		}
		if err := svc.AddPayment(ctx, staff, c.ID, "500", "2026-11-20", ""); err != nil {
			t.Fatalf("paid today: %v", err)
		}
	})
}
