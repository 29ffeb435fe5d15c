package verdict_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/evidence"
	"spotcheck/internal/notify"
	"spotcheck/internal/purchase"
	"spotcheck/internal/role"
	"spotcheck/internal/valid"
	"spotcheck/internal/verdict"
)

var (
	staff      = authz.Actor{UserID: 2, Role: role.Staff}
	vol        = authz.Actor{UserID: 3, Role: role.Volunteer}
	brandUser  = authz.Actor{UserID: 4, Role: role.Brand, BrandIDs: []int64{1}}
	otherBrand = authz.Actor{UserID: 6, Role: role.Brand, BrandIDs: []int64{2}}
)

type noJobs struct{}

func (noJobs) InsertTx(context.Context, *gorm.DB, river.JobArgs) error { return nil }

// caseAtBrand walks a case to the brand: a purchase, its steps, the
// dispatch to the brand; accepted says whether the brand logged it in.
func caseAtBrand(t *testing.T, db *database.DB, accepted bool) casework.Case {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct {
		id   int64
		role string
	}{{2, "staff"}, {3, "volunteer"}, {4, "brand"}, {6, "brand"}} {
		must(db.Gorm.Exec(`INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, 'x', ?, ?)`,
			u.id, fmt.Sprintf("u%d@x.test", u.id), fmt.Sprintf("User %d", u.id), u.role, now, now).Error)
	}
	must(db.Gorm.Exec(`INSERT INTO brands (id, name, created_at) VALUES (1, 'Aurora', ?), (2, 'Other', ?)`, now, now).Error)
	must(db.Gorm.Exec(`INSERT INTO shops (id, platform, platform_shop_id, name, created_at, updated_at) VALUES (1, 'taobao', 's-1', 'Shop', ?, ?)`, now, now).Error)
	var c casework.Case
	must(db.InTx(ctx, func(tx *gorm.DB) error {
		cs, err := casework.OpenTx(tx, staff, []casework.NewCase{{ShopID: 1, BrandID: 1}})
		c = cs[0]
		return err
	}))
	ps := purchase.NewService(db, noJobs{}, 0, time.UTC)
	persona, err := ps.AddPersona(ctx, staff, 3, purchase.NewPersona{PlatformAccount: "a", AddressAlias: "b", Phone: "c", PaymentInstrument: "d"})
	must(err)
	p, err := ps.Order(ctx, staff, c.ID, purchase.OrderInput{CaseVersion: c.Version, VolunteerID: 3, PersonaID: persona.ID, Budget: "10.00",
		Currency: "CNY", ShipTo: "brand", DueOn: now.AddDate(0, 1, 0).Format(time.DateOnly)})
	must(err)
	file := func(k evidence.Kind, n int) []evidence.Upload {
		return []evidence.Upload{{Kind: k, Stored: evidence.Stored{Key: fmt.Sprintf("evidence/t/%d-%d", n, time.Now().UnixNano()),
			SHA256: fmt.Sprintf("%064x", n), Size: 1, ContentType: "image/png"}}}
	}
	today := now.Format(time.DateOnly)
	must(ps.RecordOrder(ctx, vol, p.ID, purchase.OrderStep{Version: 1, OrderNumber: "O", AmountPaid: "9.00", OrderDate: today}, file(evidence.Receipt, 1)))
	must(ps.RecordDelivery(ctx, vol, p.ID, purchase.DeliveryStep{Version: 2, DeliveredOn: today, SealNumber: "S"}, file(evidence.ParcelPhoto, 2)))
	must(ps.Dispatch(ctx, vol, p.ID, purchase.DispatchStep{Version: 3, To: purchase.PartyBrand, Carrier: "SF", Tracking: "T"}, nil))
	if accepted {
		ch, _, err := ps.ChainOf(ctx, p.ID)
		must(err)
		must(ps.Accept(ctx, brandUser, ch.Item.ID, purchase.Acceptance{SealIntact: true}, nil))
	}
	must(db.Gorm.Take(&c, c.ID).Error)
	return c
}

func input(c casework.Case, result string, fail ...string) verdict.Input {
	in := verdict.Input{CaseVersion: c.Version, Result: result, Outcomes: map[string]string{}, Notes: map[string]string{},
		Authenticator: "Ada Keller", SignedName: "Ada Keller", Confirmed: true}
	for _, item := range verdict.Items {
		in.Outcomes[item] = "pass"
	}
	for _, item := range fail {
		in.Outcomes[item], in.Notes[item] = "fail", "not as the original"
	}
	return in
}

func field(err error, f string) string {
	errs, _ := valid.As(err)
	return errs[f]
}

func TestVerdictRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		jobs := &dbtest.Jobs{}
		svc := verdict.NewService(db, jobs)
		c := caseAtBrand(t, db, false)
		// In transit: not yet the brand's to judge.
		early := input(c, "counterfeit", "packaging")
		early.Summary = "fake"
		if _, err := svc.Submit(ctx, brandUser, c.ID, early, nil, nil, nil); !errors.Is(err, verdict.ErrNotWithBrand) {
			t.Fatalf("verdict before acceptance: %v", err)
		}
		ps := purchase.NewService(db, noJobs{}, 0, time.UTC)
		var itemID int64
		if err := db.Gorm.Raw("SELECT id FROM items WHERE case_id = ?", c.ID).Row().Scan(&itemID); err != nil {
			t.Fatal(err)
		}
		if err := ps.Accept(ctx, brandUser, itemID, purchase.Acceptance{SealIntact: true}, nil); err != nil {
			t.Fatal(err)
		}
		for name, tc := range map[string]struct {
			in    verdict.Input
			field string
		}{
			"counterfeit without a failed check":  {input(c, "counterfeit"), "result"},
			"counterfeit without report or notes": {input(c, "counterfeit", "colour"), "summary"},
			"genuine without notes":               {input(c, "genuine"), "summary"},
			"unsigned":                            {func() verdict.Input { in := input(c, "genuine"); in.Summary = "ok"; in.Confirmed = false; return in }(), "signed_name"},
			"a check left out": {func() verdict.Input {
				in := input(c, "counterfeit", "colour")
				delete(in.Outcomes, "workmanship")
				return in
			}(), "check_workmanship"},
		} {
			if _, err := svc.Submit(ctx, brandUser, c.ID, tc.in, nil, nil, nil); field(err, tc.field) == "" {
				t.Errorf("%s: %v", name, err)
			}
		}
		in := input(c, "counterfeit", "packaging", "workmanship", "colour")
		in.Summary = "Inconsistent packaging, rough workmanship, abnormal colour."
		if _, err := svc.Submit(ctx, otherBrand, c.ID, in, nil, nil, nil); !errors.Is(err, database.ErrNotFound) {
			t.Fatalf("another brand: %v", err)
		}
		photo := evidence.Upload{Kind: evidence.ItemPhoto, Stored: evidence.Stored{Key: "evidence/t/box", SHA256: fmt.Sprintf("%064x", 7),
			Size: 1, ContentType: "image/jpeg"}}
		if _, err := svc.Submit(ctx, brandUser, c.ID, in, nil, nil, map[string][]evidence.Upload{"no_such_line": {photo}}); err == nil {
			t.Fatal("a photo of a line the checklist does not have")
		}
		v, err := svc.Submit(ctx, brandUser, c.ID, in, nil, nil, map[string][]evidence.Upload{"packaging": {photo}})
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := svc.ForCase(ctx, c.ID)
		if got := stored[0].Checks[0]; got.Item != "packaging" || len(got.PhotoIDs) != 1 {
			t.Fatalf("the packaging line's photos: %+v", got)
		}
		if err := db.Gorm.Exec("DELETE FROM verdict_check_photos").Error; err == nil {
			t.Fatal("a checklist photo was unlinked")
		}
		if got := fmt.Sprint(v.Failed()); got != "[packaging workmanship colour]" {
			t.Fatalf("failed %s", got)
		}
		if err := db.Gorm.Take(&c, c.ID).Error; err != nil {
			t.Fatal(err)
		}
		if c.State != casework.Confirmed {
			t.Fatalf("state %s", c.State)
		}
		// Immutable, on both databases.
		if err := db.Gorm.Exec("UPDATE verdicts SET result = 'genuine'").Error; err == nil {
			t.Fatal("a verdict was changed")
		}
		if err := db.Gorm.Exec("DELETE FROM verdict_checks").Error; err == nil {
			t.Fatal("a checklist was deleted")
		}
		// Superseding needs a reason; both stay on record; the case follows.
		gen := input(c, "genuine")
		gen.Summary = "The serial code matches our records after all."
		if _, err := svc.Submit(ctx, brandUser, c.ID, gen, nil, nil, nil); field(err, "supersede_reason") == "" {
			t.Fatalf("supersede without a reason: %v", err)
		}
		gen.SupersedeReason = "Wrong item examined"
		v2, err := svc.Submit(ctx, brandUser, c.ID, gen, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		vs, _ := svc.ForCase(ctx, c.ID)
		if len(vs) != 2 || verdict.Current(vs).ID != v2.ID || *v2.SupersedesID != v.ID {
			t.Fatalf("verdicts %+v", vs)
		}
		if err := db.Gorm.Take(&c, c.ID).Error; err != nil {
			t.Fatal(err)
		}
		if c.State != casework.Closed || c.CloseReason != casework.Genuine {
			t.Fatalf("after superseding: %s/%s", c.State, c.CloseReason)
		}
		// Staff who ordered the purchase were told of each verdict, in its
		// transaction: the refused submissions queued nothing.
		var told []string
		for _, a := range jobs.Args() {
			if n, ok := a.(notify.Args); ok {
				told = append(told, fmt.Sprintf("%s %s %v %s", n.Event, n.Subject, n.UserIDs, n.Link))
			}
		}
		staffTold := fmt.Sprintf("%v", []int64{staff.UserID})
		want := []string{"verdict_signed " + c.Reference + " " + staffTold + " /cases/" + c.Reference + "#verdicts",
			"verdict_superseded " + c.Reference + " " + staffTold + " /cases/" + c.Reference + "#verdicts"}
		if !slices.Equal(told, want) {
			t.Fatalf("notifications queued:\n%q\nwant\n%q", told, want)
		}
		// Closed as genuine: no more verdicts from the brand.
		again := input(c, "inconclusive")
		again.Summary, again.SupersedeReason = "x", "y"
		if _, err := svc.Submit(ctx, brandUser, c.ID, again, nil, nil, nil); !errors.Is(err, casework.ErrNotAllowed) {
			t.Fatalf("verdict on a closed case: %v", err)
		}
	})
}

func TestAnInconclusiveVerdictSendsTheCaseBackForAnotherPurchase(t *testing.T) {
	db := dbtest.SQLite(t)
	c := caseAtBrand(t, db, true)
	in := input(c, "inconclusive")
	in.Summary = "The item was damaged in transit; buy another."
	if _, err := verdict.NewService(db, &dbtest.Jobs{}).Submit(context.Background(), brandUser, c.ID, in, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Take(&c, c.ID).Error; err != nil {
		t.Fatal(err)
	}
	if c.State != casework.Flagged {
		t.Fatalf("state %s", c.State)
	}
}
