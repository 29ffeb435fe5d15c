package database

import (
	"context"
	"fmt"
	"io"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"spotcheck/migrations"
)

// Migrate applies every pending migration: Spotcheck's own (goose) and the
// job queue's (rivermigrate).
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.goose()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	if err := db.migrateRiver(ctx); err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	return nil
}

// MigrateTo moves the schema up or down to version (Spotcheck's own
// migrations only): for an upgrade tested from an earlier release's schema
// with data in it, or an operator stepping back one release.
func (db *DB) MigrateTo(ctx context.Context, version int64) error {
	p, err := db.goose()
	if err != nil {
		return err
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return err
	}
	if version >= current {
		_, err = p.UpTo(ctx, version)
	} else {
		_, err = p.DownTo(ctx, version)
	}
	return err
}

// MigrationStatus writes one line per schema migration to w.
func (db *DB) MigrationStatus(ctx context.Context, w io.Writer) error {
	p, err := db.goose()
	if err != nil {
		return err
	}
	statuses, err := p.Status(ctx)
	if err != nil {
		return err
	}
	for _, s := range statuses {
		applied := "pending"
		if s.State == goose.StatePending {
			applied = "pending"
		} else {
			applied = "applied " + s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		if _, err := fmt.Fprintf(w, "%05d  %-40s %s\n", s.Source.Version, s.Source.Path, applied); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) goose() (*goose.Provider, error) {
	dir, gd := "sqlite", goose.DialectSQLite3
	if db.Dialect == Postgres {
		dir, gd = "postgres", goose.DialectPostgres
	}
	sub, err := fs.Sub(migrations.FS, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(gd, db.SQL, sub)
}

func (db *DB) migrateRiver(ctx context.Context) error {
	if db.Dialect == Postgres {
		m, err := rivermigrate.New(riverdatabasesql.New(db.SQL), nil)
		if err != nil {
			return err
		}
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	}
	m, err := rivermigrate.New(riversqlite.New(db.SQL), nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}
