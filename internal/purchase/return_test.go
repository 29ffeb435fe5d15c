package purchase_test

import (
	"context"
	"errors"
	"testing"

	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/evidence"
	"spotcheck/internal/purchase"
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
		db.Gorm.Table("audit_events").Count(&auditBefore)
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
		db.Gorm.Table("audit_events").Count(&auditAfter)
		db.Gorm.Table("evidence").Where("purchase_id = ? AND kind = ?", p.ID, evidence.ItemPhoto).Count(&files)
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
		db.Gorm.Where("purchase_id = ?", p.ID).Take(&r)
		if err := f.svc.Approve(ctx, staff, r.ID); fieldErr(err, "reimbursement") != "error.reimbursement_not_in_custody" {
			t.Fatalf("approve while the item is on its way back: %v", err)
		}
		if err := f.svc.Accept(ctx, staff, chain.Item.ID, purchase.Acceptance{SealIntact: true, Place: "Hangzhou office"}, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Approve(ctx, staff, r.ID); err != nil {
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
		db.Gorm.Table("audit_events").Where("action LIKE 'custody.%'").Count(&audited)
		db.Gorm.Table("audit_events").Where("action = 'purchase.return'").Count(&returned)
		db.Gorm.Table("evidence").Where("purchase_id = ? AND kind = ? AND custody_event_id = ?", p.ID, evidence.ItemPhoto, ret.ID).Count(&files)
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
