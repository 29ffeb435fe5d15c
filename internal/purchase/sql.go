package purchase

import (
	"database/sql"
	"errors"

	"gorm.io/gorm"

	"spotcheck/internal/casework"
	"spotcheck/internal/database"
)

// scalar reads one value of one row; no row is database.ErrNotFound.
func scalar(db *gorm.DB, dest any, query string, args ...any) error {
	err := db.Raw(query, args...).Row().Scan(dest)
	if errors.Is(err, sql.ErrNoRows) {
		return database.ErrNotFound
	}
	return err
}

// caseRef is the reference of case id.
func caseRef(db *gorm.DB, id int64) (string, error) { return casework.Reference(db, id) }

// caseBrand is the brand of case id.
func caseBrand(db *gorm.DB, id int64) (int64, error) {
	var brandID int64
	return brandID, scalar(db, &brandID, "SELECT brand_id FROM cases WHERE id = ?", id)
}
