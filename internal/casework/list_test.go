package casework_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
)

// seedCases opens n cases on n shops, with scores 0.00, 0.01, …
func seedCases(t *testing.T, f fixture, n int) []casework.Case {
	t.Helper()
	now := time.Now().UTC()
	var out []casework.Case
	err := f.db.InTx(context.Background(), func(tx *gorm.DB) error {
		var ncs []casework.NewCase
		for i := range n {
			id := int64(100 + i)
			name := fmt.Sprintf("Shop %03d", i)
			if i == 7 {
				name = "星光手表专卖"
			}
			if err := tx.Exec(`INSERT INTO shops (id, platform, platform_shop_id, name, created_at, updated_at) VALUES (?, 'taobao', ?, ?, ?, ?)`,
				id, fmt.Sprintf("s-%d", id), name, now, now).Error; err != nil {
				return err
			}
			ncs = append(ncs, casework.NewCase{ShopID: id, BrandID: f.brand, RiskScore: float64(i) / 100, SearchText: name + " crystal watch"})
		}
		var err error
		out, err = casework.OpenTx(tx, staff, ncs)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestListPagesByKeysetThroughEveryCaseOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		seedCases(t, f, 23)
		for _, sort := range []string{casework.SortUpdated, casework.SortOpened, casework.SortScore} {
			seen := map[int64]bool{}
			after, pages := "", 0
			var last float64 = 2
			for {
				rows, next, err := f.svc.List(context.Background(), staff, casework.Filter{Sort: sort, After: after, Limit: 5})
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, r := range rows {
					if seen[r.ID] {
						t.Fatalf("%s: case %d twice", sort, r.ID)
					}
					seen[r.ID] = true
					if sort == casework.SortScore {
						if r.RiskScore > last {
							t.Fatalf("score order broken: %v after %v", r.RiskScore, last)
						}
						last = r.RiskScore
					}
				}
				if next == "" {
					break
				}
				after = next
			}
			if len(seen) != 23 || pages != 5 {
				t.Fatalf("%s: %d cases in %d pages", sort, len(seen), pages)
			}
		}
	})
}

func TestListFiltersAndSearch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		cs := seedCases(t, f, 12)
		ctx := context.Background()
		if _, err := f.svc.Fire(ctx, staff, cs[3].ID, 1, casework.Dismiss, "duplicate listing"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Assign(ctx, staff, cs[5].ID, 1, 2); err != nil {
			t.Fatal(err)
		}
		min, max := 0.05, 0.08
		cases := map[string]struct {
			f    casework.Filter
			want int
		}{
			"all":               {casework.Filter{}, 12},
			"closed":            {casework.Filter{States: []casework.State{casework.Closed}}, 1},
			"flagged":           {casework.Filter{States: []casework.State{casework.Flagged}}, 11},
			"brand":             {casework.Filter{BrandID: f.brand}, 12},
			"other brand":       {casework.Filter{BrandID: 99}, 0},
			"shop":              {casework.Filter{ShopID: 104}, 1},
			"investigator":      {casework.Filter{InvestigatorID: 2}, 1},
			"score range":       {casework.Filter{MinScore: &min, MaxScore: &max}, 4},
			"search shop":       {casework.Filter{Q: "shop 01"}, 2},
			"search chinese":    {casework.Filter{Q: "星光手表"}, 1},
			"search short":      {casework.Filter{Q: "星光"}, 1},
			"search reference":  {casework.Filter{Q: cs[2].Reference}, 1},
			"search listing":    {casework.Filter{Q: "CRYSTAL"}, 12},
			"search like chars": {casework.Filter{Q: "%"}, 0},
			"opened today":      {casework.Filter{From: ptr(time.Now().Add(-time.Hour)), To: ptr(time.Now().Add(time.Hour))}, 12},
			"opened tomorrow":   {casework.Filter{From: ptr(time.Now().Add(24 * time.Hour))}, 0},
		}
		for name, c := range cases {
			rows, _, err := f.svc.List(ctx, staff, c.f)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(rows) != c.want {
				t.Errorf("%s: %d rows, want %d", name, len(rows), c.want)
			}
		}
		if _, _, err := f.svc.List(ctx, volunteer, casework.Filter{}); err == nil {
			t.Fatal("a volunteer listed cases")
		}
		if _, _, err := f.svc.List(ctx, staff, casework.Filter{After: "garbage!"}); err == nil {
			t.Fatal("a bad cursor was accepted")
		}
		n := 0
		if err := f.svc.Each(ctx, staff, casework.Filter{}, func(casework.Row) error { n++; return nil }); err != nil || n != 12 {
			t.Fatalf("Each: %d, %v", n, err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestEachDatedStepIsFoundThroughItsIndex explains the list query filtered
// by each dated step over a week and checks the plan reads the step's
// index (on PostgreSQL with sequential scans off, as the tables here are
// too small for the planner to prefer an index on its own).
func TestEachDatedStepIsFoundThroughItsIndex(t *testing.T) {
	index := map[casework.Dated]string{
		casework.DatedOrdered: "purchases_order_date_idx", casework.DatedVerdict: "case_events_transition_at_idx",
		casework.DatedCounterfeit: "case_events_transition_at_idx", casework.DatedReferred: "case_events_transition_at_idx",
		casework.DatedRaided: "raids_raided_on_idx", casework.DatedClosed: "case_events_transition_at_idx",
		casework.DatedClaimed: "claims_filed_on_idx", casework.DatedAwarded: "claims_outcome_on_idx",
		casework.DatedCollected: "payments_received_idx",
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		from := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		to := from.AddDate(0, 0, 7)
		for _, d := range casework.DatedList {
			want, ok := index[d]
			if !ok {
				continue // the opening: the cases' own columns
			}
			q, err := f.svc.ListSQL(context.Background(), casework.Filter{Dated: d, From: &from, To: &to})
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			err = db.Gorm.Connection(func(tx *gorm.DB) error {
				explain := "EXPLAIN QUERY PLAN "
				if db.Dialect == database.Postgres {
					explain = "EXPLAIN "
					if err := tx.Exec("SET enable_seqscan = off").Error; err != nil {
						return err
					}
					defer func() {
						if err := tx.Exec("RESET enable_seqscan").Error; err != nil {
							t.Error(err)
						}
					}()
				}
				rows, err := tx.Raw(explain + q).Rows()
				if err != nil {
					return err
				}
				defer rows.Close()
				cols, _ := rows.Columns()
				for rows.Next() {
					vals := make([]any, len(cols))
					ptrs := make([]any, len(cols))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					if err := rows.Scan(ptrs...); err != nil {
						return err
					}
					plan = append(plan, fmt.Sprint(vals...))
				}
				return rows.Err()
			})
			if err != nil {
				t.Fatalf("%s: %v", d, err)
			}
			if text := strings.Join(plan, "\n"); !strings.Contains(text, want) {
				t.Errorf("%s: the plan does not read %s:\n%s", d, want, text)
			}
		}
	})
}
