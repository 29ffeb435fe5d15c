package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/purchase"
)

// TestAParcelPhotoRecordedAsBrandVisibleIsStillNotShared: parcel photos
// recorded before intake made them staff-only carry visibility "brand";
// their label names the buyer, so the brand never gets them.
func TestAParcelPhotoRecordedAsBrandVisibleIsStillNotShared(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, _ := newPurchaseApp(t, db)
		ids := a.seedPurchase(t, "shop-legacy", purchase.Dispatched)
		var parcel int64
		if err := db.Gorm.Raw(`SELECT id FROM evidence WHERE purchase_id = ? AND kind = 'parcel_photo'`, ids["purchase"]).Row().Scan(&parcel); err != nil {
			t.Fatal(err)
		}
		// As an older release recorded it.
		if err := db.Gorm.Exec(`INSERT INTO evidence (case_id, purchase_id, custody_event_id, kind, blob_key, sha256, size, content_type,
			original_name, visibility, uploaded_by, uploaded_at)
			SELECT case_id, purchase_id, custody_event_id, kind, blob_key || '-legacy', sha256, size, content_type, original_name, 'brand',
			uploaded_by, uploaded_at FROM evidence WHERE id = ?`, parcel).Error; err != nil {
			t.Fatal(err)
		}
		var legacy int64
		if err := db.Gorm.Raw(`SELECT MAX(id) FROM evidence`).Row().Scan(&legacy); err != nil {
			t.Fatal(err)
		}
		brand := a.as("brand")
		page := brand.get("/authentications/" + ids["purchase_case"])
		if page.StatusCode != http.StatusOK {
			t.Fatalf("brand case page: %d", page.StatusCode)
		}
		if n := page.doc(t).Find(fmt.Sprintf(`a[href="/evidence/%d"]`, legacy)).Length(); n != 0 {
			t.Fatalf("the brand's page links the legacy parcel photo %d", legacy)
		}
		for _, path := range []string{fmt.Sprintf("/evidence/%d", legacy), fmt.Sprintf("/evidence/%d/thumb", legacy)} {
			if res := brand.get(path); res.StatusCode != http.StatusNotFound {
				t.Errorf("brand GET %s: %d, want 404", path, res.StatusCode)
			}
		}
	})
}
