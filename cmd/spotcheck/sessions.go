package main

import (
	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"

	"spotcheck/internal/database"
)

// sessionStore keeps sessions in the database so that any number of
// processes share them. Expired rows are purged by the maintenance job,
// not by a goroutine in every replica (hence the cleanup interval 0).
func sessionStore(db *database.DB) scs.Store {
	if db.Dialect == database.Postgres {
		return postgresstore.NewWithCleanupInterval(db.SQL, 0)
	}
	return sqlite3store.NewWithCleanupInterval(db.SQL, 0)
}
