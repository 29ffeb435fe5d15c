package purchase_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"spotcheck/internal/casework"
	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/evidence"
	"spotcheck/internal/purchase"
	"spotcheck/internal/stats"
)

func TestACancelledPurchasesItemGoesBackToStaffAndTheBuyerIsPaid(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		ctx := context.Background()
		p, err := f.order(t, "a", 3, f.p1)
		if err != nil {
			t.Fatal(err)
		}
		p = f.walk(t, p)
		by := purchase.ReturnStep{Version: p.Version, Method: purchase.MethodCourier, Carrier: "SF", Tracking: "SF300", Seal: "SEAL-1"}
		// A live purchase's item goes on by the dispatch step, not back.
		if err := f.svc.ReturnToStaff(ctx, vol, p.ID, by, nil); !errors.Is(err, purchase.ErrNotAllowed) {
			t.Fatalf("return of a live purchase's item: %v", err)
		}
		c, _ := casework.NewService(db).Get(ctx, staff, f.cases["a"].ID)
		if err := f.svc.Cancel(ctx, staff, c.ID, c.Version, "seller closed the shop", false); err != nil {
			t.Fatal(err)
		}
		p, _ = f.svc.Get(ctx, staff, p.ID)
		chain, _, _ := f.svc.ChainOf(ctx, p.ID)
		if !purchase.AwaitingReturn(p, chain.Item) {
			t.Fatalf("a cancelled purchase's item with its buyer is not awaiting its return: %+v", chain.Item)
		}
		by.Version = p.Version
		if err := f.svc.Dispatch(ctx, vol, p.ID, purchase.DispatchStep{Version: p.Version, To: purchase.PartyStaff, Carrier: "SF",
			Tracking: "SF1"}, nil); !errors.Is(err, purchase.ErrNotAllowed) {
			t.Fatalf("dispatch of a cancelled purchase: %v", err)
		}

		// Refused returns write nothing: a courier without tracking, the
		// brand (a cancelled purchase's item is not the brand's), another
		// volunteer (not found).
		var auditBefore int64
		if err := db.Gorm.Table("audit_events").Count(&auditBefore).Error; err != nil {
			t.Fatal(err)
		}
		noTracking := by
		noTracking.Tracking = ""
		if err := f.svc.ReturnToStaff(ctx, vol, p.ID, noTracking, []evidence.Upload{receipt(evidence.ItemPhoto, 4)}); fieldErr(err, "tracking") != "error.custody_tracking_required" {
			t.Fatalf("courier without tracking: %v", err)
		}
		if err := f.svc.Release(ctx, vol, chain.Item.ID, purchase.Handover{ToKind: purchase.PartyBrand, Method: purchase.MethodHand}); fieldErr(err, "to") != "error.custody_cancelled_not_brand" {
			t.Fatalf("release of a cancelled purchase's item to the brand: %v", err)
		}
		if err := f.svc.ReturnToStaff(ctx, vol2, p.ID, by, nil); !errors.Is(err, database.ErrNotFound) {
			t.Fatalf("another volunteer returns it: %v", err)
		}
		var auditAfter, files int64
		if err := db.Gorm.Table("audit_events").Count(&auditAfter).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Table("evidence").Where("purchase_id = ? AND kind = ?", p.ID, evidence.ItemPhoto).Count(&files).Error; err != nil {
			t.Fatal(err)
		}
		if chain, _, _ := f.svc.ChainOf(ctx, p.ID); len(chain.Events) != 1 || chain.Item.PendingKind != nil || auditAfter != auditBefore || files != 0 {
			t.Fatalf("refusals wrote: %d links, pending %v, %d → %d audit events, %d photos", len(chain.Events), chain.Item.PendingKind,
				auditBefore, auditAfter, files)
		}

		// The return, then staff log it in: the reimbursement can be
		// approved and paid.
		if err := f.svc.ReturnToStaff(ctx, vol, p.ID, by, []evidence.Upload{receipt(evidence.ItemPhoto, 5)}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ReturnToStaff(ctx, vol, p.ID, by, nil); !errors.Is(err, purchase.ErrInTransit) {
			t.Fatalf("returned twice: %v", err)
		}
		var r purchase.Reimbursement
		if err := db.Gorm.Where("purchase_id = ?", p.ID).Take(&r).Error; err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Approve(ctx, staff, r.ID, purchase.Approval{}); fieldErr(err, "reimbursement") != "error.reimbursement_not_in_custody" {
			t.Fatalf("approve while the item is on its way back: %v", err)
		}
		if err := f.svc.Accept(ctx, staff, chain.Item.ID, purchase.Acceptance{SealIntact: true, Place: "Hangzhou office"}, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Approve(ctx, staff, r.ID, purchase.Approval{}); err != nil {
			t.Fatalf("approve once staff hold the item: %v", err)
		}
		if err := f.svc.MarkPaid(ctx, staff, r.ID); err != nil {
			t.Fatal(err)
		}
		// Staff cannot send it to the brand either.
		if err := f.svc.Release(ctx, staff, chain.Item.ID, purchase.Handover{ToKind: purchase.PartyBrand, Method: purchase.MethodCourier,
			Carrier: "EMS", Tracking: "EMS1"}); fieldErr(err, "to") != "error.custody_cancelled_not_brand" {
			t.Fatalf("staff release a cancelled purchase's item to the brand: %v", err)
		}

		chain, _, _ = f.svc.ChainOf(ctx, p.ID)
		if err := chain.Verify(); err != nil {
			t.Fatal(err)
		}
		steps := ""
		for _, ev := range chain.Events {
			steps += ev.Step + " "
		}
		ret := chain.Events[1]
		if steps != "receive release accept " || chain.Item.HolderKind != purchase.PartyStaff || ret.ToKind != purchase.PartyStaff ||
			ret.TrackingNumber != "SF300" || ret.SealNumber != "SEAL-1" || purchase.AwaitingReturn(p, chain.Item) {
			t.Fatalf("chain %q, holder %s, return %+v", steps, chain.Item.HolderKind, ret)
		}
		var audited, returned int64
		if err := db.Gorm.Table("audit_events").Where("action LIKE 'custody.%'").Count(&audited).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Table("audit_events").Where("action = 'purchase.return'").Count(&returned).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Table("evidence").Where("purchase_id = ? AND kind = ? AND custody_event_id = ?", p.ID, evidence.ItemPhoto, ret.ID).Count(&files).Error; err != nil {
			t.Fatal(err)
		}
		if audited != 3 || returned != 1 || files != 1 {
			t.Fatalf("%d custody and %d return audit events, %d photos of the return", audited, returned, files)
		}
		if got, _ := f.svc.Get(ctx, staff, p.ID); got.Status != purchase.Cancelled {
			t.Fatalf("status %s after the return", got.Status)
		}
		if reached, err := f.svc.ReachedBrand(ctx, f.cases["a"].ID); err != nil || reached {
			t.Fatalf("the brand sees the case: %v %v", reached, err)
		}
	})
}

func TestAPurchaseCancelledBeforeTheOrderOwesNothingAndHasNothingToReturn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		ctx := context.Background()
		p, err := f.order(t, "c", 3, f.p1)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := casework.NewService(db).Get(ctx, staff, f.cases["c"].ID)
		if err := f.svc.Cancel(ctx, staff, c.ID, c.Version, "budget withdrawn", false); err != nil {
			t.Fatal(err)
		}
		if r, err := f.svc.ReimbursementOf(ctx, p.ID); err != nil || r != nil {
			t.Fatalf("reimbursement %+v %v", r, err)
		}
		p, _ = f.svc.Get(ctx, staff, p.ID)
		if err := f.svc.ReturnToStaff(ctx, vol, p.ID, purchase.ReturnStep{Version: p.Version, Method: purchase.MethodHand}, nil); !errors.Is(err, purchase.ErrNotAllowed) {
			t.Fatalf("return without an item: %v", err)
		}
	})
}

// A purchase cancelled after the order but before delivery has no item to
// bring home: its reimbursement is approved on the refund the buyer got
// back, which staff must state, and the volunteer is owed the rest.
func TestAPurchaseCancelledInTransitIsSettledOnTheRefund(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		ctx := context.Background()
		p, err := f.order(t, "a", 3, f.p1)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RecordOrder(ctx, vol, p.ID, purchase.OrderStep{Version: p.Version, OrderNumber: "T-9", AmountPaid: "188.00", Fee: "12.00",
			OrderDate: time.Now().UTC().Format(time.DateOnly)}, []evidence.Upload{receipt(evidence.Receipt, 1)}); err != nil {
			t.Fatal(err)
		}
		c, err := casework.NewService(db).Get(ctx, staff, f.cases["a"].ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Cancel(ctx, staff, c.ID, c.Version, "parcel lost by the courier", false); err != nil {
			t.Fatal(err)
		}
		r, err := f.svc.ReimbursementOf(ctx, p.ID)
		if err != nil || r == nil {
			t.Fatalf("reimbursement %+v %v", r, err)
		}
		if p, err = f.svc.Get(ctx, staff, p.ID); err != nil || !p.SettledOnRefund() {
			t.Fatalf("a purchase cancelled in transit is not settled on its refund: %+v %v", p, err)
		}

		// Refused approvals write nothing: no refund stated, more than
		// was paid, not an amount.
		audits := func() int64 {
			var n int64
			if err := db.Gorm.Table("audit_events").Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := audits()
		for refunded, want := range map[string]string{"": "error.reimbursement_refund_required", "200.01": "error.reimbursement_refund_too_much",
			"lots": "error.amount"} {
			if err := f.svc.Approve(ctx, staff, r.ID, purchase.Approval{Refunded: refunded}); fieldErr(err, "refunded") != want {
				t.Fatalf("approve with refunded %q: %v, want %s", refunded, err, want)
			}
		}
		if got, err := f.svc.ReimbursementOf(ctx, p.ID); err != nil || got.Status != purchase.ReimbursementNew || got.RefundedMinor != 0 || audits() != before {
			t.Fatalf("refused approvals wrote: %+v %v, audit %d → %d", got, err, before, audits())
		}

		if err := f.svc.Approve(ctx, staff, r.ID, purchase.Approval{Refunded: "195.00"}); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.ReimbursementOf(ctx, p.ID)
		if err != nil || got.Status != purchase.ReimbursementApproved || got.RefundedMinor != 19500 || got.Total() != 500 {
			t.Fatalf("approved: %+v %v, want 5.00 owed after a 195.00 refund", got, err)
		}
		var detail string
		if err := db.Gorm.Table("audit_events").Where("action = 'reimbursement.approved'").Select("detail").Scan(&detail).Error; err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(detail, `"refunded_minor":19500`) || !strings.Contains(detail, `"total_minor":500`) {
			t.Fatalf("audit detail %s", detail)
		}
		if err := f.svc.MarkPaid(ctx, staff, r.ID); err != nil {
			t.Fatal(err)
		}
		// The case's costs are what the purchase cost in the end: the
		// refund comes off the amount paid first, then off the fee.
		l, err := enforcement.NewService(db, &dbtest.Jobs{}, enforcement.DefaultThresholds, time.UTC).CaseLedger(ctx, f.cases["a"].ID)
		if err != nil || l.Spend != 0 || l.Fees != 500 {
			t.Fatalf("ledger %+v %v, want spend 0 and fees 5.00 after a 195.00 refund of 188.00 + 12.00", l, err)
		}
		// The dashboard's figures of the order's day say the same.
		day := clock.DateOf(time.Now().UTC(), time.UTC)
		got2, err := stats.Sum(ctx, db.Gorm, f.cases["a"].BrandID, []clock.Date{day}, day.AddDays(1), stats.Spend, stats.Fees, stats.PurchasesOrdered)
		if err != nil || got2[stats.Spend][0] != l.Spend || got2[stats.Fees][0] != l.Fees || got2[stats.PurchasesOrdered][0] != 1 {
			t.Fatalf("the dashboard's day %v %v, the ledger %+v", got2, err, l)
		}
	})
}

// A refund is stated only where there is no item: a delivered purchase's
// reimbursement waits for its item, and a refund figure is refused.
func TestARefundIsRefusedWhereTheItemCameHome(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		ctx := context.Background()
		p, err := f.order(t, "a", 3, f.p1)
		if err != nil {
			t.Fatal(err)
		}
		p = f.walk(t, p)
		if p.SettledOnRefund() {
			t.Fatal("a delivered purchase is settled on a refund")
		}
		r, err := f.svc.ReimbursementOf(ctx, p.ID)
		if err != nil || r == nil {
			t.Fatalf("reimbursement %+v %v", r, err)
		}
		if err := f.svc.Approve(ctx, staff, r.ID, purchase.Approval{Refunded: "10.00"}); fieldErr(err, "refunded") != "error.reimbursement_refund_not_applicable" {
			t.Fatalf("a refund on a delivered purchase: %v", err)
		}
	})
}
