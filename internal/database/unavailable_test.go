package database_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
)

func TestTheAppsSessionsCarryTheirLimits(t *testing.T) {
	ctx := context.Background()
	db, err := database.OpenPostgres(ctx, dbtest.PostgresURL(t), database.Limits{
		Statement: 30 * time.Second, Lock: 10 * time.Second, IdleInTransaction: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Close(t, db)
	for name, want := range map[string]string{"statement_timeout": "30s", "lock_timeout": "10s",
		"idle_in_transaction_session_timeout": "1min", "application_name": "spotcheck"} {
		var got string
		if err := db.SQL.QueryRowContext(ctx, "SHOW "+name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

// Unavailable is asked of the errors the database really gives.
func TestUnavailableKnowsADatabaseThatCannotServe(t *testing.T) {
	ctx := context.Background()
	url := dbtest.PostgresURL(t)
	db, err := database.OpenPostgres(ctx, url, database.Limits{Statement: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Close(t, db)
	plain, err := database.OpenPostgres(ctx, url, database.Limits{}) // no limit: a busy machine must not time these out
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Close(t, plain)
	_, timedOut := db.SQL.ExecContext(ctx, "SELECT pg_sleep(1)")
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, deadline := db.SQL.ExecContext(short, "SELECT pg_sleep(1)")
	_, refused := database.OpenPostgres(ctx, "postgres://postgres@127.0.0.1:1/x?connect_timeout=2", database.Limits{})
	_, syntax := plain.SQL.ExecContext(ctx, "SELEC 1")
	_, unique := plain.SQL.ExecContext(ctx, "CREATE TEMP TABLE u (k int PRIMARY KEY); INSERT INTO u VALUES (1), (1)")
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"statement timeout", timedOut, true},
		{"request deadline", deadline, true},
		{"connection refused", refused, true},
		{"wrapped", fmt.Errorf("load session: %w", deadline), true},
		{"syntax error", syntax, false},
		{"unique violation", unique, false},
		{"not found", database.ErrNotFound, false},
		{"other", errors.New("bad input"), false},
	} {
		if tc.err == nil {
			t.Fatalf("%s: the database gave no error", tc.name)
		}
		if got := database.Unavailable(tc.err); got != tc.want {
			t.Errorf("Unavailable(%s: %v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
