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

func pgUpsertShops(tx *gorm.DB, keys []shopKeyT, want map[shopKeyT]*ShopRecord, update bool, now time.Time) (map[shopKeyT]int64, []change, error) {
	stx, ctx, err := pgTx(tx)
	if err != nil {
		return nil, nil, err
	}
	ids := make(map[shopKeyT]int64, len(keys))
	var changes []change
	// A shop that a concurrent request created after a round's snapshot is
	// neither inserted nor seen by it: the next round looks again (and
	// then sees it, committed).
	for pending, round := keys, 1; len(pending) > 0; round++ {
		if round > 3 {
			return nil, nil, fmt.Errorf("upsert shops: concurrent requests conflicted %d times", round-1)
		}
		c, err := pgUpsertShopsOnce(ctx, stx, pending, want, update, now, ids)
		if err != nil {
			return nil, nil, err
		}
		changes = append(changes, c...)
		var next []shopKeyT
		for _, k := range pending {
			if _, ok := ids[k]; !ok {
				next = append(next, k)
			}
		}
		pending = next
	}
	return ids, changes, nil
}

// pgUpsertShopsOnce records in ids the shops of keys that it finds or
// creates, and returns the known ones that it changed.
func pgUpsertShopsOnce(ctx context.Context, stx *sql.Tx, keys []shopKeyT, want map[shopKeyT]*ShopRecord, update bool, now time.Time,
	ids map[shopKeyT]int64) ([]change, error) {
	// Known shops that the flags leave as they are are only looked up: no
	// row lock, so concurrent requests about the same shops do not queue.
	// The lookup also keeps what a shop to be changed was, for the audit.
	type stored struct {
		id          int64
		name, owner string
	}
	old := map[shopKeyT]stored{}
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
		var k shopKeyT
		var r stored
		if err := rows.Scan(&r.id, &k.platform, &k.id, &r.name, &r.owner); err != nil {
			return nil, err
		}
		if w := want[k]; !update || (pick(w.Name, r.name) == r.name && pick(w.Owner, r.owner) == r.owner) {
			ids[k] = r.id
		} else {
			old[k] = r
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var name, owner []string
	var known []*int64
	plat, pid = plat[:0], pid[:0]
	for _, k := range keys { // still in key order
		if _, ok := ids[k]; !ok {
			var id *int64
			if r, ok := old[k]; ok {
				id = &r.id
			}
			plat, pid, name, owner = append(plat, k.platform), append(pid, k.id), append(name, want[k].Name), append(owner, want[k].Owner)
			known = append(known, id)
		}
	}
	if len(plat) == 0 {
		return nil, nil
	}
	// Insert the new shops; refresh a known shop's name or owner only when
	// the flag brings a different, non-empty value (so a resend or an
	// unchanged shop writes nothing). A known shop goes in with its own id,
	// a new one with a fresh id: so only the shops whose old values were
	// looked up above are changed (and audited); one that a concurrent
	// request created meanwhile is looked up again in the next round.
	rows, err = stx.QueryContext(ctx, `WITH u AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS u(platform, platform_shop_id, name, owner, id)
		), ins AS (
			INSERT INTO shops (id, platform, platform_shop_id, name, registered_owner, created_at, updated_at)
			SELECT COALESCE(id, nextval(pg_get_serial_sequence('shops', 'id'))), platform, platform_shop_id, name, owner, $6, $6 FROM u
			ON CONFLICT (platform, platform_shop_id) DO UPDATE SET
				name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE shops.name END,
				registered_owner = CASE WHEN excluded.registered_owner <> '' THEN excluded.registered_owner ELSE shops.registered_owner END,
				updated_at = excluded.updated_at
			WHERE excluded.id = shops.id
			  AND ((excluded.name <> '' AND excluded.name <> shops.name)
			    OR (excluded.registered_owner <> '' AND excluded.registered_owner <> shops.registered_owner))
			RETURNING id, platform, platform_shop_id, name, registered_owner
		)
		SELECT id, platform, platform_shop_id, name, registered_owner, true FROM ins
		UNION ALL
		SELECT s.id, s.platform, s.platform_shop_id, '', '', false FROM shops s JOIN u ON s.platform = u.platform AND s.platform_shop_id = u.platform_shop_id`,
		plat, pid, name, owner, known, now)
	if err != nil {
		return nil, fmt.Errorf("upsert shops: %w", err)
	}
	var changes []change
	defer rows.Close()
	for rows.Next() {
		var k shopKeyT
		var r stored
		var written bool
		if err := rows.Scan(&r.id, &k.platform, &k.id, &r.name, &r.owner, &written); err != nil {
			return nil, err
		}
		if o, ok := old[k]; ok && written {
			if c, ok := newChange("shop", r.id, "name", o.name, r.name, "registered_owner", o.owner, r.owner); ok {
				changes = append(changes, c)
			}
		}
		if _, ok := old[k]; ok || written {
			ids[k] = r.id
		}
	}
	return changes, rows.Err()
}

type listingWant struct {
	rec   *ListingRecord
	price *int64
	brand int64
}

func pgUpsertListings(tx *gorm.DB, keys []listingKey, wants map[listingKey]listingWant, update bool, now time.Time) (map[listingKey]int64, []change, error) {
	stx, ctx, err := pgTx(tx)
	if err != nil {
		return nil, nil, err
	}
	ids := make(map[listingKey]int64, len(keys))
	var changes []change
	// As for shops: a listing that a concurrent request stored first is
	// looked up again in the next round.
	for pending, round := keys, 1; len(pending) > 0; round++ {
		if round > 3 {
			return nil, nil, fmt.Errorf("upsert listings: concurrent requests conflicted %d times", round-1)
		}
		c, err := pgUpsertListingsOnce(ctx, tx, stx, pending, wants, update, now, ids)
		if err != nil {
			return nil, nil, err
		}
		changes = append(changes, c...)
		var next []listingKey
		for _, k := range pending {
			if _, ok := ids[k]; !ok {
				next = append(next, k)
			}
		}
		pending = next
	}
	return ids, changes, nil
}

// pgUpsertListingsOnce records in ids the listings of keys that it finds
// or creates, and returns the known ones whose URL or title it changed.
func pgUpsertListingsOnce(ctx context.Context, tx *gorm.DB, stx *sql.Tx, keys []listingKey, wants map[listingKey]listingWant, update bool,
	now time.Time, ids map[listingKey]int64) ([]change, error) {
	// As for shops: known listings that stay as they are are only looked up,
	// and the lookup keeps what a listing to be changed was.
	type stored struct {
		id         int64
		url, title string
	}
	changed := map[listingKey]stored{}
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
		if !update || (pick(w.rec.URL, url) == url && pick(w.rec.Title, title) == title && pick(w.rec.Currency, cur) == cur &&
			(w.price == nil || samePrice(w.price, price))) {
			ids[k] = id
		} else {
			changed[k] = stored{id, url, title}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// New listings are written with COPY; if a concurrent request wrote one
	// of them first, none is, and the next round looks them up again.
	var fresh []listingKey
	for _, k := range keys {
		_, isChanged := changed[k]
		if _, ok := ids[k]; !ok && !isChanged {
			fresh = append(fresh, k)
		}
	}
	if err := pgCopyListings(tx, fresh, wants, now, ids); err != nil {
		return nil, err
	}
	if len(changed) == 0 {
		return nil, nil
	}
	var url, title, cur []string
	var price []*int64
	var brand, known []int64
	shop, pid = shop[:0], pid[:0]
	for _, k := range keys { // still in key order
		if old, ok := changed[k]; ok {
			w := wants[k]
			shop, pid, url, title = append(shop, k.shopID), append(pid, k.id), append(url, w.rec.URL), append(title, w.rec.Title)
			cur, price, brand, known = append(cur, w.rec.Currency), append(price, w.price), append(brand, w.brand), append(known, old.id)
		}
	}
	// Only the listings looked up above are changed: each goes in with its
	// own id (so the upsert locks rows in key order, like the shops').
	rows, err = stx.QueryContext(ctx, `WITH u AS (
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::bigint[], $9::bigint[])
				AS u(shop_id, platform_listing_id, url, title, price_minor, currency, brand_id, id)
		)
		INSERT INTO listings (id, shop_id, platform_listing_id, url, title, price_minor, currency, brand_id, created_at, updated_at)
		SELECT id, shop_id, platform_listing_id, url, title, price_minor, currency, brand_id, $8, $8 FROM u
		ON CONFLICT (shop_id, platform_listing_id) DO UPDATE SET
			url = CASE WHEN excluded.url <> '' THEN excluded.url ELSE listings.url END,
			title = CASE WHEN excluded.title <> '' THEN excluded.title ELSE listings.title END,
			currency = CASE WHEN excluded.currency <> '' THEN excluded.currency ELSE listings.currency END,
			price_minor = COALESCE(excluded.price_minor, listings.price_minor),
			updated_at = excluded.updated_at
		WHERE excluded.id = listings.id
		  AND ((excluded.url <> '' AND excluded.url <> listings.url)
		    OR (excluded.title <> '' AND excluded.title <> listings.title)
		    OR (excluded.currency <> '' AND excluded.currency <> listings.currency)
		    OR (excluded.price_minor IS NOT NULL AND excluded.price_minor IS DISTINCT FROM listings.price_minor))
		RETURNING id, shop_id, platform_listing_id, url, title`,
		shop, pid, url, title, price, cur, brand, now, known)
	if err != nil {
		return nil, fmt.Errorf("upsert listings: %w", err)
	}
	var changes []change
	defer rows.Close()
	for rows.Next() {
		var k listingKey
		var r stored
		if err := rows.Scan(&r.id, &k.shopID, &k.id, &r.url, &r.title); err != nil {
			return nil, err
		}
		old := changed[k]
		if c, ok := newChange("listing", r.id, "url", old.url, r.url, "title", old.title, r.title); ok {
			changes = append(changes, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// A changed listing that the upsert did not write (a concurrent request
	// gave it the same values meanwhile) is as the flag wants it.
	for k, old := range changed {
		ids[k] = old.id
	}
	return changes, nil
}

// pgCopyListings writes the listings of keys, none of which existed when
// looked up, with COPY under ids reserved from the table's sequence, and
// records their ids. If a concurrent request stored one of them meanwhile
// it writes nothing and records none.
func pgCopyListings(tx *gorm.DB, keys []listingKey, wants map[listingKey]listingWant, now time.Time, ids map[listingKey]int64) error {
	if len(keys) == 0 {
		return nil
	}
	stx, ctx, err := pgTx(tx)
	if err != nil {
		return err
	}
	rows, err := stx.QueryContext(ctx, `SELECT nextval(pg_get_serial_sequence('listings', 'id')) FROM generate_series(1, $1)`, len(keys))
	if err != nil {
		return fmt.Errorf("reserve listing ids: %w", err)
	}
	newIDs := make([]int64, 0, len(keys))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return errors.Join(err, rows.Close())
		}
		newIDs = append(newIDs, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	if err := tx.SavePoint("listings").Error; err != nil {
		return err
	}
	cols := []string{"id", "shop_id", "platform_listing_id", "url", "title", "price_minor", "currency", "brand_id", "created_at", "updated_at"}
	_, err = database.CopyFrom(tx, "listings", cols, pgx.CopyFromSlice(len(keys), func(i int) ([]any, error) {
		k := keys[i]
		w := wants[k]
		return []any{newIDs[i], k.shopID, k.id, w.rec.URL, w.rec.Title, w.price, w.rec.Currency, w.brand, now, now}, nil
	}))
	if database.ViolatesUnique(err, "listings_shop_key") {
		return tx.RollbackTo("listings").Error
	}
	if err != nil {
		return fmt.Errorf("insert listings: %w", err)
	}
	for i, k := range keys {
		ids[k] = newIDs[i]
	}
	return nil
}

// pgInsertFlags writes the flags with COPY. A flag that a concurrent
// request stored first fails the whole COPY: then it answers 0 inserted,
// and store places the flags again without the known ones.
func pgInsertFlags(tx *gorm.DB, cs []checked, shopIDs map[shopKeyT]int64, listingIDs map[listingKey]int64,
	caseOf map[[2]int64]int64, now time.Time) (int, error) {
	cols := []string{"source", "external_id", "rule", "score", "shop_id", "listing_id", "brand_id", "detected_at", "payload",
		"case_id", "status", "received_at", "repeat_of_case_id"}
	n, err := database.CopyFrom(tx, "flags", cols, pgx.CopyFromSlice(len(cs), func(i int) ([]any, error) {
		f := newFlag(cs[i], shopIDs, listingIDs, caseOf)
		return []any{f.Source, f.ExternalID, f.Rule, f.Score, f.ShopID, f.ListingID, f.BrandID, f.DetectedAt, f.Payload,
			f.CaseID, f.Status, now, f.RepeatOfCaseID}, nil
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
