package flag

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gorm.io/gorm"

	"spotcheck/internal/database"
)

// On PostgreSQL a batch travels as one array per column and is unpacked
// with unnest: one short statement per step, whatever the batch size,
// instead of statements with thousands of parameters to parse and plan.
// SQLite has no arrays and keeps the multi-row VALUES statements.

func pgTx(tx *gorm.DB) (*sql.Tx, context.Context, error) {
	stx, err := database.SQLTx(tx)
	return stx, tx.Statement.Context, err
}

func pgDropKnown(tx *gorm.DB, cs []checked) (map[[2]string]bool, error) {
	stx, ctx, err := pgTx(tx)
	if err != nil {
		return nil, err
	}
	src, ext := make([]string, len(cs)), make([]string, len(cs))
	for i, c := range cs {
		src[i], ext[i] = c.rec.Source, c.rec.ExternalID
	}
	rows, err := stx.QueryContext(ctx, `SELECT f.source, f.external_id FROM flags f
		JOIN unnest($1::text[], $2::text[]) AS u(source, external_id) ON f.source = u.source AND f.external_id = u.external_id`, src, ext)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	known := map[[2]string]bool{}
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return nil, err
		}
		known[k] = true
	}
	return known, rows.Err()
}

func pgUpsertShops(tx *gorm.DB, keys []shopKeyT, want map[shopKeyT]*ShopRecord, now time.Time) (map[shopKeyT]int64, error) {
	stx, ctx, err := pgTx(tx)
	if err != nil {
		return nil, err
	}
	// Known shops that the flags leave as they are are only looked up: no
	// row lock, so concurrent requests about the same shops do not queue.
	ids := make(map[shopKeyT]int64, len(keys))
	plat, pid := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		plat[i], pid[i] = k.platform, k.id
	}
	rows, err := stx.QueryContext(ctx, `SELECT s.id, s.platform, s.platform_shop_id, s.name, s.registered_owner FROM shops s
		JOIN unnest($1::text[], $2::text[]) AS u(platform, platform_shop_id) ON s.platform = u.platform AND s.platform_shop_id = u.platform_shop_id`, plat, pid)
	if err != nil {
		return nil, fmt.Errorf("find shops: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k shopKeyT
		var name, owner string
		if err := rows.Scan(&id, &k.platform, &k.id, &name, &owner); err != nil {
			return nil, err
		}
		if w := want[k]; pick(w.Name, name) == name && pick(w.Owner, owner) == owner {
			ids[k] = id
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var name, owner []string
	plat, pid = plat[:0], pid[:0]
	for _, k := range keys { // still in key order
		if _, ok := ids[k]; !ok {
			plat, pid, name, owner = append(plat, k.platform), append(pid, k.id), append(name, want[k].Name), append(owner, want[k].Owner)
		}
	}
	if len(plat) == 0 {
		return ids, nil
	}
	// Insert the new shops; refresh a known shop's name or owner only when
	// the flag brings a different, non-empty value (so a resend or an
	// unchanged shop writes nothing).
	rows, err = stx.QueryContext(ctx, `WITH u AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(platform, platform_shop_id, name, owner)
		), ins AS (
			INSERT INTO shops (platform, platform_shop_id, name, registered_owner, created_at, updated_at)
			SELECT platform, platform_shop_id, name, owner, $5, $5 FROM u
			ON CONFLICT (platform, platform_shop_id) DO UPDATE SET
				name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE shops.name END,
				registered_owner = CASE WHEN excluded.registered_owner <> '' THEN excluded.registered_owner ELSE shops.registered_owner END,
				updated_at = excluded.updated_at
			WHERE (excluded.name <> '' AND excluded.name <> shops.name)
			   OR (excluded.registered_owner <> '' AND excluded.registered_owner <> shops.registered_owner)
			RETURNING id, platform, platform_shop_id
		)
		SELECT id, platform, platform_shop_id FROM ins
		UNION ALL
		SELECT s.id, s.platform, s.platform_shop_id FROM shops s JOIN u ON s.platform = u.platform AND s.platform_shop_id = u.platform_shop_id`,
		plat, pid, name, owner, now)
	if err != nil {
		return nil, fmt.Errorf("upsert shops: %w", err)
	}
	if err := scanShops(rows, ids); err != nil {
		return nil, err
	}
	// A shop that a concurrent request created after this statement's
	// snapshot is neither inserted nor seen above: look again.
	var mp, mi []string
	for _, k := range keys {
		if _, ok := ids[k]; !ok {
			mp, mi = append(mp, k.platform), append(mi, k.id)
		}
	}
	if len(mp) > 0 {
		rows, err := stx.QueryContext(ctx, `SELECT s.id, s.platform, s.platform_shop_id FROM shops s
			JOIN unnest($1::text[], $2::text[]) AS u(platform, platform_shop_id) ON s.platform = u.platform AND s.platform_shop_id = u.platform_shop_id`, mp, mi)
		if err != nil {
			return nil, err
		}
		if err := scanShops(rows, ids); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func scanShops(rows *sql.Rows, ids map[shopKeyT]int64) error {
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k shopKeyT
		if err := rows.Scan(&id, &k.platform, &k.id); err != nil {
			return err
		}
		ids[k] = id
	}
	return rows.Err()
}

type listingWant struct {
	rec   *ListingRecord
	price *int64
	brand int64
}

func pgUpsertListings(tx *gorm.DB, keys []listingKey, wants map[listingKey]listingWant, now time.Time) (map[listingKey]int64, error) {
	stx, ctx, err := pgTx(tx)
	if err != nil {
		return nil, err
	}
	// As for shops: known listings that stay as they are are only looked up.
	ids := make(map[listingKey]int64, len(keys))
	changed := map[listingKey]bool{}
	shop, pid := make([]int64, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		shop[i], pid[i] = k.shopID, k.id
	}
	rows, err := stx.QueryContext(ctx, `SELECT l.id, l.shop_id, l.platform_listing_id, l.url, l.title, l.price_minor, l.currency FROM listings l
		JOIN unnest($1::bigint[], $2::text[]) AS u(shop_id, platform_listing_id) ON l.shop_id = u.shop_id AND l.platform_listing_id = u.platform_listing_id`, shop, pid)
	if err != nil {
		return nil, fmt.Errorf("find listings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k listingKey
		var url, title, cur string
		var price *int64
		if err := rows.Scan(&id, &k.shopID, &k.id, &url, &title, &price, &cur); err != nil {
			return nil, err
		}
		w := wants[k]
		if pick(w.rec.URL, url) == url && pick(w.rec.Title, title) == title && pick(w.rec.Currency, cur) == cur &&
			(w.price == nil || samePrice(w.price, price)) {
			ids[k] = id
		} else {
			changed[k] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// New listings are written with COPY; if a concurrent request wrote one
	// of them first, they go through the upsert below with the changed ones.
	var fresh []listingKey
	for _, k := range keys {
		if _, ok := ids[k]; !ok && !changed[k] {
			fresh = append(fresh, k)
		}
	}
	copied, err := pgCopyListings(tx, fresh, wants, now, ids)
	if err != nil {
		return nil, err
	}
	var url, title, cur []string
	var price []*int64
	var brand []int64
	shop, pid = shop[:0], pid[:0]
	for _, k := range keys { // still in key order
		if _, ok := ids[k]; !ok && (changed[k] || !copied) {
			w := wants[k]
			shop, pid, url, title = append(shop, k.shopID), append(pid, k.id), append(url, w.rec.URL), append(title, w.rec.Title)
			cur, price, brand = append(cur, w.rec.Currency), append(price, w.price), append(brand, w.brand)
		}
	}
	if len(shop) == 0 {
		return ids, nil
	}
	rows, err = stx.QueryContext(ctx, `WITH u AS (
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::bigint[])
				AS u(shop_id, platform_listing_id, url, title, price_minor, currency, brand_id)
		), ins AS (
			INSERT INTO listings (shop_id, platform_listing_id, url, title, price_minor, currency, brand_id, created_at, updated_at)
			SELECT shop_id, platform_listing_id, url, title, price_minor, currency, brand_id, $8, $8 FROM u
			ON CONFLICT (shop_id, platform_listing_id) DO UPDATE SET
				url = CASE WHEN excluded.url <> '' THEN excluded.url ELSE listings.url END,
				title = CASE WHEN excluded.title <> '' THEN excluded.title ELSE listings.title END,
				currency = CASE WHEN excluded.currency <> '' THEN excluded.currency ELSE listings.currency END,
				price_minor = COALESCE(excluded.price_minor, listings.price_minor),
				updated_at = excluded.updated_at
			WHERE (excluded.url <> '' AND excluded.url <> listings.url)
			   OR (excluded.title <> '' AND excluded.title <> listings.title)
			   OR (excluded.currency <> '' AND excluded.currency <> listings.currency)
			   OR (excluded.price_minor IS NOT NULL AND excluded.price_minor IS DISTINCT FROM listings.price_minor)
			RETURNING id, shop_id, platform_listing_id
		)
		SELECT id, shop_id, platform_listing_id FROM ins
		UNION ALL
		SELECT l.id, l.shop_id, l.platform_listing_id FROM listings l JOIN u ON l.shop_id = u.shop_id AND l.platform_listing_id = u.platform_listing_id`,
		shop, pid, url, title, price, cur, brand, now)
	if err != nil {
		return nil, fmt.Errorf("upsert listings: %w", err)
	}
	if err := scanListings(rows, ids); err != nil {
		return nil, err
	}
	var ms []int64
	var mi []string
	for _, k := range keys {
		if _, ok := ids[k]; !ok {
			ms, mi = append(ms, k.shopID), append(mi, k.id)
		}
	}
	if len(ms) > 0 { // created concurrently after our snapshot: look again
		rows, err := stx.QueryContext(ctx, `SELECT l.id, l.shop_id, l.platform_listing_id FROM listings l
			JOIN unnest($1::bigint[], $2::text[]) AS u(shop_id, platform_listing_id) ON l.shop_id = u.shop_id AND l.platform_listing_id = u.platform_listing_id`, ms, mi)
		if err != nil {
			return nil, err
		}
		if err := scanListings(rows, ids); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// pgCopyListings writes the listings of keys, none of which existed when
// looked up, with COPY under ids reserved from the table's sequence, and
// records their ids. If a concurrent request stored one of them meanwhile
// it writes nothing and answers false.
func pgCopyListings(tx *gorm.DB, keys []listingKey, wants map[listingKey]listingWant, now time.Time, ids map[listingKey]int64) (bool, error) {
	if len(keys) == 0 {
		return true, nil
	}
	stx, ctx, err := pgTx(tx)
	if err != nil {
		return false, err
	}
	rows, err := stx.QueryContext(ctx, `SELECT nextval(pg_get_serial_sequence('listings', 'id')) FROM generate_series(1, $1)`, len(keys))
	if err != nil {
		return false, fmt.Errorf("reserve listing ids: %w", err)
	}
	newIDs := make([]int64, 0, len(keys))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return false, err
		}
		newIDs = append(newIDs, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return false, err
	}
	if err := tx.SavePoint("listings").Error; err != nil {
		return false, err
	}
	cols := []string{"id", "shop_id", "platform_listing_id", "url", "title", "price_minor", "currency", "brand_id", "created_at", "updated_at"}
	_, err = database.CopyFrom(tx, "listings", cols, pgx.CopyFromSlice(len(keys), func(i int) ([]any, error) {
		k := keys[i]
		w := wants[k]
		return []any{newIDs[i], k.shopID, k.id, w.rec.URL, w.rec.Title, w.price, w.rec.Currency, w.brand, now, now}, nil
	}))
	if database.ViolatesUnique(err, "listings_shop_key") {
		return false, tx.RollbackTo("listings").Error
	}
	if err != nil {
		return false, fmt.Errorf("insert listings: %w", err)
	}
	for i, k := range keys {
		ids[k] = newIDs[i]
	}
	return true, nil
}

func scanListings(rows *sql.Rows, ids map[listingKey]int64) error {
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k listingKey
		if err := rows.Scan(&id, &k.shopID, &k.id); err != nil {
			return err
		}
		ids[k] = id
	}
	return rows.Err()
}

// pgInsertFlags writes the flags with COPY. A flag that a concurrent
// request stored first fails the whole COPY: then it answers 0 inserted,
// and store places the flags again without the known ones.
func pgInsertFlags(tx *gorm.DB, cs []checked, shopIDs map[shopKeyT]int64, listingIDs map[listingKey]int64,
	caseOf map[[2]int64]int64, now time.Time) (int, error) {
	cols := []string{"source", "external_id", "rule", "score", "shop_id", "listing_id", "brand_id", "detected_at", "payload",
		"case_id", "status", "received_at"}
	n, err := database.CopyFrom(tx, "flags", cols, pgx.CopyFromSlice(len(cs), func(i int) ([]any, error) {
		f := newFlag(cs[i], shopIDs, listingIDs, caseOf)
		return []any{f.Source, f.ExternalID, f.Rule, f.Score, f.ShopID, f.ListingID, f.BrandID, f.DetectedAt, f.Payload,
			f.CaseID, f.Status, now}, nil
	}))
	if database.ViolatesUnique(err, "flags_source_external_key") {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("insert flags: %w", err)
	}
	return int(n), nil
}

func pgAttachFlags(tx *gorm.DB, pairs [][2]int64) error {
	stx, ctx, err := pgTx(tx)
	if err != nil {
		return err
	}
	f, c := make([]int64, len(pairs)), make([]int64, len(pairs))
	for i, p := range pairs {
		f[i], c[i] = p[0], p[1]
	}
	res, err := stx.ExecContext(ctx, `UPDATE flags SET case_id = u.case_id, status = 'attached'
		FROM unnest($1::bigint[], $2::bigint[]) AS u(flag_id, case_id) WHERE flags.id = u.flag_id AND flags.status = 'open'`, f, c)
	if err != nil {
		return fmt.Errorf("attach flags: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != int64(len(pairs)) {
		return ErrNotOpen
	}
	return nil
}
