package web_test

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"gorm.io/gorm"

	"spotcheck/internal/casework"
	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/deadline"
	"spotcheck/internal/purchase"
	"spotcheck/internal/stats"
	"spotcheck/internal/user"
	"spotcheck/internal/valid"
)

// TestTheDashboardsFiguresEqualCountsOfTheRows builds a random, seeded
// dataset over several weeks (flags for two brands, cases dismissed, steps
// past due) through the services, then reads the dashboard for all brands
// and for each brand and compares every figure with a count of the rows
// made here; the figures link to case lists that list that many cases.
func TestTheDashboardsFiguresEqualCountsOfTheRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		ctx := t.Context()
		fixed := clock.NewFixed(time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC))
		db.UseClock(fixed)
		rng := rand.New(rand.NewPCG(11, 4)) // #nosec G404 -- seeded on purpose: the test data must be the same on every run
		staff := a.accounts["staff"].Actor()
		for day := 0; day < 30; day++ {
			for range rng.IntN(3) {
				brand := []string{"Aurora Timepieces", "Other Brand"}[rng.IntN(2)]
				a.ingestNDJSON(t, flagJSON(fmt.Sprintf("dash-%d-%d", day, rng.IntN(1e6)), fmt.Sprintf("dash-shop-%d", rng.IntN(40)), brand, 0.9))
			}
			var open []casework.Case
			if err := db.Gorm.Where("state = ?", casework.Flagged).Find(&open).Error; err != nil {
				t.Fatal(err)
			}
			if len(open) > 0 && rng.IntN(3) == 0 {
				c := open[rng.IntN(len(open))]
				if _, err := a.cases.Fire(ctx, staff, c.ID, c.Version, casework.Dismiss, "not a fake"); err != nil {
					t.Fatal(err)
				}
			}
			// Cases move on, so that states hold cases of several ages.
			if err := db.Gorm.Where("state = ?", casework.Flagged).Find(&open).Error; err != nil {
				t.Fatal(err)
			}
			if len(open) > 1 && rng.IntN(3) == 0 {
				c := open[rng.IntN(len(open))]
				{
					if err := db.InTx(ctx, func(tx *gorm.DB) error {
						c2, err := casework.FireTx(ctx, tx, staff, casework.Firing{CaseID: c.ID, Version: c.Version, Event: casework.OrderPurchase})
						if err == nil && rng.IntN(2) == 0 {
							_, err = casework.FireTx(ctx, tx, staff, casework.Firing{CaseID: c2.ID, Version: c2.Version, Event: casework.SendToBrand})
						}
						return err
					}); err != nil {
						t.Fatal(err)
					}
				}
			}
			var closed []casework.Case
			if err := db.Gorm.Where("state = ?", casework.Closed).Find(&closed).Error; err != nil {
				t.Fatal(err)
			}
			if len(closed) > 0 && rng.IntN(4) == 0 {
				c := closed[rng.IntN(len(closed))]
				var refused valid.Errors // a newer open case of the shop and brand
				if _, err := a.cases.Fire(ctx, a.accounts["admin"].Actor(), c.ID, c.Version, casework.Reopen, "a new lead"); err != nil && !errors.As(err, &refused) {
					t.Fatal(err)
				}
			}
			if day == 15 {
				if _, err := (&stats.Roller{DB: db}).Roll(ctx); err != nil {
					t.Fatal(err)
				}
			}
			fixed.Add(24*time.Hour + 17*time.Minute)
		}
		// Some steps are past due, one is not, one was met.
		var ids []struct{ ID, BrandID int64 }
		if err := db.Gorm.Raw("SELECT id, brand_id FROM cases WHERE state <> 'closed' ORDER BY id LIMIT 4").Scan(&ids).Error; err != nil {
			t.Fatal(err)
		}
		if len(ids) < 4 {
			t.Fatalf("the dataset has %d open cases", len(ids))
		}
		now := db.Now()
		if err := db.InTx(ctx, func(tx *gorm.DB) error {
			for i, due := range []time.Duration{-time.Hour, -48 * time.Hour, time.Hour, -time.Hour} {
				if err := deadline.StartTx(tx, deadline.Step{Kind: deadline.Verdict, CaseID: ids[i].ID, SubjectID: ids[i].ID,
					Party: deadline.Brand, PartyID: ids[i].BrandID, Due: now.Add(due)}); err != nil {
					return err
				}
			}
			return deadline.MeetTx(tx, deadline.Verdict, ids[3].ID)
		}); err != nil {
			t.Fatal(err)
		}

		// The pool: three volunteers more, one paused, one disabled; two
		// personas burned in the weeks, one long before.
		for i, v := range []string{"vol-a", "vol-b", "vol-c"} {
			u, err := a.users.Create(ctx, user.New{Email: v + "@test.spotcheck.test", Name: v, Role: "volunteer", Password: testPassword})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.purchase.UpdateVolunteer(ctx, staff, u.ID, "Zhejiang", i == 0); err != nil {
				t.Fatal(err)
			}
			if i == 2 {
				if err := db.Gorm.Exec("UPDATE users SET disabled_at = ? WHERE id = ?", now, u.ID).Error; err != nil {
					t.Fatal(err)
				}
			}
			p, err := a.purchase.AddPersona(ctx, staff, u.ID, purchase.NewPersona{PlatformAccount: v, AddressAlias: "a", Phone: "1", PaymentInstrument: "p"})
			if err != nil {
				t.Fatal(err)
			}
			if i == 1 {
				fixed.Add(-200 * 24 * time.Hour)
			}
			if err := a.purchase.BurnPersona(ctx, staff, u.ID, p.ID, "spotted"); err != nil {
				t.Fatal(err)
			}
			if i == 1 {
				fixed.Add(200 * 24 * time.Hour)
				// and buys for a case with a fresh persona: a purchase under way.
				fresh, err := a.purchase.AddPersona(ctx, staff, u.ID, purchase.NewPersona{PlatformAccount: v + "-2", AddressAlias: "a", Phone: "1", PaymentInstrument: "p"})
				if err != nil {
					t.Fatal(err)
				}
				var c casework.Case
				if err := db.Gorm.Where("state = ?", casework.Flagged).Order("id").Take(&c).Error; err != nil {
					t.Fatal(err)
				}
				if _, err := a.purchase.Order(ctx, staff, c.ID, purchase.OrderInput{CaseVersion: c.Version, VolunteerID: u.ID, PersonaID: fresh.ID,
					Budget: "99.00", Currency: "CNY", ShipTo: "the office", DueOn: clock.DateOf(now, dbtest.Zone).AddDays(3).String()}); err != nil {
					t.Fatal(err)
				}
			}
		}
		admin := a.as("admin")
		today := clock.DateOf(now, dbtest.Zone)
		last := today.AddDays(-((int(today.Time().Weekday()) + 6) % 7))
		for _, b := range []int64{0, a.brand.ID, a.other.ID} {
			path := "/dashboard"
			where, args := "1 = 1", []any{}
			if b != 0 {
				path += "?brand=" + strconv.FormatInt(b, 10)
				where, args = "brand_id = ?", []any{b}
			}
			res := admin.get(path)
			if i := strings.Index(res.body, "%!"); i >= 0 { // a message given an argument its verb does not take
				t.Errorf("%s: a mis-formatted message: %q", path, res.body[max(i-60, 0):min(i+40, len(res.body))])
			}
			d := res.doc(t)
			for _, st := range casework.States {
				var want int64
				if err := db.Gorm.Raw("SELECT count(*) FROM cases WHERE state = ? AND "+where, append([]any{st}, args...)...).Row().Scan(&want); err != nil {
					t.Fatal(err)
				}
				link := d.Find("[data-testid='pipeline-state." + string(st) + "']")
				if got := strings.TrimSpace(link.Text()); got != strconv.FormatInt(want, 10) {
					t.Errorf("%s: %s shows %q cases, the rows %d", path, st, got, want)
				}
				href, _ := link.Attr("href")
				if want > 0 && want <= 50 {
					if n := admin.get(href).doc(t).Find("[data-testid=case-row]").Length(); int64(n) != want {
						t.Errorf("%s: %s links to %s, which lists %d cases, not %d", path, st, href, n, want)
					}
				}
			}
			// Ageing: the median and 90th percentile (nearest rank) of the
			// whole days each open case has been in its state, and the three
			// longest in it.
			for _, st := range casework.States {
				if !st.Open() {
					continue
				}
				var rows []struct {
					Reference  string
					StateSince time.Time
				}
				if err := db.Gorm.Raw("SELECT reference, state_since FROM cases WHERE state = ? AND "+where+" ORDER BY state_since, id",
					append([]any{st}, args...)...).Scan(&rows).Error; err != nil {
					t.Fatal(err)
				}
				row := d.Find("[data-testid=age-figure][data-state=" + string(st) + "]")
				if got := strings.TrimSpace(row.Find("[data-testid=age-n]").Text()); got != strconv.Itoa(len(rows)) {
					t.Errorf("%s: %s ageing counts %q cases, the rows %d", path, st, got, len(rows))
				}
				if len(rows) == 0 {
					continue
				}
				ages := make([]int, len(rows))
				for i, r := range rows {
					utcDay := func(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
					ages[i] = int(utcDay(now).Sub(utcDay(r.StateSince)).Hours() / 24)
				}
				slices.Sort(ages)
				nearest := func(p float64) string { return strconv.Itoa(ages[int(math.Ceil(p*float64(len(ages))))-1]) }
				if got := row.Find("[data-testid=age-median]").Text(); got != nearest(0.5) {
					t.Errorf("%s: %s median %s days, the rows %s (ages %v)", path, st, got, nearest(0.5), ages)
				}
				if got := row.Find("[data-testid=age-p90]").Text(); got != nearest(0.9) {
					t.Errorf("%s: %s 90th percentile %s days, the rows %s (ages %v)", path, st, got, nearest(0.9), ages)
				}
				var oldest []string
				row.Find("[data-testid=age-oldest]").Each(func(_ int, s *goquery.Selection) { oldest = append(oldest, s.Text()) })
				var want []string
				for _, r := range rows[:min(3, len(rows))] {
					want = append(want, r.Reference)
				}
				if !slices.Equal(oldest, want) {
					t.Errorf("%s: %s longest waiting %v, the rows %v", path, st, oldest, want)
				}
			}
			var pool struct{ Active, Paused, Live, Burned int64 }
			if err := db.Gorm.Raw(`SELECT
				(SELECT count(*) FROM users u LEFT JOIN volunteers v ON v.user_id = u.id WHERE u.role = 'volunteer' AND u.disabled_at IS NULL AND v.paused_at IS NULL) AS active,
				(SELECT count(*) FROM users u JOIN volunteers v ON v.user_id = u.id WHERE u.role = 'volunteer' AND u.disabled_at IS NULL AND v.paused_at IS NOT NULL) AS paused,
				(SELECT count(*) FROM purchases WHERE status IN ('assigned', 'ordered', 'received')) AS live,
				(SELECT count(*) FROM personas WHERE burned_at >= ? AND burned_at < ?) AS burned`,
				last.AddDays(-77).Start(dbtest.Zone), last.AddDays(7).Start(dbtest.Zone)).Scan(&pool).Error; err != nil {
				t.Fatal(err)
			}
			for id, want := range map[string]int64{"pool-active": pool.Active, "pool-paused": pool.Paused, "pool-in-progress": pool.Live, "pool-burned": pool.Burned} {
				if got := d.Find("[data-testid=" + id + "]").Text(); got != strconv.FormatInt(want, 10) {
					t.Errorf("%s: %s shows %q, the rows %d", path, id, got, want)
				}
			}
			if pool.Active < 2 || pool.Paused != 1 || pool.Burned != 2 || pool.Live != 1 {
				t.Errorf("the dataset's pool is not what it was built to be: %+v", pool)
			}
			var overdue int64
			q := "SELECT count(*) FROM deadlines d JOIN cases c ON c.id = d.case_id WHERE d.done_at IS NULL AND d.due_at < ?"
			oargs := []any{now}
			if b != 0 {
				q += " AND c.brand_id = ?"
				oargs = append(oargs, b)
			}
			if err := db.Gorm.Raw(q, oargs...).Row().Scan(&overdue); err != nil {
				t.Fatal(err)
			}
			var shown int64
			d.Find("[data-testid=overdue-figure] a").Each(func(_ int, s *goquery.Selection) {
				n, _ := strconv.ParseInt(strings.TrimSpace(s.Text()), 10, 64)
				shown += n
			})
			if shown != overdue {
				t.Errorf("%s: %d overdue steps shown, the rows %d", path, shown, overdue)
			}
			for i := range 12 {
				w := last.AddDays(-7 * (11 - i))
				from, to := w.Start(dbtest.Zone).UTC(), w.AddDays(7).Start(dbtest.Zone).UTC()
				for testid, sql := range map[string]string{
					"dashboard.cases_opened":   "SELECT count(*) FROM cases WHERE opened_at >= ? AND opened_at < ? AND ",
					"dashboard.flags_received": "SELECT count(*) FROM flags WHERE received_at >= ? AND received_at < ? AND ",
				} {
					var want int64
					if err := db.Gorm.Raw(sql+where, append([]any{from, to}, args...)...).Row().Scan(&want); err != nil {
						t.Fatal(err)
					}
					if got := strings.TrimSpace(d.Find("[data-testid='" + testid + "-" + strconv.Itoa(i) + "']").Text()); got != strconv.FormatInt(want, 10) {
						t.Errorf("%s: %s in the week of %s shows %q, the rows %d", path, testid, w, got, want)
					}
				}
				// Closed per reason: what the dataset closes (dismissals) and a
				// reason it never closes for.
				for _, reason := range []casework.CloseReason{casework.Dismissed, casework.Recovered} {
					var events []string
					for _, tr := range casework.Table {
						if tr.To == casework.Closed && tr.CloseReason == reason {
							events = append(events, string(tr.Event))
						}
					}
					var want int64 // closings, a case reopened since among them
					if err := db.Gorm.Raw(`SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
						WHERE e.kind = 'transition' AND e.to_state = 'closed' AND e.event IN ? AND e.at >= ? AND e.at < ? AND `+where,
						append([]any{events, from, to}, args...)...).Row().Scan(&want); err != nil {
						t.Fatal(err)
					}
					cell := "reason." + string(reason) + "-" + strconv.Itoa(i)
					if got := strings.TrimSpace(d.Find("[data-testid=closed-table] [data-testid='" + cell + "']").Text()); got != strconv.FormatInt(want, 10) {
						t.Errorf("%s: %s shows %q, the rows %d", path, cell, got, want)
					}
				}
			}
		}
		// The bulk loaders' recount agrees with what the transactions kept.
		var states []string
		for _, st := range casework.States {
			if st.Open() {
				states = append(states, string(st))
			}
		}
		kept := map[int64]map[string]stats.Age{}
		for _, b := range []int64{0, a.brand.ID, a.other.ID} {
			var err error
			if kept[b], err = stats.Ages(ctx, db.Gorm, b, stats.AgeDay(now), states...); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.InTx(ctx, casework.RecountTx); err != nil {
			t.Fatal(err)
		}
		for _, b := range []int64{0, a.brand.ID, a.other.ID} {
			recounted, err := stats.Ages(ctx, db.Gorm, b, stats.AgeDay(now), states...)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(kept[b], recounted) {
				t.Errorf("brand %d: kept %v, recounted %v", b, kept[b], recounted)
			}
		}
		for path, field := range map[string]string{"/dashboard?to=yesterday": "to", "/dashboard?brand=aurora": "brand"} {
			d := admin.get(path)
			if d.StatusCode != invalid || d.doc(t).Find("[data-testid=error-"+field+"]").Length() != 1 {
				t.Errorf("%s: status %d without a message next to %s", path, d.StatusCode, field)
			}
		}
		admin.header.Set("Accept-Language", "zh-CN,zh;q=0.9")
		if h := admin.get("/dashboard").doc(t).Find("[data-testid=home-title]").Text(); h != "工作概览" {
			t.Errorf("the Chinese dashboard is titled %q", h)
		}
	})
}
