package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
)

func appendN(t *testing.T, db *database.DB, n int) {
	t.Helper()
	ctx := audit.WithOrigin(context.Background(), audit.Origin{ActorID: 7, ActorRole: "staff", ClientIP: "192.0.2.1", RequestID: "req-1"})
	for i := range n {
		err := db.InTx(ctx, func(tx *gorm.DB) error {
			_, err := audit.Append(ctx, tx, audit.Record{Action: "test.write", ObjectType: "thing", ObjectID: i, Detail: map[string]any{"i": i, "名": "值"}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerifyAcceptsAnIntactChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		appendN(t, db, 5)
		s, err := audit.Verify(context.Background(), db.Gorm)
		if err != nil {
			t.Fatal(err)
		}
		if s.Events != 5 || s.HeadSeq != 5 || len(s.HeadHash) != 64 || s.HeadHash == audit.Genesis {
			t.Fatalf("summary = %+v", s)
		}
	})
}

func TestConcurrentAppendsNeverForkTheChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		const writers = 40
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- db.InTx(context.Background(), func(tx *gorm.DB) error {
					_, err := audit.Append(context.Background(), tx, audit.Record{Action: "test.concurrent", ObjectType: "thing", ObjectID: i})
					return err
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		s, err := audit.Verify(context.Background(), db.Gorm)
		if err != nil || s.Events != writers {
			t.Fatalf("after %d concurrent appends: %+v, %v", writers, s, err)
		}
	})
}

// tamper runs a statement as someone who bypasses the append-only guard:
// the PostgreSQL superuser with triggers off, or SQLite with them dropped.
func tamper(t *testing.T, db *database.DB, stmts ...string) {
	t.Helper()
	var conn interface {
		Exec(string, ...any) (sql.Result, error)
	} = db.SQL
	if db.Dialect == database.Postgres {
		su := dbtest.PostgresSuperuser(t, db)
		conn = su
		stmts = append([]string{"ALTER TABLE audit_events DISABLE TRIGGER USER"}, stmts...)
	} else {
		stmts = append([]string{"DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"}, stmts...)
	}
	for _, s := range stmts {
		if _, err := conn.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func wantBrokenAt(t *testing.T, db *database.DB, seq int64) {
	t.Helper()
	_, err := audit.Verify(context.Background(), db.Gorm)
	var be *audit.BrokenError
	if !errors.As(err, &be) || !errors.Is(err, audit.ErrBroken) {
		t.Fatalf("Verify = %v, want a BrokenError", err)
	}
	if be.Seq != seq {
		t.Fatalf("broken at %d (%s), want %d", be.Seq, be.Reason, seq)
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	cases := map[string]struct {
		stmts []string
		at    int64
	}{
		"edited detail":           {[]string{"UPDATE audit_events SET detail = '{\"i\":99}' WHERE seq = 3"}, 3},
		"edited actor":            {[]string{"UPDATE audit_events SET actor_role = 'admin' WHERE seq = 2"}, 2},
		"deleted event":           {[]string{"DELETE FROM audit_events WHERE seq = 3"}, 3},
		"deleted first":           {[]string{"DELETE FROM audit_events WHERE seq = 1"}, 1},
		"reordered events":        {[]string{"UPDATE audit_events SET seq = 100 WHERE seq = 2", "UPDATE audit_events SET seq = 2 WHERE seq = 3", "UPDATE audit_events SET seq = 3 WHERE seq = 100"}, 2},
		"renumbered after delete": {[]string{"DELETE FROM audit_events WHERE seq = 3", "UPDATE audit_events SET seq = 3 WHERE seq = 4", "UPDATE audit_events SET seq = 4 WHERE seq = 5"}, 3},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				appendN(t, db, 5)
				tamper(t, db, c.stmts...)
				wantBrokenAt(t, db, c.at)
			})
		})
	}
}

func TestAuditTableRefusesUpdateAndDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		appendN(t, db, 2)
		for _, stmt := range []string{
			"UPDATE audit_events SET outcome = 'failure' WHERE seq = 1",
			"DELETE FROM audit_events WHERE seq = 2",
		} {
			if err := db.Gorm.Exec(stmt).Error; err == nil {
				t.Errorf("%s succeeded", stmt)
			}
		}
		if _, err := audit.Verify(context.Background(), db.Gorm); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAppendRolledBackWithItsTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		boom := fmt.Errorf("boom")
		_ = db.InTx(context.Background(), func(tx *gorm.DB) error {
			if _, err := audit.Append(context.Background(), tx, audit.Record{Action: "x"}); err != nil {
				return err
			}
			return boom
		})
		var n int64
		if err := db.Gorm.Model(&audit.Event{}).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d events after rollback", n)
		}
	})
}
