package flag_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/flag"
	"spotcheck/internal/role"
)

// brandActor is a brand user of the first seeded brand.
func brandActor(t *testing.T, db *database.DB) (authz.Actor, int64) {
	t.Helper()
	var id int64
	if err := db.Gorm.Raw("SELECT id FROM brands WHERE name = 'Aurora Timepieces'").Row().Scan(&id); err != nil {
		t.Fatal(err)
	}
	return authz.Actor{UserID: 99, Role: role.Brand, BrandIDs: []int64{id}}, id
}

func report(t *testing.T, s *flag.Service, actor authz.Actor, r flag.BrandReport) {
	t.Helper()
	if err := s.ReportListing(context.Background(), actor, r); err != nil {
		t.Fatal(err)
	}
}

type shopRow struct{ ID, Name, RegisteredOwner string }

func shopOf(t *testing.T, db *database.DB, platformID string) shopRow {
	t.Helper()
	var sh shopRow
	if err := db.Gorm.Raw("SELECT CAST(id AS text) AS id, name, registered_owner FROM shops WHERE platform = 'taobao' AND platform_shop_id = ?",
		platformID).Scan(&sh).Error; err != nil || sh.ID == "" {
		t.Fatalf("shop %s: %+v %v", platformID, sh, err)
	}
	return sh
}

type auditRow struct{ ObjectType, ObjectID, Detail string }

func shopUpdates(t *testing.T, db *database.DB) []auditRow {
	t.Helper()
	var rows []auditRow
	if err := db.Gorm.Raw("SELECT object_type, object_id, detail FROM audit_events WHERE action = 'shop.update' ORDER BY seq").
		Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// urlListingID is the listing id a brand report gives a listing URL.
func urlListingID(u string) string {
	sum := sha256.Sum256([]byte(u))
	return "url-" + hex.EncodeToString(sum[:8])
}

func TestABrandReportNeverRenamesAKnownShopNorEditsAKnownListing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedBrands(t, db)
		s := flag.NewService(db, 0.8)
		const url = "https://shop.example/item-known"
		known := strings.Replace(rec("f-1", "shop-1", 0.5), `"id":"item-f-1"`, fmt.Sprintf("%q:%q", "id", urlListingID(url)), 1)
		known = strings.Replace(known, `"https://shop.example/item-f-1"`, fmt.Sprintf("%q", url), 1)
		ingest(t, s, known)
		actor, brandID := brandActor(t, db)
		report(t, s, actor, flag.BrandReport{BrandID: brandID, BrandName: "Aurora Timepieces", Platform: "taobao", ShopID: "shop-1",
			ShopName: "Renamed By A Brand", ListingURL: url, ListingTitle: "A brand's title", Reason: "logo misspelt"})

		if sh := shopOf(t, db, "shop-1"); sh.Name != "Star Watch shop-1" || sh.RegisteredOwner != "Liu" {
			t.Fatalf("shop = %+v, want it as the risk system sent it", sh)
		}
		var l struct {
			URL, Title string
			PriceMinor int64
		}
		if err := db.Gorm.Raw("SELECT url, title, price_minor FROM listings").Scan(&l).Error; err != nil {
			t.Fatal(err)
		}
		if l.Title != "Crystal watch f-1" || l.URL != url || l.PriceMinor != 19900 {
			t.Fatalf("listing = %+v, want it as the risk system sent it", l)
		}
		if n := count(t, db, "listings", ""); n != 1 {
			t.Fatalf("%d listings", n)
		}
		if n := count(t, db, "flags", "source = 'brand' AND shop_id = ?", shopOf(t, db, "shop-1").ID); n != 1 {
			t.Fatalf("%d brand flags on the known shop", n)
		}
		if ev := shopUpdates(t, db); len(ev) != 0 {
			t.Fatalf("shop.update events: %+v", ev)
		}
	})
}

func TestABrandReportCreatesANewShop(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedBrands(t, db)
		s := flag.NewService(db, 0.8)
		actor, brandID := brandActor(t, db)
		report(t, s, actor, flag.BrandReport{BrandID: brandID, BrandName: "Aurora Timepieces", Platform: "taobao", ShopID: "shop-new",
			ShopName: "New Fakes", ListingURL: "https://shop.example/item-9", ListingTitle: "Crystal watch", Reason: "logo misspelt"})
		if sh := shopOf(t, db, "shop-new"); sh.Name != "New Fakes" {
			t.Fatalf("shop = %+v", sh)
		}
		var title string
		if err := db.Gorm.Raw("SELECT title FROM listings").Row().Scan(&title); err != nil {
			t.Fatal(err)
		}
		if title != "Crystal watch" {
			t.Fatalf("listing title %q", title)
		}
		if n := count(t, db, "flags", "source = 'brand'"); n != 1 {
			t.Fatalf("%d brand flags", n)
		}
	})
}

func TestARiskSystemRenamingAShopIsAuditedWithOldAndNewValues(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedBrands(t, db)
		s := flag.NewService(db, 0.8)
		ingest(t, s, rec("f-1", "shop-1", 0.5), rec("f-2", "shop-2", 0.5))
		if ev := shopUpdates(t, db); len(ev) != 0 {
			t.Fatalf("creating shops wrote shop.update events: %+v", ev)
		}
		renamed := strings.Replace(rec("f-3", "shop-1", 0.5), `"name":"Star Watch shop-1"`, `"name":"Bright Star Watches"`, 1)
		renamed = strings.Replace(renamed, `"owner":"Liu"`, `"owner":"Wang"`, 1)
		ingest(t, s, renamed, rec("f-4", "shop-2", 0.5)) // shop-2 unchanged
		ev := shopUpdates(t, db)
		if len(ev) != 1 {
			t.Fatalf("shop.update events: %+v", ev)
		}
		if sh := shopOf(t, db, "shop-1"); ev[0].ObjectType != "shop" || ev[0].ObjectID != sh.ID {
			t.Fatalf("event %+v for shop %+v", ev[0], sh)
		}
		var detail map[string]struct{ Old, New string }
		if err := json.Unmarshal([]byte(ev[0].Detail), &detail); err != nil {
			t.Fatal(err)
		}
		if len(detail) != 2 || detail["name"].Old != "Star Watch shop-1" || detail["name"].New != "Bright Star Watches" ||
			detail["registered_owner"].Old != "Liu" || detail["registered_owner"].New != "Wang" {
			t.Fatalf("detail %s", ev[0].Detail)
		}
		// New flags with the same shop values change nothing, and say so.
		again := strings.Replace(renamed, `"external_id":"f-3"`, `"external_id":"f-5"`, 1)
		ingest(t, s, again)
		ingest(t, s, renamed) // a resend
		if ev := shopUpdates(t, db); len(ev) != 1 {
			t.Fatalf("shop.update events after resends: %+v", ev)
		}
		// Only the owner changes: only the owner is in the event.
		ingest(t, s, strings.Replace(strings.Replace(again, `"external_id":"f-5"`, `"external_id":"f-6"`, 1), `"owner":"Wang"`, `"owner":"Zhao"`, 1))
		ev = shopUpdates(t, db)
		if len(ev) != 2 || ev[1].Detail != `{"registered_owner":{"old":"Wang","new":"Zhao"}}` {
			t.Fatalf("shop.update events: %+v", ev)
		}
	})
}

func TestARiskSystemRetitlingAListingIsAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedBrands(t, db)
		s := flag.NewService(db, 0.8)
		ingest(t, s, rec("f-1", "shop-1", 0.5))
		retitled := strings.Replace(rec("f-2", "shop-1", 0.5), `"id":"item-f-2"`, `"id":"item-f-1"`, 1)
		retitled = strings.Replace(retitled, `"https://shop.example/item-f-2"`, `"https://shop.example/item-f-1"`, 1)
		ingest(t, s, retitled)
		ingest(t, s, strings.Replace(retitled, `"external_id":"f-2"`, `"external_id":"f-3"`, 1)) // the same values again
		var rows []auditRow
		if err := db.Gorm.Raw("SELECT object_type, object_id, detail FROM audit_events WHERE action = 'listing.update'").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].ObjectType != "listing" || rows[0].Detail != `{"title":{"old":"Crystal watch f-1","new":"Crystal watch f-2"}}` {
			t.Fatalf("listing.update events: %+v", rows)
		}
	})
}
