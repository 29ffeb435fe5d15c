package purchase_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/evidence"
	"spotcheck/internal/notify"
	"spotcheck/internal/purchase"
	"spotcheck/internal/role"
	"spotcheck/internal/shop"
	"spotcheck/internal/valid"
)

var (
	staff      = authz.Actor{UserID: 2, Role: role.Staff}
	vol        = authz.Actor{UserID: 3, Role: role.Volunteer}
	vol2       = authz.Actor{UserID: 5, Role: role.Volunteer}
	brandUser  = authz.Actor{UserID: 4, Role: role.Brand, BrandIDs: []int64{1}}
	otherBrand = authz.Actor{UserID: 6, Role: role.Brand, BrandIDs: []int64{2}}
)

// shanghai is the platform's default zone (SPOTCHECK_TIMEZONE).
var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

type fixture struct {
	db    *database.DB
	svc   *purchase.Service
	jobs  *dbtest.Jobs
	cases map[string]casework.Case // by shop: a, b (linked to a), c
	p1    int64                    // personas of vol: p1, p2; of vol2: p3
	p2    int64
	p3    int64
}

func setup(t *testing.T, db *database.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	g := db.Gorm
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct {
		id   int64
		role string
	}{{1, "admin"}, {2, "staff"}, {3, "volunteer"}, {4, "brand"}, {5, "volunteer"}, {6, "brand"}} {
		must(g.Exec(`INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, 'x', ?, ?)`,
			u.id, fmt.Sprintf("u%d@x.test", u.id), fmt.Sprintf("User %d", u.id), u.role, now, now).Error)
	}
	must(g.Exec(`INSERT INTO brands (id, name, created_at) VALUES (1, 'Aurora', ?), (2, 'Other', ?)`, now, now).Error)
	must(g.Exec(`INSERT INTO brand_members (user_id, brand_id) VALUES (4, 1), (6, 2)`).Error)
	for i, name := range []string{"a", "b", "c"} {
		must(g.Exec(`INSERT INTO shops (id, platform, platform_shop_id, name, created_at, updated_at) VALUES (?, 'taobao', ?, ?, ?, ?)`,
			i+1, "s-"+name, "Shop "+name, now, now).Error)
	}
	// Through the service, which keeps the shops' cluster.
	must(func() error { _, err := shop.NewService(db).AddLink(ctx, 2, 1, 2, "same_controller", ""); return err }())
	f := &fixture{db: db, jobs: &dbtest.Jobs{}, cases: map[string]casework.Case{}}
	f.svc = purchase.NewService(db, f.jobs, 0, shanghai)
	must(db.InTx(ctx, func(tx *gorm.DB) error {
		cs, err := casework.OpenTx(tx, staff, []casework.NewCase{{ShopID: 1, BrandID: 1}, {ShopID: 2, BrandID: 1}, {ShopID: 3, BrandID: 1}})
		for i, name := range []string{"a", "b", "c"} {
			f.cases[name] = cs[i]
		}
		return err
	}))
	persona := func(user int64, account string) int64 {
		p, err := f.svc.AddPersona(ctx, staff, user, purchase.NewPersona{PlatformAccount: account, AddressAlias: "Locker 7",
			Phone: "+86 138 0000 1234", PaymentInstrument: "card 6222 0000 0000 4321"})
		must(err)
		return p.ID
	}
	f.p1, f.p2, f.p3 = persona(3, "buyer-one"), persona(3, "buyer-two"), persona(5, "buyer-three")
	return f
}

func (f *fixture) order(t *testing.T, shop string, volunteer, persona int64) (purchase.Purchase, error) {
	t.Helper()
	c, err := casework.NewService(f.db).Get(context.Background(), staff, f.cases[shop].ID)
	if err != nil {
		t.Fatal(err)
	}
	return f.svc.Order(context.Background(), staff, c.ID, purchase.OrderInput{CaseVersion: c.Version, VolunteerID: volunteer,
		PersonaID: persona, Budget: "199.00", Currency: "CNY", ShipTo: "Aurora authentication office", DueOn: time.Now().UTC().AddDate(1, 0, 0).Format(time.DateOnly)})
}

func fieldErr(err error, field string) string {
	errs, _ := valid.As(err)
	return errs[field]
}

func TestRotationKeepsBuyersAwayFromAShopNetwork(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		ctx := context.Background()
		start := time.Now().UTC()
		clk := clock.NewFixed(start)
		db.UseClock(clk)
		if _, err := f.order(t, "a", 3, f.p1); err != nil {
			t.Fatal(err)
		}
		// Cancelled or not, the seller has seen the buyer.
		ca, _ := casework.NewService(db).Get(ctx, staff, f.cases["a"].ID)
		if err := f.svc.Cancel(ctx, staff, ca.ID, ca.Version, "seller asked questions", false); err != nil {
			t.Fatal(err)
		}
		// The same shop, and a shop linked to it: the volunteer is blocked
		// with either persona; an unrelated shop is fine.
		if _, err := f.order(t, "a", 3, f.p2); fieldErr(err, "volunteer") != "error.rotation_volunteer_used" {
			t.Fatalf("same shop: %v", err)
		}
		if _, err := f.order(t, "b", 3, f.p2); fieldErr(err, "volunteer") != "error.rotation_volunteer_used" {
			t.Fatalf("linked shop: %v", err)
		}
		// The window's edge: a minute before it closes still blocked, a
		// minute after allowed.
		clk.Set(start.Add(purchase.DefaultWindow - time.Minute))
		if _, err := f.order(t, "b", 3, f.p2); fieldErr(err, "volunteer") != "error.rotation_volunteer_used" {
			t.Fatalf("inside the window: %v", err)
		}
		cands, err := f.svc.Candidates(ctx, 2, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(cands) != 2 || cands[0].UserID != 5 || !cands[0].Usable() || cands[1].Usable() || cands[1].Blocks[0].Case != ca.Reference {
			t.Fatalf("candidates inside the window: %+v", cands)
		}
		clk.Set(start.Add(purchase.DefaultWindow + time.Minute))
		if _, err := f.order(t, "b", 3, f.p2); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}

// TestRotationCoversTheWholeClusterNotOnlyDirectLinks links shop b to c,
// so that a–b–c is one seller network whose end shops are not linked to
// each other: a volunteer who bought from a is kept away from c too, and
// is free for it again once the link that joined them is removed.
func TestRotationCoversTheWholeClusterNotOnlyDirectLinks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		ctx := context.Background()
		shops := shop.NewService(db)
		l, err := shops.AddLink(ctx, 2, 2, 3, "same_phone", "the same phone")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.order(t, "a", 3, f.p1); err != nil {
			t.Fatal(err)
		}
		if _, err := f.order(t, "c", 3, f.p2); fieldErr(err, "volunteer") != "error.rotation_volunteer_used" {
			t.Fatalf("a shop of the network two links away: %v", err)
		}
		if err := shops.RemoveLink(ctx, 2, l.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.order(t, "c", 3, f.p2); err != nil {
			t.Fatalf("once the network is split: %v", err)
		}
	})
}

func TestBurnedPersonasAndPausedVolunteersAreNeverUsed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		ctx := context.Background()
		if err := f.svc.BurnPersona(ctx, staff, 5, f.p3, ""); fieldErr(err, "reason") == "" {
			t.Fatalf("burn without a reason: %v", err)
		}
		if err := f.svc.BurnPersona(ctx, staff, 5, f.p3, "seller blocked the account"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.order(t, "c", 5, f.p3); fieldErr(err, "persona") != "error.rotation_burned" {
			t.Fatalf("burned persona: %v", err)
		}
		if _, err := f.order(t, "c", 5, f.p1); fieldErr(err, "persona") != "error.persona_invalid" {
			t.Fatalf("another volunteer's persona: %v", err)
		}
		if err := f.svc.UpdateVolunteer(ctx, staff, 3, "Shanghai", true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.order(t, "c", 3, f.p1); fieldErr(err, "volunteer") != "error.rotation_paused" {
			t.Fatalf("paused volunteer: %v", err)
		}
		cands, err := f.svc.Candidates(ctx, 3, "Shanghai")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cands {
			if c.Usable() {
				t.Fatalf("usable candidate %+v", c)
			}
		}
		// Nothing was half written by the refusals.
		var n int64
		if err := db.Gorm.Table("purchases").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d purchases after refusals", n)
		}
	})
}

func receipt(kind evidence.Kind, n int) evidence.Upload {
	return evidence.Upload{Kind: kind, Stored: evidence.Stored{Key: fmt.Sprintf("evidence/test/%s-%d-%d", kind, n, time.Now().UnixNano()),
		SHA256: fmt.Sprintf("%064x", n), Size: 100, ContentType: "image/jpeg", OriginalName: "x.jpg"}}
}

// walk takes a purchase from ordered to delivered, as the volunteer.
func (f *fixture) walk(t *testing.T, p purchase.Purchase) purchase.Purchase {
	t.Helper()
	ctx := context.Background()
	today := time.Now().UTC().Format(time.DateOnly)
	if err := f.svc.RecordOrder(ctx, vol, p.ID, purchase.OrderStep{Version: p.Version, OrderNumber: "T-1", AmountPaid: "188.00", Fee: "12.00",
		OrderDate: today}, nil); fieldErr(err, "receipt") != "error.receipt_required" {
		t.Fatalf("order without a receipt: %v", err)
	}
	if err := f.svc.RecordOrder(ctx, vol, p.ID, purchase.OrderStep{Version: p.Version, OrderNumber: strings.Repeat("9", 101), AmountPaid: "188.00",
		OrderDate: today}, []evidence.Upload{receipt(evidence.Receipt, 1)}); fieldErr(err, "order_number") != "error.too_long" {
		t.Fatalf("a 101-character order number: %v, want it called too long", err)
	}
	if err := f.svc.RecordOrder(ctx, vol, p.ID, purchase.OrderStep{Version: p.Version, OrderNumber: "T-1", AmountPaid: "188.00", Fee: "12.00",
		OrderDate: today}, []evidence.Upload{receipt(evidence.Receipt, 1)}); err != nil {
		t.Fatal(err)
	}
	p, _ = f.svc.Get(ctx, staff, p.ID)
	if err := f.svc.RecordDelivery(ctx, vol, p.ID, purchase.DeliveryStep{Version: p.Version, DeliveredOn: today, SealNumber: "SEAL-1"},
		[]evidence.Upload{receipt(evidence.ParcelPhoto, 2)}); err != nil {
		t.Fatal(err)
	}
	p, _ = f.svc.Get(ctx, staff, p.ID)
	return p
}

func TestAPurchaseTravelsToTheBrandThroughStaffWithAnUnbrokenChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		ctx := context.Background()
		p, err := f.order(t, "a", 3, f.p1)
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := casework.NewService(db).Get(ctx, staff, f.cases["a"].ID); c.State != casework.Purchasing {
			t.Fatalf("case state %s", c.State)
		}
		// Another volunteer's purchase is not found, not merely refused.
		if err := f.svc.RecordOrder(ctx, vol2, p.ID, purchase.OrderStep{Version: p.Version, OrderNumber: "X", AmountPaid: "1.00",
			OrderDate: time.Now().UTC().Format(time.DateOnly)}, []evidence.Upload{receipt(evidence.Receipt, 9)}); !errors.Is(err, database.ErrNotFound) {
			t.Fatalf("another volunteer: %v", err)
		}
		p = f.walk(t, p)
		if p.Status != purchase.Received {
			t.Fatalf("status %s", p.Status)
		}
		if err := f.svc.Dispatch(ctx, vol, p.ID, purchase.DispatchStep{Version: p.Version, To: purchase.PartyStaff, Carrier: "SF Express",
			Tracking: "SF100"}, nil); err != nil {
			t.Fatal(err)
		}
		chain, _, err := f.svc.ChainOf(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%s-1", f.cases["a"].Reference)
		if chain.Item.Number != want {
			t.Fatalf("item number %s, want %s", chain.Item.Number, want)
		}
		// The reimbursement waits for the next holder to log the item in.
		var r purchase.Reimbursement
		if err := db.Gorm.Where("purchase_id = ?", p.ID).Take(&r).Error; err != nil {
			t.Fatal(err)
		}
		if r.Total() != 20000 || r.Status != purchase.ReimbursementNew {
			t.Fatalf("reimbursement %+v", r)
		}
		if err := f.svc.Approve(ctx, staff, r.ID, purchase.Approval{}); fieldErr(err, "reimbursement") != "error.reimbursement_not_in_custody" {
			t.Fatalf("approve before custody: %v", err)
		}
		// In transit: nobody releases it again, a brand cannot accept what
		// goes to staff, and two staff accepting at once make one link.
		if err := f.svc.Release(ctx, staff, chain.Item.ID, purchase.Handover{ToKind: purchase.PartyBrand, Method: purchase.MethodHand}); !errors.Is(err, purchase.ErrNotHolder) {
			t.Fatalf("release by a non-holder: %v", err)
		}
		if err := f.svc.Accept(ctx, brandUser, chain.Item.ID, purchase.Acceptance{SealIntact: true}, nil); !errors.Is(err, purchase.ErrNotHolder) {
			t.Fatalf("accept by the wrong party: %v", err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				errs[i] = f.svc.Accept(ctx, staff, chain.Item.ID, purchase.Acceptance{SealIntact: true, Place: "Hangzhou office"}, nil)
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			}
		}
		if ok != 1 {
			t.Fatalf("%d concurrent acceptances succeeded: %v", ok, errs)
		}
		if err := f.svc.Approve(ctx, staff, r.ID, purchase.Approval{}); err != nil {
			t.Fatalf("approve after custody: %v", err)
		}
		if err := f.svc.MarkPaid(ctx, staff, r.ID); err != nil {
			t.Fatal(err)
		}
		// Staff send it on to the brand: the case moves to authenticating.
		if err := f.svc.Release(ctx, staff, chain.Item.ID, purchase.Handover{ToKind: purchase.PartyBrand, Method: purchase.MethodCourier}); fieldErr(err, "tracking") == "" {
			t.Fatalf("courier without tracking: %v", err)
		}
		if err := f.svc.Release(ctx, staff, chain.Item.ID, purchase.Handover{ToKind: purchase.PartyBrand, Method: purchase.MethodCourier,
			Carrier: "EMS", Tracking: "EMS200", Seal: "SEAL-2"}); err != nil {
			t.Fatal(err)
		}
		if c, _ := casework.NewService(db).Get(ctx, staff, f.cases["a"].ID); c.State != casework.Authenticating {
			t.Fatalf("case state %s after release to the brand", c.State)
		}
		if err := f.svc.Accept(ctx, otherBrand, chain.Item.ID, purchase.Acceptance{SealIntact: true}, nil); !errors.Is(err, purchase.ErrNotHolder) {
			t.Fatalf("another brand accepts: %v", err)
		}
		if err := f.svc.Accept(ctx, brandUser, chain.Item.ID, purchase.Acceptance{SealIntact: false}, nil); fieldErr(err, "condition") == "" {
			t.Fatalf("broken seal without a condition: %v", err)
		}
		if err := f.svc.Accept(ctx, brandUser, chain.Item.ID, purchase.Acceptance{SealIntact: true}, nil); err != nil {
			t.Fatal(err)
		}
		chain, _, _ = f.svc.ChainOf(ctx, p.ID)
		if err := chain.Verify(); err != nil {
			t.Fatal(err)
		}
		steps := ""
		for _, ev := range chain.Events {
			steps += ev.Step + " "
		}
		if steps != "receive release accept release accept " || chain.Item.HolderKind != purchase.PartyBrand || chain.Item.HolderID != 1 {
			t.Fatalf("chain %q, holder %s/%d", steps, chain.Item.HolderKind, chain.Item.HolderID)
		}
		// The chain is part of the audit chain, and cannot be edited.
		var audited int64
		if err := db.Gorm.Table("audit_events").Where("action LIKE 'custody.%'").Count(&audited).Error; err != nil {
			t.Fatal(err)
		}
		if audited != 5 {
			t.Fatalf("%d custody audit events", audited)
		}
		if err := db.Gorm.Exec("UPDATE custody_events SET seal_number = 'forged'").Error; err == nil {
			t.Fatal("custody events could be edited")
		}
	})
}

func TestSendToBrandNeedsAReceiptStillOnRecord(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		ctx := context.Background()
		p, err := f.order(t, "c", 3, f.p1)
		if err != nil {
			t.Fatal(err)
		}
		p = f.walk(t, p)
		var rec evidence.Evidence
		if err := db.Gorm.Where("purchase_id = ? AND kind = ?", p.ID, evidence.Receipt).Take(&rec).Error; err != nil {
			t.Fatal(err)
		}
		if err := evidence.Withdraw(ctx, db, vol, rec.ID, "wrong file"); err != nil {
			t.Fatal(err)
		}
		err = f.svc.Dispatch(ctx, vol, p.ID, purchase.DispatchStep{Version: p.Version, To: purchase.PartyBrand, Carrier: "SF", Tracking: "SF1"}, nil)
		if fieldErr(err, "guard") != "error.guard_receipt_missing" {
			t.Fatalf("dispatch to the brand without a receipt: %v", err)
		}
		// Refused as a whole: the purchase and its item did not move.
		got, _ := f.svc.Get(ctx, staff, p.ID)
		chain, _, _ := f.svc.ChainOf(ctx, p.ID)
		if got.Status != purchase.Received || chain.Item.PendingKind != nil || len(chain.Events) != 1 {
			t.Fatalf("after refusal: %s, %+v", got.Status, chain)
		}
		if err := f.svc.AddEvidence(ctx, vol, p.ID, []evidence.Upload{receipt(evidence.Receipt, 3)}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Dispatch(ctx, vol, p.ID, purchase.DispatchStep{Version: p.Version, To: purchase.PartyBrand, Carrier: "SF", Tracking: "SF1"}, nil); err != nil {
			t.Fatal(err)
		}
		if c, _ := casework.NewService(db).Get(ctx, staff, f.cases["c"].ID); c.State != casework.Authenticating {
			t.Fatalf("case state %s", c.State)
		}
		// The brand's users are told it is coming.
		var told bool
		for _, a := range f.jobs.Args() {
			if n, ok := a.(notify.Args); ok && n.Event == notify.ItemDispatched && n.BrandID == 1 {
				told = true
			}
		}
		if !told {
			t.Fatalf("the brand was not told: %+v", f.jobs.Args())
		}
	})
}
