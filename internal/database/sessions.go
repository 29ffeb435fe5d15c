package database

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// SessionStore keeps the web sessions in the sessions table, so that every
// process of the app shares them. Every call takes the request's context:
// when the database stops answering, loading a session ends with the
// request's deadline instead of holding the request (and a connection) for
// ever, which the stores of scs itself do (they take no context). Expired
// rows are purged by the maintenance job.
type SessionStore struct{ db *DB }

// Sessions is the session store on db.
func (db *DB) Sessions() *SessionStore { return &SessionStore{db: db} }

// FindCtx returns the data of the unexpired session token.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	q := "SELECT data FROM sessions WHERE token = $1 AND current_timestamp < expiry"
	if s.db.Dialect == SQLite {
		q = "SELECT data FROM sessions WHERE token = $1 AND julianday('now') < expiry"
	}
	var b []byte
	err := s.db.SQL.QueryRowContext(ctx, q, token).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// CommitCtx writes the session token's data and expiry.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if s.db.Dialect == SQLite {
		_, err := s.db.SQL.ExecContext(ctx, "REPLACE INTO sessions (token, data, expiry) VALUES ($1, $2, julianday($3))",
			token, b, expiry.UTC().Format("2006-01-02T15:04:05.999"))
		return err
	}
	_, err := s.db.SQL.ExecContext(ctx, "INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3) "+
		"ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry", token, b, expiry)
	return err
}

// DeleteCtx removes the session token.
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	_, err := s.db.SQL.ExecContext(ctx, "DELETE FROM sessions WHERE token = $1", token)
	return err
}

// Find, Commit and Delete are the context-free forms scs.Store also asks
// for; scs calls the Ctx forms when a store has them.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

func (s *SessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }
