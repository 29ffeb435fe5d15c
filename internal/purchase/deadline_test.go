package purchase_test

import (
	"context"
	"testing"
	"time"

	"spotcheck/internal/casework"
	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/deadline"
	"spotcheck/internal/evidence"
	"spotcheck/internal/purchase"
)

// openSteps returns a case's open deadlines by kind, failing on two of a kind.
func openSteps(t *testing.T, db *database.DB, caseID int64) map[deadline.Kind]deadline.Deadline {
	t.Helper()
	var ds []deadline.Deadline
	if err := db.Gorm.Where("case_id = ? AND done_at IS NULL", caseID).Find(&ds).Error; err != nil {
		t.Fatal(err)
	}
	out := map[deadline.Kind]deadline.Deadline{}
	for _, d := range ds {
		if _, dup := out[d.Kind]; dup {
			t.Fatalf("two open %s deadlines on case %d", d.Kind, caseID)
		}
		out[d.Kind] = d
	}
	return out
}

// wantOpen checks that exactly the kinds given are open, each due when
// said, waiting on whom said.
func wantOpen(t *testing.T, db *database.DB, caseID int64, step string, want map[deadline.Kind]deadline.Deadline) {
	t.Helper()
	got := openSteps(t, db, caseID)
	if len(got) != len(want) {
		t.Fatalf("after %s: open %v, want %v", step, kinds(got), kinds(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Fatalf("after %s: no open %s deadline (open: %v)", step, k, kinds(got))
		}
		if !g.DueAt.Equal(w.DueAt) || g.Party != w.Party || g.PartyID != w.PartyID {
			t.Fatalf("after %s: %s due %s on %s/%d, want due %s on %s/%d", step, k, g.DueAt, g.Party, g.PartyID, w.DueAt, w.Party, w.PartyID)
		}
	}
}

func kinds(m map[deadline.Kind]deadline.Deadline) []deadline.Kind {
	var ks []deadline.Kind
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestEveryStepThatWaitsOnSomeoneHasADueTimeUntilItIsDone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		ctx := context.Background()
		at := clock.NewFixed(time.Now().UTC().Truncate(time.Microsecond))
		db.UseClock(at)
		now := func() time.Time { return at.Now() }
		// The brand logs items in within two days of its own choosing; the
		// global setting (five) is for brands that chose none.
		if err := db.Gorm.Exec(`UPDATE brands SET acceptance_days = 2, authentication_days = 9 WHERE id = 1`).Error; err != nil {
			t.Fatal(err)
		}
		caseID := f.cases["a"].ID
		p, err := f.order(t, "a", 3, f.p1)
		if err != nil {
			t.Fatal(err)
		}
		// Due by the end of the purchase's due day where the platform is.
		dueDay := clock.DateOf(p.DueOn, time.UTC)
		wantOpen(t, db, caseID, "the order", map[deadline.Kind]deadline.Deadline{
			deadline.Order: {DueAt: dueDay.AddDays(1).Start(shanghai).UTC(), Party: deadline.Volunteer, PartyID: 3}})

		at.Add(time.Hour)
		today := clock.Today(at, shanghai).String()
		if err := f.svc.RecordOrder(ctx, vol, p.ID, purchase.OrderStep{Version: p.Version, OrderNumber: "T-1", AmountPaid: "188.00",
			OrderDate: today}, []evidence.Upload{receipt(evidence.Receipt, 1)}); err != nil {
			t.Fatal(err)
		}
		wantOpen(t, db, caseID, "the order was recorded", map[deadline.Kind]deadline.Deadline{
			deadline.Delivery: {DueAt: now().AddDate(0, 0, 10), Party: deadline.Volunteer, PartyID: 3}})

		at.Add(time.Hour)
		p, _ = f.svc.Get(ctx, staff, p.ID)
		if err := f.svc.RecordDelivery(ctx, vol, p.ID, purchase.DeliveryStep{Version: p.Version, DeliveredOn: today, SealNumber: "SEAL-1"},
			[]evidence.Upload{receipt(evidence.ParcelPhoto, 2)}); err != nil {
			t.Fatal(err)
		}
		wantOpen(t, db, caseID, "delivery", map[deadline.Kind]deadline.Deadline{
			deadline.Dispatch: {DueAt: now().AddDate(0, 0, 3), Party: deadline.Volunteer, PartyID: 3}})

		at.Add(time.Hour)
		p, _ = f.svc.Get(ctx, staff, p.ID)
		if err := f.svc.Dispatch(ctx, vol, p.ID, purchase.DispatchStep{Version: p.Version, To: purchase.PartyBrand, Carrier: "SF Express",
			Tracking: "SF100"}, nil); err != nil {
			t.Fatal(err)
		}
		sent := now()
		wantOpen(t, db, caseID, "dispatch to the brand", map[deadline.Kind]deadline.Deadline{
			deadline.Acceptance: {DueAt: sent.AddDate(0, 0, 2), Party: deadline.Brand, PartyID: 1},
			deadline.Verdict:    {DueAt: sent.AddDate(0, 0, 9), Party: deadline.Brand, PartyID: 1}})

		at.Add(time.Hour)
		chain, _, err := f.svc.ChainOf(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Accept(ctx, brandUser, chain.Item.ID, purchase.Acceptance{SealIntact: true}, nil); err != nil {
			t.Fatal(err)
		}
		// Logged in from the volunteer: staff may approve the reimbursement.
		wantOpen(t, db, caseID, "the brand logged the item in", map[deadline.Kind]deadline.Deadline{
			deadline.Verdict:               {DueAt: sent.AddDate(0, 0, 9), Party: deadline.Brand, PartyID: 1},
			deadline.ReimbursementApproval: {DueAt: now().AddDate(0, 0, 5), Party: deadline.Staff, PartyID: staff.UserID}})

		var r purchase.Reimbursement
		if err := db.Gorm.Where("purchase_id = ?", p.ID).Take(&r).Error; err != nil {
			t.Fatal(err)
		}
		at.Add(time.Hour)
		if err := f.svc.Approve(ctx, staff, r.ID, purchase.Approval{}); err != nil {
			t.Fatal(err)
		}
		wantOpen(t, db, caseID, "approval", map[deadline.Kind]deadline.Deadline{
			deadline.Verdict:              {DueAt: sent.AddDate(0, 0, 9), Party: deadline.Brand, PartyID: 1},
			deadline.ReimbursementPayment: {DueAt: now().AddDate(0, 0, 7), Party: deadline.Staff, PartyID: staff.UserID}})
		if err := f.svc.MarkPaid(ctx, staff, r.ID); err != nil {
			t.Fatal(err)
		}
		wantOpen(t, db, caseID, "payment", map[deadline.Kind]deadline.Deadline{
			deadline.Verdict: {DueAt: sent.AddDate(0, 0, 9), Party: deadline.Brand, PartyID: 1}})

		// Every step done was closed at the time it was done, none twice.
		var done int64
		if err := db.Gorm.Model(&deadline.Deadline{}).Where("case_id = ? AND done_at IS NOT NULL", caseID).Count(&done).Error; err != nil {
			t.Fatal(err)
		}
		if done != 6 {
			t.Fatalf("%d deadlines done, want 6 (order, delivery, dispatch, acceptance, approval, payment)", done)
		}
	})
}

func TestACancelledPurchaseWaitsOnlyOnItsReimbursement(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		ctx := context.Background()
		at := clock.NewFixed(time.Now().UTC().Truncate(time.Microsecond))
		db.UseClock(at)
		caseID := f.cases["a"].ID
		p, err := f.order(t, "a", 3, f.p1)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RecordOrder(ctx, vol, p.ID, purchase.OrderStep{Version: p.Version, OrderNumber: "T-1", AmountPaid: "188.00",
			OrderDate: clock.Today(at, shanghai).String()}, []evidence.Upload{receipt(evidence.Receipt, 1)}); err != nil {
			t.Fatal(err)
		}
		c, err := f.caseNow(ctx, caseID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Cancel(ctx, staff, caseID, c.Version, "the shop closed", false); err != nil {
			t.Fatal(err)
		}
		wantOpen(t, db, caseID, "cancelling a paid order", map[deadline.Kind]deadline.Deadline{
			deadline.ReimbursementApproval: {DueAt: at.Now().AddDate(0, 0, 5), Party: deadline.Staff, PartyID: staff.UserID}})
	})
}

func (f *fixture) caseNow(ctx context.Context, id int64) (casework.Case, error) {
	return casework.NewService(f.db).Get(ctx, staff, id)
}
