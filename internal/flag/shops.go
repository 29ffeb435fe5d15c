package flag

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/database"
)

type shopKeyT struct{ platform, id string }

func shopKey(s *ShopRecord) shopKeyT { return shopKeyT{s.Platform, s.ID} }

type listingKey struct {
	shopID int64
	id     string
}

// upsertShops returns the id of every shop named in cs, creating the new
// ones. With update (see channel.updatesKnown) it also changes the name or
// owner of a known one when the flag brings a different, non-empty value,
// and returns those changes for the audit log.
func upsertShops(tx *gorm.DB, cs []checked, update bool, now time.Time) (map[shopKeyT]int64, []change, error) {
	want := map[shopKeyT]*ShopRecord{}
	var keys []shopKeyT
	for _, c := range cs {
		k := shopKey(c.rec.Shop)
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
		want[k] = c.rec.Shop // the last record of a request wins
	}
	// Rows are locked in one global order, so that two requests upserting
	// overlapping shops wait for each other instead of deadlocking.
	slices.SortFunc(keys, func(a, b shopKeyT) int { return cmp.Or(cmp.Compare(a.platform, b.platform), cmp.Compare(a.id, b.id)) })
	if database.IsPostgres(tx) {
		return pgUpsertShops(tx, keys, want, update, now)
	}
	ids := make(map[shopKeyT]int64, len(keys))
	var changes []change
	type row struct {
		ID              int64
		Platform        string
		PlatformShopID  string
		Name            string
		RegisteredOwner string
	}
	var missing []shopKeyT
	for start := 0; start < len(keys); start += chunk {
		part := keys[start:min(start+chunk, len(keys))]
		args := make([]any, 0, 2*len(part))
		for _, k := range part {
			args = append(args, k.platform, k.id)
		}
		var rows []row
		err := tx.Raw(`SELECT id, platform, platform_shop_id, name, registered_owner FROM shops
			WHERE (platform, platform_shop_id) IN (`+valuesList(len(part), "CAST(? AS text)", "CAST(? AS text)")+`)`, args...).Find(&rows).Error
		if err != nil {
			return nil, nil, fmt.Errorf("find shops: %w", err)
		}
		for _, r := range rows {
			k := shopKeyT{r.Platform, r.PlatformShopID}
			ids[k] = r.ID
			w := want[k]
			name, owner := pick(w.Name, r.Name), pick(w.Owner, r.RegisteredOwner)
			c, changed := newChange("shop", r.ID, "name", r.Name, name, "registered_owner", r.RegisteredOwner, owner)
			if !update || !changed {
				continue
			}
			if err := tx.Exec("UPDATE shops SET name = ?, registered_owner = ?, updated_at = ? WHERE id = ?", name, owner, now, r.ID).Error; err != nil {
				return nil, nil, err
			}
			changes = append(changes, c)
		}
	}
	for _, k := range keys {
		if _, ok := ids[k]; !ok {
			missing = append(missing, k)
		}
	}
	for start := 0; start < len(missing); start += chunk {
		part := missing[start:min(start+chunk, len(missing))]
		args := make([]any, 0, 6*len(part))
		for _, k := range part {
			w := want[k]
			args = append(args, k.platform, k.id, w.Name, w.Owner, now, now)
		}
		// DO UPDATE (a no-op) rather than DO NOTHING, so that a shop created
		// meanwhile by a concurrent request still returns its id.
		var rows []row
		err := tx.Raw(`INSERT INTO shops (platform, platform_shop_id, name, registered_owner, created_at, updated_at)
			VALUES `+placeholders(len(part), 6, nil)+`
			ON CONFLICT (platform, platform_shop_id) DO UPDATE SET platform = excluded.platform
			RETURNING id, platform, platform_shop_id`, args...).Find(&rows).Error
		if err != nil {
			return nil, nil, fmt.Errorf("insert shops: %w", err)
		}
		for _, r := range rows {
			ids[shopKeyT{r.Platform, r.PlatformShopID}] = r.ID
		}
	}
	return ids, changes, nil
}

// upsertListings does for listings what upsertShops does for shops; the
// changes it returns are those of a listing's URL or title (a price
// changes too often to audit each).
func upsertListings(tx *gorm.DB, cs []checked, shopIDs map[shopKeyT]int64, update bool, now time.Time) (map[listingKey]int64, []change, error) {
	type want = listingWant
	wants := map[listingKey]want{}
	var keys []listingKey
	for _, c := range cs {
		if c.rec.Listing == nil {
			continue
		}
		k := listingKey{shopIDs[shopKey(c.rec.Shop)], c.rec.Listing.ID}
		if _, ok := wants[k]; !ok {
			keys = append(keys, k)
		}
		wants[k] = want{c.rec.Listing, c.priceMinor, c.brandID}
	}
	slices.SortFunc(keys, func(a, b listingKey) int { return cmp.Or(cmp.Compare(a.shopID, b.shopID), cmp.Compare(a.id, b.id)) })
	if database.IsPostgres(tx) {
		return pgUpsertListings(tx, keys, wants, update, now)
	}
	ids := make(map[listingKey]int64, len(keys))
	var changes []change
	type row struct {
		ID                int64
		ShopID            int64
		PlatformListingID string
		URL               string
		Title             string
		PriceMinor        *int64
		Currency          string
	}
	for start := 0; start < len(keys); start += chunk {
		part := keys[start:min(start+chunk, len(keys))]
		args := make([]any, 0, 2*len(part))
		for _, k := range part {
			args = append(args, k.shopID, k.id)
		}
		var rows []row
		err := tx.Raw(`SELECT id, shop_id, platform_listing_id, url, title, price_minor, currency FROM listings
			WHERE (shop_id, platform_listing_id) IN (`+valuesList(len(part), "CAST(? AS bigint)", "CAST(? AS text)")+`)`, args...).Find(&rows).Error
		if err != nil {
			return nil, nil, fmt.Errorf("find listings: %w", err)
		}
		for _, r := range rows {
			k := listingKey{r.ShopID, r.PlatformListingID}
			ids[k] = r.ID
			w := wants[k]
			url, title, cur := pick(w.rec.URL, r.URL), pick(w.rec.Title, r.Title), pick(w.rec.Currency, r.Currency)
			price := r.PriceMinor
			if w.price != nil {
				price = w.price
			}
			if !update || (url == r.URL && title == r.Title && cur == r.Currency && samePrice(price, r.PriceMinor)) {
				continue
			}
			if err := tx.Exec("UPDATE listings SET url = ?, title = ?, price_minor = ?, currency = ?, updated_at = ? WHERE id = ?",
				url, title, price, cur, now, r.ID).Error; err != nil {
				return nil, nil, err
			}
			if c, ok := newChange("listing", r.ID, "url", r.URL, url, "title", r.Title, title); ok {
				changes = append(changes, c)
			}
		}
	}
	var missing []listingKey
	for _, k := range keys {
		if _, ok := ids[k]; !ok {
			missing = append(missing, k)
		}
	}
	for start := 0; start < len(missing); start += chunk {
		part := missing[start:min(start+chunk, len(missing))]
		args := make([]any, 0, 9*len(part))
		for _, k := range part {
			w := wants[k]
			args = append(args, k.shopID, k.id, w.rec.URL, w.rec.Title, w.price, w.rec.Currency, w.brand, now, now)
		}
		var rows []row
		err := tx.Raw(`INSERT INTO listings (shop_id, platform_listing_id, url, title, price_minor, currency, brand_id, created_at, updated_at)
			VALUES `+placeholders(len(part), 9, nil)+`
			ON CONFLICT (shop_id, platform_listing_id) DO UPDATE SET shop_id = excluded.shop_id
			RETURNING id, shop_id, platform_listing_id`, args...).Find(&rows).Error
		if err != nil {
			return nil, nil, fmt.Errorf("insert listings: %w", err)
		}
		for _, r := range rows {
			ids[listingKey{r.ShopID, r.PlatformListingID}] = r.ID
		}
	}
	return ids, changes, nil
}

func pick(sent, stored string) string {
	if sent != "" {
		return sent
	}
	return stored
}

func samePrice(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
