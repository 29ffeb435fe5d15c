package job_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/job"
)

type countingPurger struct{ calls chan struct{} }

func (p countingPurger) PurgeExpired(context.Context) (int64, int64, error) {
	p.calls <- struct{}{}
	return 0, 0, nil
}

func jobCount(t *testing.T, db *database.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Table("river_job").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestJobInsertedInARolledBackTransactionDoesNotExist(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		workers := river.NewWorkers()
		river.AddWorker(workers, &job.PurgeWorker{Purger: countingPurger{make(chan struct{}, 1)}})
		q, err := job.New(db, job.Config{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		boom := errors.New("boom")
		err = db.InTx(ctx, func(tx *gorm.DB) error {
			if err := q.InsertTx(ctx, tx, job.PurgeArgs{}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if n := jobCount(t, db); n != 0 {
			t.Fatalf("%d jobs after rollback, want 0", n)
		}
		if err := db.InTx(ctx, func(tx *gorm.DB) error { return q.InsertTx(ctx, tx, job.PurgeArgs{}) }); err != nil {
			t.Fatal(err)
		}
		if n := jobCount(t, db); n != 1 {
			t.Fatalf("%d jobs after commit, want 1", n)
		}
	})
}

func TestWorkersRunThePeriodicPurge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		calls := make(chan struct{}, 4)
		workers := river.NewWorkers()
		river.AddWorker(workers, &job.PurgeWorker{Purger: countingPurger{calls}})
		q, err := job.New(db, job.Config{Workers: workers, Periodic: []*river.PeriodicJob{job.PurgeEvery(time.Hour)}, Work: true})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := q.Stop(ctx); err != nil {
				t.Error(err)
			}
		}()
		select {
		case <-calls:
		case <-time.After(30 * time.Second):
			t.Fatal("the purge job did not run")
		}
	})
}
