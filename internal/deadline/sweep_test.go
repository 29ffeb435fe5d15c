package deadline_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/deadline"
	"spotcheck/internal/job"
	"spotcheck/internal/notify"
	"spotcheck/internal/role"
)

const (
	admin1, admin2, investigator, volunteer, brandUser int64 = 1, 2, 3, 4, 5
)

// seed makes the people, a case worked by the investigator and one nobody
// works, and their open steps, at t0.
func seed(t *testing.T, db *database.DB, t0 time.Time) (worked, unworked casework.Case) {
	t.Helper()
	ctx := context.Background()
	g := db.Gorm
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct {
		id   int64
		role role.Role
	}{{admin1, role.Admin}, {admin2, role.Admin}, {investigator, role.Staff}, {volunteer, role.Volunteer}, {brandUser, role.Brand}, {6, role.Admin}} {
		must(g.Exec(`INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, 'x', ?, ?)`,
			u.id, fmt.Sprintf("u%d@x.test", u.id), fmt.Sprintf("User %d", u.id), u.role, t0, t0).Error)
	}
	// A disabled admin is told nothing.
	must(g.Exec(`UPDATE users SET disabled_at = ? WHERE id = 6`, t0).Error)
	must(g.Exec(`INSERT INTO brands (id, name, created_at) VALUES (1, 'Aurora', ?)`, t0).Error)
	must(g.Exec(`INSERT INTO brand_members (user_id, brand_id) VALUES (?, 1)`, brandUser).Error)
	must(g.Exec(`INSERT INTO shops (id, platform, platform_shop_id, name, created_at, updated_at) VALUES (1, 'taobao', 's1', 'Shop 1', ?, ?), (2, 'taobao', 's2', 'Shop 2', ?, ?)`,
		t0, t0, t0, t0).Error)
	staff := authz.Actor{UserID: investigator, Role: role.Staff}
	must(db.InTx(ctx, func(tx *gorm.DB) error {
		cs, err := casework.OpenTx(tx, staff, []casework.NewCase{{ShopID: 1, BrandID: 1}, {ShopID: 2, BrandID: 1}})
		if err != nil {
			return err
		}
		worked, unworked = cs[0], cs[1]
		if err := tx.Exec(`UPDATE cases SET investigator_id = ? WHERE id = ?`, investigator, worked.ID).Error; err != nil {
			return err
		}
		due := t0.AddDate(0, 0, 5)
		for _, s := range []deadline.Step{
			{Kind: deadline.Order, CaseID: worked.ID, SubjectID: 101, Party: deadline.Volunteer, PartyID: volunteer, Due: due},
			{Kind: deadline.Verdict, CaseID: worked.ID, SubjectID: worked.ID, Party: deadline.Brand, PartyID: 1, Due: due},
			{Kind: deadline.ReimbursementPayment, CaseID: worked.ID, SubjectID: 201, Party: deadline.Staff, PartyID: admin2, Due: due},
			{Kind: deadline.Delivery, CaseID: unworked.ID, SubjectID: 102, Party: deadline.Volunteer, PartyID: volunteer, Due: due},
			{Kind: deadline.Dispatch, CaseID: unworked.ID, SubjectID: 103, Party: deadline.Volunteer, PartyID: volunteer, Due: due},
		} {
			if err := deadline.StartTx(tx, s); err != nil {
				return err
			}
		}
		// Done before anyone had to be reminded: nobody hears of it.
		return deadline.MeetTx(tx, deadline.Dispatch, 103)
	}))
	return worked, unworked
}

// told counts notifications by recipient and kind ("4 deadline_due_soon").
func told(t *testing.T, db *database.DB) map[string]int {
	t.Helper()
	var rows []struct {
		UserID int64
		Kind   string
		N      int
	}
	if err := db.Gorm.Raw(`SELECT user_id, kind, count(*) AS n FROM notifications GROUP BY user_id, kind`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[fmt.Sprintf("%d %s", r.UserID, r.Kind)] = r.N
	}
	return out
}

func show(m map[string]int) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%s ×%d; ", k, m[k])
	}
	return b.String()
}

// The stages a moving clock takes the seeded steps through, and what each
// adds to everyone's notifications.
var stages = []struct {
	after time.Duration
	adds  map[string]int
}{
	// Three days in, the steps are due in two: whoever must act is reminded
	// (the staff step goes to the case's investigator).
	{3*24*time.Hour + time.Hour, map[string]int{"4 deadline_due_soon": 2, "5 deadline_due_soon": 1, "3 deadline_due_soon": 1}},
	// Past due: the investigator hears of their case's three; nobody works
	// the other case, so its step goes straight to the (active) admins.
	{5*24*time.Hour + time.Hour, map[string]int{"3 deadline_overdue": 3, "1 deadline_overdue": 1, "2 deadline_overdue": 1}},
	// Three days past due: the admins hear of all four.
	{8*24*time.Hour + time.Hour, map[string]int{"1 deadline_escalated": 4, "2 deadline_escalated": 4}},
}

func TestEachReminderAndEscalationIsSentOnceByTwoSweepersOnOneDatabase(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db := dbtest.SQLite(t)
		at := clock.NewFixed(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		db.UseClock(at)
		seed(t, db, at.Now())
		jobs := &dbtest.Jobs{}
		w := &notify.Worker{DB: db, Queue: jobs}
		a, b := &deadline.Sweeper{DB: db, Queue: jobs, Batch: 2}, &deadline.Sweeper{DB: db, Queue: jobs, Batch: 2}
		want := map[string]int{}
		t0 := at.Now()
		run := func() {
			t.Helper()
			sweepTogether(t, a, b)
			for _, args := range jobs.Take() {
				if err := w.Work(context.Background(), &river.Job[notify.Args]{Args: args.(notify.Args)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		run()
		if got := told(t, db); len(got) != 0 {
			t.Fatalf("before anything is due: %s", show(got))
		}
		for _, st := range stages {
			at.Set(t0.Add(st.after))
			run()
			run() // a later sweep at the same time finds nothing more to send
			maps.Copy(want, st.adds)
			if got := told(t, db); !maps.Equal(got, want) {
				t.Fatalf("at t0+%s: told %s, want %s", st.after, show(got), show(want))
			}
		}
	})

	t.Run("postgres", func(t *testing.T) {
		url := dbtest.PostgresURL(t)
		ctx := context.Background()
		at := clock.NewFixed(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		// Two processes: each its own pool, River client, workers and sweeper.
		type proc struct {
			db *database.DB
			q  *job.Queue
			s  *deadline.Sweeper
		}
		var ps []proc
		for range 2 {
			db, err := database.OpenPostgres(ctx, url, database.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			dbtest.Close(t, db)
			db.UseClock(at)
			notifier := &notify.Worker{DB: db}
			sweeper := &deadline.Sweeper{DB: db, Batch: 2}
			workers := river.NewWorkers()
			river.AddWorker(workers, notifier)
			river.AddWorker(workers, &deadline.SweepWorker{Sweeper: sweeper})
			q, err := job.New(db, job.Config{Workers: workers, Work: true, PollInterval: 50 * time.Millisecond,
				Periodic: []*river.PeriodicJob{deadline.SweepEvery(time.Hour)}})
			if err != nil {
				t.Fatal(err)
			}
			notifier.Queue, sweeper.Queue = q, q
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := q.Stop(ctx); err != nil {
					t.Error(err)
				}
			})
			ps = append(ps, proc{db, q, sweeper})
		}
		db := ps[0].db
		seed(t, db, at.Now())
		t0 := at.Now()
		run := func() {
			t.Helper()
			// Sweeps called at once in both processes, and one queued to
			// each process's workers.
			for _, p := range ps {
				if err := db.InTx(ctx, func(tx *gorm.DB) error { return p.q.InsertTx(ctx, tx, deadline.SweepArgs{}) }); err != nil {
					t.Fatal(err)
				}
			}
			sweepTogether(t, ps[0].s, ps[1].s)
			waitForJobs(t, db)
		}
		want := map[string]int{}
		for _, st := range stages {
			at.Set(t0.Add(st.after))
			run()
			run()
			maps.Copy(want, st.adds)
			if got := told(t, db); !maps.Equal(got, want) {
				t.Fatalf("at t0+%s: told %s, want %s", st.after, show(got), show(want))
			}
		}
	})
}

// sweepTogether runs both sweepers three times each, all at once.
func sweepTogether(t *testing.T, a, b *deadline.Sweeper) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() { _, errs[i] = s.Sweep(context.Background()) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// waitForJobs waits until River has finished every job, and fails on any
// that did not complete.
func waitForJobs(t *testing.T, db *database.DB) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var open, failed int64
		if err := db.Gorm.Table("river_job").Where("state NOT IN ('completed', 'discarded', 'cancelled')").Count(&open).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Table("river_job").Where("state IN ('discarded', 'cancelled')").Count(&failed).Error; err != nil {
			t.Fatal(err)
		}
		if failed > 0 {
			t.Fatalf("%d jobs failed", failed)
		}
		if open == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs still not done after a minute", open)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
