package database_test

import (
	"context"
	"testing"
	"time"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
)

// TestUpgradingToPerBrandCountsKeepsTheCounts upgrades a database at the
// previous release's schema (00019), with cases of two brands in several
// states, to the dashboard's (00020): the per-brand counts equal the cases;
// stepping back restores the per-state counts; and up again.
func TestUpgradingToPerBrandCountsKeepsTheCounts(t *testing.T) {
	dbtest.EachEmpty(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := db.MigrateTo(ctx, 19); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
		exec := func(q string, args ...any) {
			t.Helper()
			if err := db.Gorm.Exec(q, args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		exec(`INSERT INTO brands (id, name, created_at) VALUES (1, 'Aurora', ?), (2, 'Other', ?)`, at, at)
		states := []struct {
			brand int64
			state string
		}{{1, "flagged"}, {1, "flagged"}, {1, "purchasing"}, {1, "closed"}, {2, "flagged"}, {2, "confirmed"}, {2, "closed"}, {2, "closed"}}
		for i, c := range states {
			exec(`INSERT INTO shops (id, platform, platform_shop_id, name, created_at, updated_at) VALUES (?, 'taobao', ?, 'Shop', ?, ?)`,
				i+1, "up-"+string(rune('a'+i)), at, at)
			exec(`INSERT INTO cases (reference, shop_id, brand_id, state, opened_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				"SC-2026-00000"+string(rune('1'+i)), i+1, c.brand, c.state, at, at)
			exec(`UPDATE case_state_counts SET n = n + 1 WHERE state = ?`, c.state)
		}
		perBrand := func() map[[2]any]int64 {
			t.Helper()
			var rows []struct {
				BrandID int64
				State   string
				N       int64
			}
			if err := db.Gorm.Raw(`SELECT brand_id, state, n FROM case_counts WHERE n <> 0`).Scan(&rows).Error; err != nil {
				t.Fatal(err)
			}
			m := map[[2]any]int64{}
			for _, r := range rows {
				m[[2]any{r.BrandID, r.State}] = r.N
			}
			return m
		}
		want := map[[2]any]int64{}
		wantState := map[string]int64{}
		for _, c := range states {
			want[[2]any{c.brand, c.state}]++
			wantState[c.state]++
		}
		check := func(when string) {
			t.Helper()
			got := perBrand()
			if len(got) != len(want) {
				t.Errorf("%s: case_counts %v, want %v", when, got, want)
			}
			for k, n := range want {
				if got[k] != n {
					t.Errorf("%s: brand %v state %v counts %d, want %d", when, k[0], k[1], got[k], n)
				}
			}
		}
		if err := db.MigrateTo(ctx, 20); err != nil {
			t.Fatal(err)
		}
		check("upgraded")
		if err := db.MigrateTo(ctx, 19); err != nil {
			t.Fatal(err)
		}
		for st, n := range wantState {
			var got int64
			if err := db.Gorm.Raw(`SELECT n FROM case_state_counts WHERE state = ?`, st).Row().Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != n {
				t.Errorf("stepped back: %s counts %d, want %d", st, got, n)
			}
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		check("upgraded again")
	})
}
