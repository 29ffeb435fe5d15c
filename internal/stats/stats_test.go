package stats_test

import (
	"math/rand/v2"
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
