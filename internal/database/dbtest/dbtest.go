// Package dbtest gives each test its own freshly migrated database, on
// SQLite and on PostgreSQL, so that store and use-case tests run on both.
package dbtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peterldowns/pgtestdb"

	"spotcheck/internal/database"
	"spotcheck/migrations"
)

// DefaultPostgresURL is used when TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Each runs fn as two subtests, "sqlite" and "postgres", each with a fresh
// migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns a migrated SQLite database in a temporary folder.
func SQLite(t testing.TB) *database.DB {
	t.Helper()
	db, err := database.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	Close(t, db)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	db.UseZone(Zone)
	return db
}

// Postgres returns a fresh PostgreSQL database cloned from a migrated
// template. It fails the test, with a hint, when the server is unreachable:
// a missing database must never turn into silently skipped tests.
func Postgres(t testing.TB) *database.DB {
	t.Helper()
	conf := serverConfig(t)
	cfg := pgtestdb.Custom(t, conf, migrator{})
	db, err := database.OpenPostgres(context.Background(), cfg.URL(), database.Limits{})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	Close(t, db)
	db.UseZone(Zone)
	return db
}

// EachEmpty runs fn against an empty SQLite and an empty PostgreSQL
// database, no migration applied: for upgrade tests.
func EachEmpty(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := database.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "empty.db"))
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		Close(t, db)
		db.UseZone(Zone)
		fn(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		cfg := pgtestdb.Custom(t, serverConfig(t), pgtestdb.NoopMigrator{})
		db, err := database.OpenPostgres(context.Background(), cfg.URL(), database.Limits{})
		if err != nil {
			t.Fatalf("open test database: %v", err)
		}
		Close(t, db)
		db.UseZone(Zone)
		fn(t, db)
	})
}

// Zone is the platform's zone of every test database: the configuration's
// default, whose days start eight hours before UTC's.
var Zone = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// PostgresSuperuser connects to the same database as db with the server's
// admin role, for tests that must act as an attacker with full rights
// (for example, switching off the audit table's triggers).
func PostgresSuperuser(t testing.TB, db *database.DB) *sql.DB {
	t.Helper()
	var name string
	if err := db.SQL.QueryRow("SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	conf := serverConfig(t)
	conf.Database = name
	su, err := sql.Open("pgx", conf.URL())
	if err != nil {
		t.Fatal(err)
	}
	Close(t, su)
	return su
}

// Close closes c when the test ends and fails the test if that fails: a
// database or bucket that does not close cleanly is a finding too.
func Close(t testing.TB, c io.Closer) {
	t.Helper()
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close %T: %v", c, err)
		}
	})
}

var (
	reachOnce sync.Once
	reachErr  error
)

func serverConfig(t testing.TB) pgtestdb.Config {
	t.Helper()
	raw := os.Getenv("TEST_DATABASE_URL")
	if raw == "" {
		raw = DefaultPostgresURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	pw, _ := u.User.Password()
	conf := pgtestdb.Config{
		DriverName:                "pgx",
		Host:                      u.Hostname(),
		Port:                      u.Port(),
		User:                      u.User.Username(),
		Password:                  pw,
		Database:                  strings.TrimPrefix(u.Path, "/"),
		Options:                   u.RawQuery,
		ForceTerminateConnections: true,
	}
	if conf.Port == "" {
		conf.Port = "5432"
	}
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", conf.URL())
		if err == nil {
			err = errors.Join(db.PingContext(ctx), db.Close())
		}
		reachErr = err
	})
	if reachErr != nil {
		t.Fatalf("PostgreSQL at %s:%s is not reachable (%v).\n"+
			"Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"+
			"or point TEST_DATABASE_URL at a server you can use.", conf.Host, conf.Port, reachErr)
	}
	return conf
}

// migrator builds pgtestdb's template with the real migrations; its hash
// changes whenever a migration file does.
type migrator struct{}

func (migrator) Hash() (string, error) {
	h := sha256.New()
	h.Write([]byte("river-v0.51.2\n"))
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		h.Write(fmt.Appendf(nil, "%s\n%d\n", path, len(b)))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

func (migrator) Migrate(ctx context.Context, _ *sql.DB, conf pgtestdb.Config) (err error) {
	db, err := database.OpenPostgres(ctx, conf.URL(), database.Limits{})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	return db.Migrate(ctx)
}

// PostgresURL returns the URL of a fresh, migrated PostgreSQL database, for
// tests that run the spotcheck binary against it.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, serverConfig(t), migrator{}).URL()
}
