package database_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/stats"
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

// TestUpgradingToAgeingFillsTheHistogram upgrades cases of two brands at
// 00020 to the ageing schema (00021): each case entered its state at its
// last transition, or its opening without one; the histogram holds the
// open cases by the day they entered their state, in the form the
// transactions write (a move out of a backfilled day rolls into its row);
// open steps carry their case's brand;
// and the step back and up again work.
func TestUpgradingToAgeingFillsTheHistogram(t *testing.T) {
	dbtest.EachEmpty(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := db.MigrateTo(ctx, 20); err != nil {
			t.Fatal(err)
		}
		day := func(d int) time.Time { return time.Date(2026, 11, d, 9, 30, 0, 0, time.UTC) }
		exec := func(q string, args ...any) {
			t.Helper()
			if err := db.Gorm.Exec(q, args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		exec(`INSERT INTO brands (id, name, created_at) VALUES (1, 'Aurora', ?), (2, 'Other', ?)`, day(1), day(1))
		cases := []struct {
			brand    int64
			state    string
			opened   time.Time
			lastMove time.Time // zero: none since the opening
		}{
			{1, "flagged", day(1), time.Time{}},
			{1, "flagged", day(3), time.Time{}},
			{1, "purchasing", day(2), day(5)},
			{1, "closed", day(2), day(4)},
			{2, "flagged", day(1), day(6)},
			{2, "purchasing", day(1), day(5)},
		}
		for i, c := range cases {
			exec(`INSERT INTO shops (id, platform, platform_shop_id, name, created_at, updated_at) VALUES (?, 'taobao', ?, 'Shop', ?, ?)`,
				i+1, fmt.Sprintf("age-%d", i), c.opened, c.opened)
			exec(`INSERT INTO cases (id, reference, shop_id, brand_id, state, opened_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				i+1, fmt.Sprintf("SC-2026-%06d", i+1), i+1, c.brand, c.state, c.opened, c.opened)
			exec(`INSERT INTO case_events (case_id, at, kind, event, to_state, note) VALUES (?, ?, 'transition', 'open', 'flagged', '')`, i+1, c.opened)
			exec(`INSERT INTO case_events (case_id, at, kind, note) VALUES (?, ?, 'comment', 'a later comment')`, i+1, day(20))
			if !c.lastMove.IsZero() {
				exec(`INSERT INTO case_events (case_id, at, kind, event, to_state, note) VALUES (?, ?, 'transition', 'x', ?, '')`, i+1, c.lastMove, c.state)
			}
		}
		exec(`INSERT INTO deadlines (case_id, kind, subject_id, party, party_id, started_at, due_at) VALUES (5, 'verdict', 5, 'brand', 2, ?, ?)`, day(6), day(9))
		if err := db.MigrateTo(ctx, 21); err != nil {
			t.Fatal(err)
		}
		var stepBrand int64
		if err := db.Gorm.Raw(`SELECT brand_id FROM deadlines WHERE case_id = 5`).Row().Scan(&stepBrand); err != nil || stepBrand != 2 {
			t.Errorf("the open step of case 5 (brand 2) has brand %d (%v)", stepBrand, err)
		}
		for i, c := range cases {
			want := c.lastMove
			if want.IsZero() {
				want = c.opened
			}
			var got time.Time
			if err := db.Gorm.Raw(`SELECT state_since FROM cases WHERE id = ?`, i+1).Row().Scan(&got); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(want) {
				t.Errorf("case %d entered %s at %s, want %s", i+1, c.state, got, want)
			}
		}
		today := clock.DateOf(day(11), time.UTC)
		for brand, want := range map[int64]map[string]stats.Age{
			1:         {"flagged": {N: 2, Median: 8, P90: 10}, "purchasing": {N: 1, Median: 6, P90: 6}},
			2:         {"flagged": {N: 1, Median: 5, P90: 5}, "purchasing": {N: 1, Median: 6, P90: 6}},
			stats.All: {"flagged": {N: 3, Median: 8, P90: 10}, "purchasing": {N: 2, Median: 6, P90: 6}},
		} {
			got, err := stats.Ages(ctx, db.Gorm, brand, today, "flagged", "purchasing", "confirmed")
			if err != nil {
				t.Fatal(err)
			}
			want["confirmed"] = stats.Age{}
			for st, w := range want {
				if got[st] != w {
					t.Errorf("brand %d, %s: %+v, want %+v", brand, st, got[st], w)
				}
			}
		}
		// Case 2 leaves flagged as a transaction would write it; rolled, its
		// backfilled day is gone (the sums meet on one row and are zero).
		if err := stats.AgeTx(db.Gorm, stats.AgeMove{State: "flagged", BrandID: 1, Since: day(3), N: -1}); err != nil {
			t.Fatal(err)
		}
		if _, err := (&stats.Roller{DB: db}).Roll(ctx); err != nil {
			t.Fatal(err)
		}
		var rows int64
		if err := db.Gorm.Raw(`SELECT count(*) FROM daily_counts WHERE metric = 'in_flagged' AND brand_id = 1`).Row().Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != 1 {
			t.Errorf("brand 1 has %d flagged days after case 2 left, want 1 (day 1)", rows)
		}
		var month int64
		if err := db.Gorm.Raw(`SELECT sum(n) FROM daily_counts WHERE metric = 'inm_flagged' AND brand_id = 1`).Row().Scan(&month); err != nil || month != 1 {
			t.Errorf("brand 1's flagged month holds %d cases after case 2 left, want 1 (%v)", month, err)
		}
		if err := db.MigrateTo(ctx, 20); err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Raw(`SELECT count(*) FROM daily_counts WHERE metric LIKE 'in%'`).Row().Scan(&rows); err != nil || rows != 0 {
			t.Errorf("stepped back: %d histogram rows left (%v)", rows, err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestUpgradingToClustersNamesEachComponentOfTheLinks upgrades linked
// shops at 00023 to the cluster schema (00024): a chain of three, a pair
// linked twice, and a shop with no link; each linked shop names its
// component's cluster, the lone one none; a cluster made afterwards gets
// an id of its own; and the step back and up again work.
func TestUpgradingToClustersNamesEachComponentOfTheLinks(t *testing.T) {
	dbtest.EachEmpty(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := db.MigrateTo(ctx, 23); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		exec := func(q string, args ...any) {
			t.Helper()
			if err := db.Gorm.Exec(q, args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		for i := 1; i <= 6; i++ {
			exec(`INSERT INTO shops (id, platform, platform_shop_id, name, created_at, updated_at) VALUES (?, 'taobao', ?, 'Shop', ?, ?)`,
				i, fmt.Sprintf("cl-%d", i), now, now)
		}
		for _, l := range [][2]int{{1, 2}, {2, 3}, {4, 5}} {
			exec(`INSERT INTO shop_links (shop_a_id, shop_b_id, kind, created_at) VALUES (?, ?, 'same_phone', ?)`, l[0], l[1], now)
		}
		exec(`INSERT INTO shop_links (shop_a_id, shop_b_id, kind, created_at) VALUES (4, 5, 'same_address', ?)`, now)
		for step, version := range []int64{24, 23, 24} {
			if err := db.MigrateTo(ctx, version); err != nil {
				t.Fatalf("step %d to %d: %v", step, version, err)
			}
		}
		cluster := map[int64]*int64{}
		var rows []struct {
			ID        int64
			ClusterID *int64
		}
		if err := db.Gorm.Raw(`SELECT id, cluster_id FROM shops`).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			cluster[r.ID] = r.ClusterID
		}
		same := func(a, b int64) bool { return cluster[a] != nil && cluster[b] != nil && *cluster[a] == *cluster[b] }
		if !same(1, 2) || !same(2, 3) || !same(4, 5) || same(3, 4) || cluster[6] != nil {
			t.Errorf("clusters after the upgrade: 1:%v 2:%v 3:%v 4:%v 5:%v 6:%v", cluster[1], cluster[2], cluster[3], cluster[4], cluster[5], cluster[6])
		}
		exec(`INSERT INTO clusters (created_at) VALUES (?)`, now)
		var n int64
		if err := db.Gorm.Raw(`SELECT count(*) FROM clusters`).Row().Scan(&n); err != nil || n != 3 {
			t.Errorf("%d clusters after one more (%v), want 3", n, err)
		}
	})
}
