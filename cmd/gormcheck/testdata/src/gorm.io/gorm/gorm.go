// Package gorm is the shape of gorm.io/gorm that the analyser looks at.
package gorm

type DB struct{ Error error }

func (db *DB) Model(value any) *DB                     { return db }
func (db *DB) Where(query any, args ...any) *DB        { return db }
func (db *DB) First(dest any, conds ...any) *DB        { return db }
func (db *DB) Count(count *int64) *DB                  { return db }
func (db *DB) Updates(values any) *DB                  { return db }
func (db *DB) Exec(sql string, values ...any) *DB      { return db }
func (db *DB) Rollback() *DB                           { return db }
func (db *DB) Transaction(fc func(tx *DB) error) error { return fc(db) }
