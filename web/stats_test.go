package web_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/stats"
)

// TestTheDailyFiguresOfFlagsAndCasesEqualTheRowsCountedInTheTest sends a
// random, seeded mix of flags (new, resent, for two brands, some grouped
// into one shop's case) through the API at moving times around a local
// midnight, and compares the figures kept by the transactions with counts
// of the stored flags and cases made here, per brand and local day.
func TestTheDailyFiguresOfFlagsAndCasesEqualTheRowsCountedInTheTest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		fixed := clock.NewFixed(time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)) // 23:00 in Shanghai
		db.UseClock(fixed)
		rng := rand.New(rand.NewPCG(3, 5)) // #nosec G404 -- seeded on purpose: the test data must be the same on every run
		sent := []string{}
		for req := 0; req < 12; req++ {
			var batch []string
			for range 1 + rng.IntN(4) {
				if len(sent) > 0 && rng.IntN(4) == 0 { // a resend: counted once
					batch = append(batch, sent[rng.IntN(len(sent))])
					continue
				}
				brand := []string{"Aurora Timepieces", "Other Brand"}[rng.IntN(2)]
				f := flagJSON(fmt.Sprintf("st-%d-%d", req, len(batch)), fmt.Sprintf("st-shop-%d", rng.IntN(5)), brand, 0.9)
				batch = append(batch, f)
				sent = append(sent, f)
			}
			a.ingestNDJSON(t, batch...)
			fixed.Add(37 * time.Minute) // across the local midnight
		}
		if _, err := (&stats.Roller{DB: db}).Roll(t.Context()); err != nil {
			t.Fatal(err)
		}
		days := []clock.Date{{Year: 2026, Month: time.November, Day: 30}, {Year: 2026, Month: time.December, Day: 1}}
		for _, b := range []int64{stats.All, a.brand.ID, a.other.ID} {
			got, err := stats.Sum(t.Context(), db.Gorm, b, days, days[1].AddDays(1), stats.FlagsReceived, stats.CasesOpened)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range days {
				from, to := d.Start(dbtest.Zone).UTC(), d.AddDays(1).Start(dbtest.Zone).UTC()
				for m, q := range map[stats.Metric]string{
					stats.FlagsReceived: "SELECT count(*) FROM flags WHERE received_at >= ? AND received_at < ? AND (? = 0 OR brand_id = ?)",
					stats.CasesOpened:   "SELECT count(*) FROM cases WHERE opened_at >= ? AND opened_at < ? AND (? = 0 OR brand_id = ?)",
				} {
					var want int64
					if err := db.Gorm.Raw(q, from, to, b, b).Row().Scan(&want); err != nil {
						t.Fatal(err)
					}
					if got[m][i] != want {
						t.Errorf("brand %d, %s, %s: the figure is %d, the rows %d", b, d, m, got[m][i], want)
					}
				}
			}
		}
		var total int64
		if err := db.Gorm.Raw("SELECT count(*) FROM flags").Row().Scan(&total); err != nil {
			t.Fatal(err)
		}
		if total == 0 {
			t.Fatal("no flags were stored: the test compared nothing")
		}
	})
}
