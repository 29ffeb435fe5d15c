package stats_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/stats"
)

// TestTheDailyFiguresSumWhatWasAddedRolledOrNot adds random figures on
// random days and brands, rolls now and then, and compares every bucket of
// every brand (and of all brands) with the sums kept in the test.
func TestTheDailyFiguresSumWhatWasAddedRolledOrNot(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		rng := rand.New(rand.NewPCG(7, 12))                            // #nosec G404 -- seeded on purpose: the test data must be the same on every run
		start := clock.Date{Year: 2026, Month: time.September, Day: 7} // a Monday
		weeks := make([]clock.Date, 12)
		for i := range weeks {
			weeks[i] = start.AddDays(7 * i)
		}
		end := start.AddDays(7 * 12)
		ms := []stats.Metric{stats.FlagsReceived, stats.Counterfeit, stats.Spend}
		want := map[int64]map[stats.Metric][]int64{}
		for _, b := range []int64{stats.All, 1, 2, 3} {
			want[b] = map[stats.Metric][]int64{}
			for _, m := range ms {
				want[b][m] = make([]int64, 12)
			}
		}
		roller := &stats.Roller{DB: db, Batch: 7}
		for tx := 0; tx < 60; tx++ {
			// An instant in the period: its day is the platform's, not UTC's.
			at := start.Start(dbtest.Zone).Add(time.Duration(rng.Int64N(int64(84 * 24 * time.Hour))))
			week := int(clock.DateOf(at, dbtest.Zone).Time().Sub(start.Time()).Hours()) / (24 * 7)
			var ds []stats.Delta
			for range 1 + rng.IntN(3) {
				d := stats.Delta{Metric: ms[rng.IntN(len(ms))], BrandID: 1 + rng.Int64N(3), N: 1 + rng.Int64N(1000)}
				ds = append(ds, d)
				want[d.BrandID][d.Metric][week] += d.N
				want[stats.All][d.Metric][week] += d.N
			}
			if err := db.InTx(ctx, func(tx *gorm.DB) error { return stats.AddTx(tx, at, ds...) }); err != nil {
				t.Fatal(err)
			}
			if rng.IntN(10) == 0 {
				if _, err := roller.Roll(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		check := func(when string) {
			for b, w := range want {
				got, err := stats.Sum(ctx, db.Gorm, b, weeks, end, ms...)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range ms {
					for i := range weeks {
						if got[m][i] != w[m][i] {
							t.Errorf("%s: brand %d %s week %d: %d, want %d", when, b, m, i, got[m][i], w[m][i])
						}
					}
				}
			}
		}
		check("before the last roll")
		if _, err := roller.Roll(ctx); err != nil {
			t.Fatal(err)
		}
		check("rolled")
		var dup int64
		if err := db.Gorm.Raw(`SELECT count(*) FROM (SELECT metric, brand_id, day FROM daily_counts GROUP BY metric, brand_id, day HAVING count(*) > 1) d`).
			Row().Scan(&dup); err != nil {
			t.Fatal(err)
		}
		if dup != 0 {
			t.Errorf("%d days keep more than one row after rolling", dup)
		}
	})
}

// TestRollingWhileOthersAddLosesAndDoublesNothing: two writers append while
// two rollers roll, on one PostgreSQL database.
func TestRollingWhileOthersAddLosesAndDoublesNothing(t *testing.T) {
	db := dbtest.Postgres(t)
	ctx := t.Context()
	at := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, 4)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if err := db.InTx(ctx, func(tx *gorm.DB) error {
					return stats.AddTx(tx, at, stats.Delta{Metric: stats.FlagsReceived, BrandID: int64(1 + (i+w)%2), N: 1})
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var rw sync.WaitGroup
	for range 2 {
		rw.Add(1)
		go func() {
			defer rw.Done()
			r := &stats.Roller{DB: db, Batch: 2}
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := r.Roll(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	rw.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	day := clock.DateOf(at, dbtest.Zone)
	got, err := stats.Sum(ctx, db.Gorm, stats.All, []clock.Date{day}, day.AddDays(1), stats.FlagsReceived)
	if err != nil {
		t.Fatal(err)
	}
	if got[stats.FlagsReceived][0] != 400 {
		t.Errorf("%d flags counted, want 400", got[stats.FlagsReceived][0])
	}
}

// TestAgesAreTheNearestRankOfTheCasesInTheState moves random cases of two
// brands into and out of two states over fourteen months, rolling now
// and then, and compares each state's count, median and 90th percentile
// (of every brand and of all) with the nearest rank of the ages of the
// cases kept in the test.
func TestAgesAreTheNearestRankOfTheCasesInTheState(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		rng := rand.New(rand.NewPCG(3, 5)) // #nosec G404 -- seeded on purpose: the test data must be the same on every run
		start := time.Date(2025, 10, 1, 20, 0, 0, 0, time.UTC)
		type open struct {
			state string
			brand int64
			since time.Time
		}
		var cases []open
		states := []string{"flagged", "purchasing"}
		for i := range 600 {
			since := start.Add(time.Duration(rng.IntN(420*24)) * time.Hour)
			c := open{state: states[rng.IntN(2)], brand: int64(1 + rng.IntN(2)), since: since}
			if err := stats.AgeTx(db.Gorm, stats.AgeMove{State: c.state, BrandID: c.brand, Since: c.since, N: 1}); err != nil {
				t.Fatal(err)
			}
			cases = append(cases, c)
			if len(cases) > 1 && rng.IntN(3) == 0 { // one leaves its state
				k := rng.IntN(len(cases))
				g := cases[k]
				if err := stats.AgeTx(db.Gorm, stats.AgeMove{State: g.state, BrandID: g.brand, Since: g.since, N: -1}); err != nil {
					t.Fatal(err)
				}
				cases = append(cases[:k], cases[k+1:]...)
			}
			if i%150 == 0 {
				if _, err := (&stats.Roller{DB: db}).Roll(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		today := clock.Date{Year: 2026, Month: time.December, Day: 10}
		utc := func(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
		for _, brand := range []int64{stats.All, 1, 2} {
			got, err := stats.Ages(ctx, db.Gorm, brand, today, states...)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range states {
				var ages []int
				for _, c := range cases {
					if c.state == st && (brand == stats.All || c.brand == brand) {
						ages = append(ages, int(today.Time().Sub(utc(c.since)).Hours()/24))
					}
				}
				slices.Sort(ages)
				want := stats.Age{N: int64(len(ages))}
				if len(ages) > 0 {
					want.Median = ages[int(math.Ceil(0.5*float64(len(ages))))-1]
					want.P90 = ages[int(math.Ceil(0.9*float64(len(ages))))-1]
				}
				if got[st] != want {
					t.Errorf("brand %d, %s: %+v, the cases %+v", brand, st, got[st], want)
				}
			}
		}
	})
}
