package flag_test

import (
	"strings"
	"testing"
	"time"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/flag"
)

// On PostgreSQL the references of flags and listings are checked once per
// statement by triggers instead of by foreign keys (migration 00009); on
// SQLite by its foreign keys. Either way a flag or listing cannot point at
// a row that does not exist, a statement with one bad row writes none, and
// a referenced row cannot be deleted.
func TestFlagsAndListingsCannotPointAtMissingRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedBrands(t, db)
		s := flag.NewService(db, 0.8)
		if res := ingest(t, s, rec("f-1", "shop-1", 0.9)); res.Created != 1 || res.CasesOpened != 1 {
			t.Fatalf("setup: %+v", res)
		}
		var f struct{ ID, ShopID, ListingID, BrandID, CaseID int64 }
		if err := db.Gorm.Raw("SELECT id, shop_id, listing_id, brand_id, case_id FROM flags").Scan(&f).Error; err != nil || f.CaseID == 0 {
			t.Fatalf("setup flag %+v: %v", f, err)
		}
		now := time.Now().UTC()
		insertFlags := `INSERT INTO flags (source, external_id, score, shop_id, listing_id, brand_id, detected_at, payload, case_id, status, received_at)
			VALUES ('t', 'good', 0.5, ?, ?, ?, ?, '{}', ?, 'open', ?), ('t', 'bad', 0.5, ?, ?, ?, ?, '{}', ?, 'open', ?)`
		const missing = 987654
		for col, bad := range map[string][]any{
			"shop_id":    {missing, f.ListingID, f.BrandID, now, nil, now},
			"listing_id": {f.ShopID, missing, f.BrandID, now, nil, now},
			"brand_id":   {f.ShopID, f.ListingID, missing, now, nil, now},
			"case_id":    {f.ShopID, f.ListingID, f.BrandID, now, missing, now},
		} {
			args := append([]any{f.ShopID, f.ListingID, f.BrandID, now, nil, now}, bad...)
			err := db.Gorm.Exec(insertFlags, args...).Error
			if !refused(err, col) {
				t.Errorf("a flag with a missing %s: %v", col, err)
			}
		}
		if n := count(t, db, "flags", "source = 't'"); n != 0 {
			t.Errorf("%d flags written by refused statements", n)
		}
		if err := db.Gorm.Exec("UPDATE flags SET case_id = ? WHERE id = ?", missing, f.ID).Error; !refused(err, "case_id") {
			t.Errorf("moving a flag to a missing case: %v", err)
		}
		err := db.Gorm.Exec(`INSERT INTO listings (shop_id, platform_listing_id, created_at, updated_at) VALUES (?, 'x', ?, ?)`, missing, now, now).Error
		if !refused(err, "shop_id") {
			t.Errorf("a listing of a missing shop: %v", err)
		}
		if err := db.Gorm.Exec("UPDATE listings SET brand_id = ? WHERE id = ?", missing, f.ListingID).Error; !refused(err, "brand_id") {
			t.Errorf("a listing of a missing brand: %v", err)
		}
		for table, id := range map[string]int64{"shops": f.ShopID, "listings": f.ListingID, "brands": f.BrandID, "cases": f.CaseID} {
			if err := db.Gorm.Exec("DELETE FROM "+table+" WHERE id = ?", id).Error; err == nil || !strings.Contains(err.Error(), "never deleted") {
				t.Errorf("deleting from %s: %v", table, err)
			}
		}
		var after struct{ ShopID, ListingID, BrandID, CaseID int64 }
		if err := db.Gorm.Raw("SELECT shop_id, listing_id, brand_id, case_id FROM flags WHERE id = ?", f.ID).Scan(&after).Error; err != nil {
			t.Fatal(err)
		}
		if after.ShopID != f.ShopID || after.ListingID != f.ListingID || after.BrandID != f.BrandID || after.CaseID != f.CaseID {
			t.Errorf("flag after refusals: %+v, was %+v", after, f)
		}
	})
}

// refused: err is a foreign-key violation; on PostgreSQL it names col.
func refused(err error, col string) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	if strings.Contains(msg, "violates foreign key constraint") { // SQLite's, naming no column
		return true
	}
	return strings.Contains(msg, "SQLSTATE 23503") && strings.Contains(msg, col+"=987654")
}
