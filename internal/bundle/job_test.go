package bundle_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"gocloud.dev/blob"

	"spotcheck/internal/bundle"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/evidence"
	"spotcheck/internal/i18n"
)

// closedBucket is a bucket on the fixture's folder that no longer answers,
// as blob storage in an outage.
func closedBucket(t *testing.T, dir string) *blob.Bucket {
	t.Helper()
	b, err := evidence.OpenBucket(context.Background(), "file://"+filepath.ToSlash(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return b
}

// request queues a bundle of the fixture's case and returns its job as
// River would hand it over on its first attempt.
func (f *fixture) request(t *testing.T) *river.Job[bundle.Args] {
	t.Helper()
	b, err := bundle.NewService(f.db, f.store, noJobs{}).Request(context.Background(), staff, f.c.ID, i18n.English)
	if err != nil {
		t.Fatal(err)
	}
	return &river.Job[bundle.Args]{JobRow: &rivertype.JobRow{ID: 7, Attempt: 1, MaxAttempts: 5}, Args: bundle.Args{BundleID: b.ID}}
}

func (f *fixture) build(t *testing.T, id int64) bundle.Build {
	t.Helper()
	var b bundle.Build
	if err := f.db.Gorm.Take(&b, id).Error; err != nil {
		t.Fatal(err)
	}
	return b
}

func cancelled(err error) bool {
	var c *rivertype.JobCancelError
	return errors.As(err, &c)
}

func TestABundleJobRetriesATransientErrorAndThenSucceeds(t *testing.T) {
	for name, outage := range map[string]func(t *testing.T, f *fixture) (context.Context, func()){
		// A shutdown cancels the running job.
		"shutdown": func(t *testing.T, f *fixture) (context.Context, func()) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, func() {}
		},
		// The blob store does not answer, then comes back.
		"store outage": func(t *testing.T, f *fixture) (context.Context, func()) {
			live := f.store.Bucket
			f.store.Bucket = closedBucket(t, f.dir)
			return context.Background(), func() { f.store.Bucket = live }
		},
	} {
		t.Run(name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				f := setup(t, db)
				j := f.request(t)
				w := &bundle.Worker{DB: db, Store: f.store}
				ctx, recover := outage(t, f)
				err := w.Work(ctx, j)
				if err == nil || cancelled(err) {
					t.Fatalf("a transient error is not left to River to retry: %v", err)
				}
				if b := f.build(t, j.Args.BundleID); b.Status == "failed" || b.Status == "done" {
					t.Fatalf("after a transient error the bundle is %s (%s)", b.Status, b.Error)
				}
				recover()
				j.Attempt++
				if err := w.Work(context.Background(), j); err != nil {
					t.Fatalf("the retry: %v", err)
				}
				if b := f.build(t, j.Args.BundleID); b.Status != "done" || b.SHA256 == "" {
					t.Fatalf("after the retry the bundle is %s (%s)", b.Status, b.Error)
				}
			})
		})
	}
}

func TestATransientErrorOnTheLastAttemptFailsTheBundleWithTheReason(t *testing.T) {
	db := dbtest.SQLite(t)
	f := setup(t, db)
	j := f.request(t)
	j.Attempt = j.MaxAttempts
	f.store.Bucket = closedBucket(t, f.dir)
	if err := (&bundle.Worker{DB: db, Store: f.store}).Work(context.Background(), j); err == nil {
		t.Fatal("no error")
	}
	if b := f.build(t, j.Args.BundleID); b.Status != "failed" || b.Error != bundle.FailGaveUp {
		t.Fatalf("after the last attempt the bundle is %s (%q)", b.Status, b.Error)
	}
}

func tamper(t *testing.T, f *fixture) {
	t.Helper()
	path := filepath.Join(f.dir, filepath.FromSlash(f.evidence[1].BlobKey))
	data, err := os.ReadFile(path) // #nosec G304 -- a blob key of the fixture's own evidence in its temporary folder
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-1] ^= 1
	if err := os.WriteFile(path, data, 0o600); err != nil { // #nosec G703 -- a blob key of the fixture's own evidence in its temporary folder
		t.Fatal(err)
	}
}

func TestATamperedFileFailsTheBundleJobForGood(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		tamper(t, f)
		j := f.request(t)
		w := &bundle.Worker{DB: db, Store: f.store}
		if err := w.Work(context.Background(), j); !cancelled(err) || !errors.Is(err, bundle.ErrTampered) {
			t.Fatalf("a tampered file is retried: %v", err)
		}
		b := f.build(t, j.Args.BundleID)
		if b.Status != "failed" || b.Error != bundle.FailTampered || b.FinishedAt == nil {
			t.Fatalf("the bundle is %s (%q)", b.Status, b.Error)
		}
		// A rerun of the job (River ran it at least once) leaves it so.
		j.Attempt++
		if err := w.Work(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		if b := f.build(t, j.Args.BundleID); b.Status != "failed" || b.Error != bundle.FailTampered {
			t.Fatalf("after a rerun the bundle is %s (%q)", b.Status, b.Error)
		}
	})
}

// failStatus makes the database refuse to set a bundle's status to status.
func failStatus(t *testing.T, db *database.DB, status string) {
	t.Helper()
	stmts := []string{`CREATE TRIGGER bundles_refuse BEFORE UPDATE ON bundles WHEN NEW.status = '` + status + `'
		BEGIN SELECT RAISE(ABORT, 'disk full'); END`}
	if db.Dialect == database.Postgres {
		stmts = []string{`CREATE FUNCTION bundles_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.status = '` + status + `' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER bundles_refuse BEFORE UPDATE ON bundles FOR EACH ROW EXECUTE FUNCTION bundles_refuse()`}
	}
	for _, s := range stmts {
		if err := db.Gorm.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func TestTheErrorOfABundlesStatusUpdateIsReturned(t *testing.T) {
	for _, status := range []string{"building", "failed"} {
		t.Run(status, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				f := setup(t, db)
				if status == "failed" {
					tamper(t, f)
				}
				j := f.request(t)
				failStatus(t, db, status)
				err := (&bundle.Worker{DB: db, Store: f.store}).Work(context.Background(), j)
				if err == nil || cancelled(err) {
					t.Fatalf("the refused status update %q: %v", status, err)
				}
				if b := f.build(t, j.Args.BundleID); b.Status == "done" {
					t.Fatal("built although its status could not be recorded")
				}
			})
		})
	}
}
