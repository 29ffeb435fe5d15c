package database

import (
	"time"

	"gorm.io/gorm"
)

// zonePlugin carries the platform's zone on the GORM handle, so that code
// handed only a transaction can tell which calendar day it is there.
type zonePlugin struct{ loc *time.Location }

const zoneName = "spotcheck:zone"

func (zonePlugin) Name() string              { return zoneName }
func (zonePlugin) Initialize(*gorm.DB) error { return nil }

// UseZone makes loc the platform's zone for everything done through db
// (SPOTCHECK_TIMEZONE). Like UseClock, it is set once, before db is shared.
func (db *DB) UseZone(loc *time.Location) {
	if db.Gorm.Config.Plugins == nil {
		db.Gorm.Config.Plugins = map[string]gorm.Plugin{}
	}
	db.Gorm.Config.Plugins[zoneName] = zonePlugin{loc: loc}
}

// Zone is the platform's zone of the database tx was begun on; UTC until
// UseZone sets it.
func Zone(tx *gorm.DB) *time.Location {
	if p, ok := tx.Config.Plugins[zoneName].(zonePlugin); ok && p.loc != nil {
		return p.loc
	}
	return time.UTC
}
