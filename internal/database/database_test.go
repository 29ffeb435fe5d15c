package database_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"testing"

	"gorm.io/gorm"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
)

// TestBothDialectsHaveTheSameSchema pins down that the two migration folders
// describe one schema: the same tables with the same columns.
func TestBothDialectsHaveTheSameSchema(t *testing.T) {
	lite := schema(t, dbtest.SQLite(t))
	pg := schema(t, dbtest.Postgres(t))
	if len(lite) < 5 {
		t.Fatalf("sqlite schema looks empty: %v", lite)
	}
	var diffs []string
	for table, cols := range lite {
		if pg[table] != cols {
			diffs = append(diffs, fmt.Sprintf("%s:\n  sqlite:   %s\n  postgres: %s", table, cols, pg[table]))
		}
	}
	for table, cols := range pg {
		if _, ok := lite[table]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s only on postgres: %s", table, cols))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Fatalf("schemas differ:\n%s", strings.Join(diffs, "\n"))
	}
}

// schema maps each table to its sorted column names. River's tables are
// compared too, since both dialects' queues must hold the same jobs.
func schema(t *testing.T, db *database.DB) map[string]string {
	t.Helper()
	var tables []string
	var err error
	if db.Dialect == database.Postgres {
		err = db.Gorm.Raw(`SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`).Scan(&tables).Error
	} else {
		err = db.Gorm.Raw(`SELECT name FROM sqlite_master WHERE type = 'table'
			AND name NOT LIKE 'sqlite_%'`).Scan(&tables).Error
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, table := range tables {
		// goose's bookkeeping differs by design, and SQLite's full-text index
		// (case_search and its FTS5 shadow tables) stands for PostgreSQL's
		// trigram index on cases.search_text.
		if table == "goose_db_version" || strings.HasPrefix(table, "case_search") {
			continue
		}
		cols, err := db.Gorm.Migrator().ColumnTypes(table)
		if err != nil {
			t.Fatal(err)
		}
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = c.Name()
		}
		sort.Strings(names)
		out[table] = strings.Join(names, ",")
	}
	return out
}

func TestInTxRollsBackEverythingOnError(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		boom := errors.New("boom")
		err := db.InTx(context.Background(), func(tx *gorm.DB) error {
			if err := tx.Exec(`INSERT INTO brands (name, created_at) VALUES ('Rolled Back', CURRENT_TIMESTAMP)`).Error; err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx error = %v, want boom", err)
		}
		var n int64
		if err := db.Gorm.Table("brands").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d brands after rollback, want 0", n)
		}
	})
}

func TestMigrateTwiceIsANoOp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		var sb strings.Builder
		if err := db.MigrationStatus(context.Background(), &sb); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(sb.String(), "applied") || strings.Contains(sb.String(), "pending") {
			t.Fatalf("status after migrate:\n%s", sb.String())
		}
	})
}

func TestIsPostgresKnowsTheDialectOfATransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		err := db.InTx(context.Background(), func(tx *gorm.DB) error {
			if got, want := database.IsPostgres(tx), db.Dialect == database.Postgres; got != want {
				t.Errorf("IsPostgres = %v on %s", got, db.Dialect)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestNotFoundIsTheGenericNotExistKind(t *testing.T) {
	err := fmt.Errorf("load case: %w", database.NotFound(gorm.ErrRecordNotFound))
	if !errors.Is(err, database.ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%v is not both database.ErrNotFound and fs.ErrNotExist", err)
	}
}
