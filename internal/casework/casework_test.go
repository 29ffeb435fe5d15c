package casework_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/role"
	"spotcheck/internal/valid"
)

var (
	admin     = authz.Actor{UserID: 1, Role: role.Admin}
	staff     = authz.Actor{UserID: 2, Role: role.Staff}
	volunteer = authz.Actor{UserID: 3, Role: role.Volunteer}
	brandUser = authz.Actor{UserID: 4, Role: role.Brand, BrandIDs: []int64{1}}
	actors    = map[string]authz.Actor{"admin": admin, "staff": staff, "volunteer": volunteer, "brand": brandUser}
)

// TestTableOverEveryStateEventAndRole pins down, for every state, event and
// role, whether the transition is offered, and where it leads.
func TestTableOverEveryStateEventAndRole(t *testing.T) {
	type want struct {
		to    casework.State
		roles []string
	}
	expected := map[casework.Event]map[casework.State]want{
		casework.Dismiss: {casework.Flagged: {casework.Closed, []string{"admin", "staff"}}},
		casework.Reopen:  {casework.Closed: {casework.Flagged, []string{"admin"}}},
		// A volunteer fires send_to_brand only on their own purchase
		// (Firing.Owner); a case alone offers it to staff.
		casework.OrderPurchase:  {casework.Flagged: {casework.Purchasing, []string{"admin", "staff"}}},
		casework.CancelPurchase: {casework.Purchasing: {casework.Flagged, []string{"admin", "staff"}}},
		casework.SendToBrand:    {casework.Purchasing: {casework.Authenticating, []string{"admin", "staff"}}},
		// Verdicts are the brand's (brand 1 here); from confirmed they supersede.
		casework.VerdictCounterfeit:  {casework.Authenticating: {casework.Confirmed, []string{"brand"}}, casework.Confirmed: {casework.Confirmed, []string{"brand"}}},
		casework.VerdictGenuine:      {casework.Authenticating: {casework.Closed, []string{"brand"}}, casework.Confirmed: {casework.Closed, []string{"brand"}}},
		casework.VerdictInconclusive: {casework.Authenticating: {casework.Flagged, []string{"brand"}}, casework.Confirmed: {casework.Flagged, []string{"brand"}}},
		casework.ReferToPolice:       {casework.Confirmed: {casework.Referred, []string{"admin", "staff"}}},
		casework.ClosePlatformAction: {casework.Confirmed: {casework.Closed, []string{"admin", "staff"}}, casework.Referred: {casework.Closed, []string{"admin", "staff"}}},
		casework.CloseEnforced:       {casework.Confirmed: {casework.Closed, []string{"admin", "staff"}}, casework.Referred: {casework.Closed, []string{"admin", "staff"}}},
		casework.FileClaim:           {casework.Confirmed: {casework.Litigating, []string{"admin", "staff"}}, casework.Referred: {casework.Litigating, []string{"admin", "staff"}}},
		casework.RecordJudgment:      {casework.Litigating: {casework.Closed, []string{"admin", "staff"}}},
		casework.Settle:              {casework.Litigating: {casework.Closed, []string{"admin", "staff"}}},
	}
	for _, ev := range []casework.Event{casework.Dismiss, casework.Reopen, casework.OrderPurchase, casework.CancelPurchase, casework.SendToBrand,
		casework.VerdictCounterfeit, casework.VerdictGenuine, casework.VerdictInconclusive,
		casework.ReferToPolice, casework.ClosePlatformAction, casework.CloseEnforced, casework.FileClaim, casework.RecordJudgment, casework.Settle} {
		for _, st := range casework.States {
			for name, a := range actors {
				t.Run(fmt.Sprintf("%s/%s/%s", ev, st, name), func(t *testing.T) {
					c := casework.Case{State: st, BrandID: 1}
					w, exists := expected[ev][st]
					allowed := exists && slices.Contains(w.roles, name)
					offered := slices.ContainsFunc(casework.Available(a, c), func(tr casework.Transition) bool { return tr.Event == ev })
					if offered != allowed {
						t.Fatalf("offered = %v, want %v", offered, allowed)
					}
					tr, ok := casework.Lookup(st, ev)
					if ok != exists || (ok && tr.To != w.to) {
						t.Fatalf("Lookup = %+v, %v", tr, ok)
					}
				})
			}
		}
	}
}

func TestEveryRowLeadsSomewhereValid(t *testing.T) {
	for _, tr := range casework.Table {
		if (tr.To == casework.Closed) != (tr.CloseReason != "") {
			t.Errorf("%s: close reason %q with target %s", tr.Event, tr.CloseReason, tr.To)
		}
		if len(tr.From) == 0 || tr.Action == "" {
			t.Errorf("%s: incomplete row %+v", tr.Event, tr)
		}
	}
}

type fixture struct {
	db    *database.DB
	svc   *casework.Service
	shop  int64
	brand int64
}

func setup(t *testing.T, db *database.DB) fixture {
	t.Helper()
	now := time.Now().UTC()
	g := db.Gorm
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct {
		id   int64
		role string
	}{{1, "admin"}, {2, "staff"}, {3, "volunteer"}, {4, "brand"}} {
		must(g.Exec(`INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, 'x', ?, ?)`,
			u.id, fmt.Sprintf("%s@x.test", u.role), "User "+u.role, u.role, now, now).Error)
	}
	must(g.Exec(`INSERT INTO brands (id, name, created_at) VALUES (1, 'Aurora', ?)`, now).Error)
	must(g.Exec(`INSERT INTO shops (id, platform, platform_shop_id, name, created_at, updated_at) VALUES (1, 'taobao', 's-1', 'Star Watch Shop', ?, ?)`, now, now).Error)
	return fixture{db: db, svc: casework.NewService(db), shop: 1, brand: 1}
}

func (f fixture) open(t *testing.T) casework.Case {
	t.Helper()
	var c casework.Case
	err := f.db.InTx(context.Background(), func(tx *gorm.DB) error {
		cs, err := casework.OpenTx(tx, staff, []casework.NewCase{{ShopID: f.shop, BrandID: f.brand, RiskScore: 0.9, SearchText: "Star Watch Shop"}})
		if err == nil {
			c = cs[0]
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestReferencesAreSequentialPerYear(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		c := f.open(t)
		want := fmt.Sprintf("SC-%d-000001", time.Now().UTC().Year())
		if c.Reference != want || c.State != casework.Flagged || c.Version != 1 {
			t.Fatalf("case = %+v", c)
		}
		if _, err := f.svc.Fire(context.Background(), staff, c.ID, 1, casework.Dismiss, "not counterfeit"); err != nil {
			t.Fatal(err)
		}
		if d := f.open(t); d.Reference != fmt.Sprintf("SC-%d-000002", time.Now().UTC().Year()) {
			t.Fatalf("second reference %s", d.Reference)
		}
	})
}

func TestDismissNeedsAReasonAndReopenNeedsAnAdmin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		ctx := context.Background()
		c := f.open(t)
		_, err := f.svc.Fire(ctx, staff, c.ID, c.Version, casework.Dismiss, "  ")
		if fe, ok := valid.As(err); !ok || fe["note"] != "error.reason_required" {
			t.Fatalf("dismiss without reason: %v", err)
		}
		if _, err := f.svc.Fire(ctx, volunteer, c.ID, c.Version, casework.Dismiss, "x"); !errors.Is(err, database.ErrNotFound) {
			t.Fatalf("volunteer: %v, want not found", err)
		}
		closed, err := f.svc.Fire(ctx, staff, c.ID, c.Version, casework.Dismiss, "listing removed by the seller")
		if err != nil || closed.State != casework.Closed || closed.CloseReason != casework.Dismissed || closed.ClosedAt == nil || closed.Version != 2 {
			t.Fatalf("dismissed: %+v, %v", closed, err)
		}
		if _, err := f.svc.Fire(ctx, staff, c.ID, closed.Version, casework.Reopen, "new evidence"); !errors.Is(err, casework.ErrNotAllowed) {
			t.Fatalf("staff reopen: %v", err)
		}
		if _, err := f.svc.Fire(ctx, admin, c.ID, closed.Version, casework.Dismiss, "again"); !errors.Is(err, casework.ErrNotAllowed) {
			t.Fatalf("dismiss a closed case: %v", err)
		}
		open, err := f.svc.Fire(ctx, admin, c.ID, closed.Version, casework.Reopen, "new evidence")
		if err != nil || open.State != casework.Flagged || open.ClosedAt != nil || open.CloseReason != "" {
			t.Fatalf("reopened: %+v, %v", open, err)
		}
		for _, brand := range []int64{0, c.BrandID} {
			counts, err := f.svc.Counts(ctx, brand)
			if err != nil || counts[casework.Flagged] != 1 || counts[casework.Closed] != 0 {
				t.Fatalf("counts of brand %d = %v, %v", brand, counts, err)
			}
		}
		if other, err := f.svc.Counts(ctx, c.BrandID+1000); err != nil || other[casework.Flagged] != 0 {
			t.Fatalf("another brand counts %v, %v", other, err)
		}
		tl, _ := f.svc.Timeline(ctx, c.ID)
		if len(tl) != 3 || tl[1].Event != "dismiss" || tl[1].Note != "listing removed by the seller" || tl[2].Event != "reopen" {
			t.Fatalf("timeline = %+v", tl)
		}
		if s, err := audit.Verify(ctx, db.Gorm); err != nil || s.Events != 2 {
			t.Fatalf("audit: %+v %v", s, err)
		}
	})
}

func TestReopenRefusedWhileAnotherCaseIsOpen(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		ctx := context.Background()
		c := f.open(t)
		closed, _ := f.svc.Fire(ctx, staff, c.ID, c.Version, casework.Dismiss, "first look")
		f.open(t) // a new case for the same shop and brand
		_, err := f.svc.Fire(ctx, admin, c.ID, closed.Version, casework.Reopen, "mistake")
		if fe, ok := valid.As(err); !ok || fe["event"] != "error.open_case_exists" {
			t.Fatalf("reopen beside an open case: %v", err)
		}
		err = f.db.InTx(ctx, func(tx *gorm.DB) error {
			_, err := casework.OpenTx(tx, staff, []casework.NewCase{{ShopID: f.shop, BrandID: f.brand}})
			return err
		})
		if !errors.Is(err, casework.ErrOpenCaseExists) {
			t.Fatalf("second open case: %v", err)
		}
	})
}

// TestConcurrentTransitionsLetExactlyOneWin fires the same transition 20
// times at once from the same version.
func TestConcurrentTransitionsLetExactlyOneWin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		c := f.open(t)
		const n = 20
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.svc.Fire(context.Background(), staff, c.ID, c.Version, casework.Dismiss, fmt.Sprintf("reason %d", i))
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, casework.ErrConflict):
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d transitions succeeded, want 1", wins)
		}
		counts, err := f.svc.Counts(context.Background(), c.BrandID)
		if err != nil || counts[casework.Closed] != 1 || counts[casework.Flagged] != 0 {
			t.Fatalf("counts = %v, %v", counts, err)
		}
		tl, _ := f.svc.Timeline(context.Background(), c.ID)
		if len(tl) != 2 {
			t.Fatalf("%d timeline entries, want 2", len(tl))
		}
	})
}

func TestAssignAndComment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		ctx := context.Background()
		c := f.open(t)
		if _, err := f.svc.Assign(ctx, staff, c.ID, c.Version, 3); err == nil {
			t.Fatal("a volunteer became investigator")
		}
		got, err := f.svc.Assign(ctx, staff, c.ID, c.Version, 2)
		if err != nil || got.InvestigatorID == nil || *got.InvestigatorID != 2 {
			t.Fatalf("assign: %+v %v", got, err)
		}
		if _, err := f.svc.Assign(ctx, staff, c.ID, c.Version, 1); !errors.Is(err, casework.ErrConflict) {
			t.Fatalf("stale assign: %v", err)
		}
		if err := f.svc.Comment(ctx, staff, c.ID, ""); err == nil {
			t.Fatal("empty comment accepted")
		}
		if err := f.svc.Comment(ctx, staff, c.ID, "卖家更换了店铺名称"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Comment(ctx, brandUser, c.ID, "x"); !errors.Is(err, database.ErrNotFound) {
			t.Fatalf("brand comment: %v", err)
		}
		tl, _ := f.svc.Timeline(ctx, c.ID)
		if len(tl) != 3 || tl[1].Kind != "assignment" || tl[1].Note != "User staff" || tl[2].Note != "卖家更换了店铺名称" {
			t.Fatalf("timeline = %+v", tl)
		}
	})
}

// Rows with their own use case (a purchase order, a dispatch) cannot be
// fired through the plain transition endpoint, which would skip their guard.
func TestFireRefusesRowsThatHaveTheirOwnUseCase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		c := f.open(t)
		if _, err := f.svc.Fire(context.Background(), staff, c.ID, c.Version, casework.OrderPurchase, "x"); !errors.Is(err, casework.ErrNotAllowed) {
			t.Fatalf("Fire(order_purchase) = %v, want ErrNotAllowed", err)
		}
		got, err := f.svc.Get(context.Background(), staff, c.ID)
		if err != nil || got.State != casework.Flagged || got.Version != c.Version {
			t.Fatalf("case after refusal: %+v, %v", got, err)
		}
	})
}
