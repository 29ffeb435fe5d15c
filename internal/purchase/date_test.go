package purchase_test

import (
	"context"
	"testing"
	"time"

	"spotcheck/internal/casework"
	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/evidence"
	"spotcheck/internal/purchase"
)

// Between midnight and 08:00 in Shanghai the UTC date is still yesterday:
// the dates volunteers and staff type are days in the platform's zone.
func TestOrderDeliveryAndDueDatesAreDaysInThePlatformZone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		clk := clock.NewFixed(time.Date(2026, 11, 19, 17, 30, 0, 0, time.UTC)) // 2026-11-20 01:30 in Shanghai
		db.UseClock(clk)
		f := setup(t, db)
		ctx := context.Background()
		orderDue := func(due string) (purchase.Purchase, error) {
			c, err := casework.NewService(db).Get(ctx, staff, f.cases["a"].ID)
			if err != nil {
				t.Fatal(err)
			}
			return f.svc.Order(ctx, staff, c.ID, purchase.OrderInput{CaseVersion: c.Version, VolunteerID: 3, PersonaID: f.p1,
				Budget: "199.00", Currency: "CNY", ShipTo: "Aurora authentication office", DueOn: due})
		}
		if _, err := orderDue("2026-11-19"); fieldErr(err, "due_on") != "error.date_past" {
			t.Fatalf("due yesterday in Shanghai: %v", err)
		}
		p, err := orderDue("2026-11-20")
		if err != nil {
			t.Fatalf("due today in Shanghai: %v", err)
		}
		record := func(date string) error {
			return f.svc.RecordOrder(ctx, vol, p.ID, purchase.OrderStep{Version: p.Version, OrderNumber: "T-1", AmountPaid: "188.00",
				OrderDate: date}, []evidence.Upload{receipt(evidence.Receipt, 1)})
		}
		if err := record("2026-11-21"); fieldErr(err, "order_date") != "error.date_future" {
			t.Fatalf("ordered tomorrow: %v", err)
		}
		if err := record("2026-11-20"); err != nil {
			t.Fatalf("ordered today at 01:30 in Shanghai: %v", err)
		}
		p, _ = f.svc.Get(ctx, staff, p.ID)
		if got := p.OrderDate.UTC().Format(time.DateOnly); got != "2026-11-20" {
			t.Fatalf("order date stored as %s", got)
		}
		// 23:30 in Shanghai, 15:30 UTC: the same day is still today, the
		// next still the future.
		clk.Set(time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC))
		deliver := func(date string) error {
			return f.svc.RecordDelivery(ctx, vol, p.ID, purchase.DeliveryStep{Version: p.Version, DeliveredOn: date, SealNumber: "SEAL-1"},
				[]evidence.Upload{receipt(evidence.ParcelPhoto, 2)})
		}
		if err := deliver("2026-11-21"); fieldErr(err, "delivered_on") != "error.date_future" {
			t.Fatalf("delivered tomorrow: %v", err)
		}
		if err := deliver("2026-11-20"); err != nil {
			t.Fatalf("delivered today at 23:30 in Shanghai: %v", err)
		}
		// Just after midnight the day has moved on: yesterday's due date is past.
		clk.Set(time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC))
		if _, err := orderDue("2026-11-20"); fieldErr(err, "due_on") != "error.date_past" {
			t.Fatalf("due yesterday just after midnight in Shanghai: %v", err)
		}
	})
}
