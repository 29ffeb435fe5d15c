package flag_test

import (
	"context"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/flag"
)

// TestAnImportThatFailsOnItsLastAttemptEndsFailed: an import job that keeps
// failing is retried, and on its last attempt the import says it failed,
// instead of staying "running" for ever.
func TestAnImportThatFailsOnItsLastAttemptEndsFailed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		im := newImporter(t, db)
		ctx := context.Background()
		imp, _, err := im.s.CreateImport(ctx, im.actor, "flags.csv", []byte(chineseCSV), shanghai)
		if err != nil {
			t.Fatal(err)
		}
		if err := im.s.StartImport(ctx, im.actor, imp.ID, func(*gorm.DB) error { return nil }); err != nil {
			t.Fatal(err)
		}
		// A fault that does not heal: the flags table refuses every row.
		if db.Dialect == database.Postgres {
			su := dbtest.PostgresSuperuser(t, db)
			for _, q := range []string{
				`CREATE FUNCTION refuse_flags() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no flags'; END $$`,
				`CREATE TRIGGER refuse_flags BEFORE INSERT ON flags FOR EACH ROW EXECUTE FUNCTION refuse_flags()`,
			} {
				if _, err := su.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
		} else if err := db.Gorm.Exec(`CREATE TRIGGER refuse_flags BEFORE INSERT ON flags BEGIN SELECT RAISE(ABORT, 'no flags'); END`).Error; err != nil {
			t.Fatal(err)
		}
		w := &flag.ImportWorker{Flags: im.s, Location: shanghai}
		job := func(attempt int) *river.Job[flag.ImportArgs] {
			return &river.Job[flag.ImportArgs]{JobRow: &rivertype.JobRow{Attempt: attempt, MaxAttempts: 5}, Args: flag.ImportArgs{ImportID: imp.ID}}
		}
		if err := w.Work(ctx, job(1)); err == nil {
			t.Fatal("the first attempt did not fail")
		}
		if got, err := im.s.GetImport(ctx, im.actor, imp.ID); err != nil || got.Status != "running" {
			t.Fatalf("after a first failed attempt the import is %q (%v), want running (to be retried)", got.Status, err)
		}
		if err := w.Work(ctx, job(5)); err == nil {
			t.Fatal("the last attempt did not fail")
		}
		got, err := im.s.GetImport(ctx, im.actor, imp.ID)
		if err != nil || got.Status != "failed" || got.Error == "" {
			t.Fatalf("after the last attempt the import is %q with error %q (%v), want failed with the reason", got.Status, got.Error, err)
		}
	})
}
