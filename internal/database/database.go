// Package database opens Spotcheck's one database (embedded SQLite or
// PostgreSQL) behind GORM, runs migrations and wraps use cases in
// transactions.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" database/sql driver
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"spotcheck/internal/clock"
)

// Dialect names the SQL dialect in use.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// IsPostgres reports whether tx talks to PostgreSQL, for the statements
// that differ by dialect.
func IsPostgres(tx *gorm.DB) bool { return tx.Dialector.Name() == string(Postgres) }

// DB is the open database: GORM for the stores, the *sql.DB under it for
// the session store and the job queue, which share its connections.
type DB struct {
	Gorm    *gorm.DB
	SQL     *sql.DB
	Dialect Dialect
	clock   clock.Clock
}

// UseClock makes c the clock of everything done through db: the services
// that hold db, the functions handed a transaction (see Now) and GORM's own
// created_at/updated_at stamps. cmd/spotcheck sets the one clock here;
// tests set a fixed one. Until set, it is clock.Real.
func (db *DB) UseClock(c clock.Clock) { db.clock = c }

// Clock is the clock in use.
func (db *DB) Clock() clock.Clock { return db.clock }

// Now is the clock's time.
func (db *DB) Now() time.Time { return db.clock.Now() }

// Now is the time on the clock of the database tx was begun on, for code
// that is handed only a transaction.
func Now(tx *gorm.DB) time.Time { return tx.NowFunc() }

// Limits bound what one PostgreSQL session of the app may hold: a
// statement running longer, a lock waited on longer, or a transaction left
// idle longer is ended by the server, so that one stuck request cannot hold
// a connection (and the rows it locked) for ever. A zero field sets no
// limit; cmd/spotcheck takes them from the configuration, the migrate
// command sets none (an index on a big table may take minutes).
type Limits struct {
	Statement         time.Duration // statement_timeout
	Lock              time.Duration // lock_timeout
	IdleInTransaction time.Duration // idle_in_transaction_session_timeout
}

// params are the session settings of l, sent with every connection's
// start-up packet (no extra round trip, and a pooled connection cannot lose
// them).
func (l Limits) params() map[string]string {
	p := map[string]string{}
	set := func(name string, d time.Duration) {
		if d > 0 {
			p[name] = strconv.FormatInt(d.Milliseconds(), 10)
		}
	}
	set("statement_timeout", l.Statement)
	set("lock_timeout", l.Lock)
	set("idle_in_transaction_session_timeout", l.IdleInTransaction)
	return p
}

// Open connects to PostgreSQL when url is set, else to the SQLite file at
// sqlitePath (creating its folder). The limits apply to PostgreSQL.
func Open(ctx context.Context, url, sqlitePath string, lim Limits) (*DB, error) {
	if url != "" {
		return OpenPostgres(ctx, url, lim)
	}
	return OpenSQLite(ctx, sqlitePath)
}

// OpenPostgres connects through pgx's database/sql driver, every session
// with the limits lim.
func OpenPostgres(ctx context.Context, url string, lim Limits) (*DB, error) {
	cc, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	for k, v := range lim.params() {
		cc.RuntimeParams[k] = v
	}
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = "spotcheck" // how an operator tells the app's sessions in pg_stat_activity
	}
	sqlDB := stdlib.OpenDB(*cc)
	sqlDB.SetMaxOpenConns(32)
	sqlDB.SetMaxIdleConns(16)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return finish(ctx, sqlDB, postgres.New(postgres.Config{Conn: sqlDB}), Postgres)
}

// OpenSQLite opens (or creates) the embedded database file. SQLite allows
// one writer at a time, so the pool holds a single connection: every
// statement queues for it instead of failing with SQLITE_BUSY (the River
// driver's documented advice).
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	sqlDB, err := sql.Open(sqlite.DriverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	sqlDB.SetMaxOpenConns(1)
	return finish(ctx, sqlDB, sqlite.Dialector{DriverName: sqlite.DriverName, Conn: sqlDB}, SQLite)
}

func finish(ctx context.Context, sqlDB *sql.DB, d gorm.Dialector, dialect Dialect) (*DB, error) {
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("connect to %s: %w", dialect, err), sqlDB.Close())
	}
	db := &DB{SQL: sqlDB, Dialect: dialect, clock: clock.Real}
	g, err := gorm.Open(d, &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                db.Now,
		TranslateError:         true,
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("gorm on %s: %w", dialect, err), sqlDB.Close())
	}
	db.Gorm = g
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() error { return db.SQL.Close() }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.SQL.PingContext(ctx) }

// InTx runs fn in one transaction: committed when fn returns nil, rolled
// back (with everything fn wrote, jobs included) when it returns an error or
// panics.
//
// On PostgreSQL the transaction runs on a connection of its own that
// CopyFrom can reach.
func (db *DB) InTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if db.Dialect != Postgres {
		return db.Gorm.WithContext(ctx).Transaction(fn)
	}
	return db.Gorm.WithContext(ctx).Connection(func(tx *gorm.DB) error {
		conn, ok := tx.Statement.ConnPool.(*sql.Conn)
		if !ok {
			return errors.New("database: no connection of its own")
		}
		return tx.WithContext(context.WithValue(ctx, connKey{}, conn)).Transaction(fn)
	})
}

type connKey struct{}

// CopyFrom writes rows into table with PostgreSQL's COPY, inside the
// transaction tx of InTx, and returns how many it wrote.
func CopyFrom(tx *gorm.DB, table string, columns []string, rows pgx.CopyFromSource) (int64, error) {
	ctx := tx.Statement.Context
	conn, ok := ctx.Value(connKey{}).(*sql.Conn)
	if !ok {
		return 0, errors.New("database: COPY outside a PostgreSQL transaction of InTx")
	}
	var n int64
	err := conn.Raw(func(dc any) error {
		var err error
		n, err = dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, rows)
		return err
	})
	return n, err
}

// SQLTx is the *sql.Tx under a GORM transaction, for River's InsertTx.
func SQLTx(tx *gorm.DB) (*sql.Tx, error) {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return nil, errors.New("database: not inside a transaction")
	}
	return sqlTx, nil
}

// ErrNotFound is returned by stores when a row does not exist or is not
// visible to the actor; callers turn it into a 404. It unwraps to the
// generic fs.ErrNotExist, so the web tier knows it without importing this
// package.
var ErrNotFound = fmt.Errorf("not found: %w", fs.ErrNotExist)

// NotFound maps GORM's record-not-found to ErrNotFound, leaving other
// errors as they are.
func NotFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}

// IsUniqueViolation reports whether err is a unique-constraint violation.
// It also knows PostgreSQL's own error (code 23505), for statements run
// on the *sql.Tx of SQLTx rather than through GORM.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.Is(err, gorm.ErrDuplicatedKey) || (errors.As(err, &pgErr) && pgErr.Code == "23505")
}

// ViolatesUnique reports whether err is PostgreSQL's unique-constraint
// violation of the index or constraint named.
func ViolatesUnique(err error, name string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == name
}
