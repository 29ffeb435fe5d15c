package flag_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/flag"
)

var system = authz.Actor{}

func seedBrands(t *testing.T, db *database.DB) {
	t.Helper()
	now := time.Now().UTC()
	for _, n := range []string{"Aurora Timepieces", "Lotus Leather"} {
		if err := db.Gorm.Exec("INSERT INTO brands (name, created_at) VALUES (?, ?)", n, now).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// rec is a valid flag as JSON; edit tweaks it.
func rec(ext, shop string, score float64) string {
	return fmt.Sprintf(`{"source":"risk-model-7","external_id":%q,"brand":"Aurora Timepieces","score":%g,"rule":"price_anomaly",`+
		`"detected_at":"2026-11-20T08:00:00Z","shop":{"platform":"taobao","id":%q,"name":"Star Watch %s","owner":"Liu"},`+
		`"listing":{"id":"item-%s","url":"https://shop.example/item-%s","title":"Crystal watch %s","price":"199.00","currency":"CNY"}}`,
		ext, score, shop, shop, ext, ext, ext)
}

func ingest(t *testing.T, s *flag.Service, lines ...string) flag.Result {
	t.Helper()
	recs, rejs, err := flag.DecodeNDJSON(strings.NewReader(strings.Join(lines, "\n")), flag.MaxPerRequest)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Ingest(context.Background(), system, "test", recs, rejs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func count(t *testing.T, db *database.DB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.Gorm.Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEachBadRecordIsRejectedByIndexAndFieldWhileGoodOnesAreStored(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedBrands(t, db)
		s := flag.NewService(db, 0.8)
		res := ingest(t, s,
			rec("f-1", "shop-1", 0.5),
			strings.Replace(rec("f-2", "shop-1", 0.5), `"Aurora Timepieces"`, `"Unknown Brand"`, 1),
			strings.Replace(rec("f-3", "shop-1", 0.5), `"score":0.5`, `"score":1.5`, 1),
			strings.Replace(rec("f-4", "shop-1", 0.5), `"rule"`, `"colour":"red","rule"`, 1),
			strings.Replace(rec("f-5", "shop-1", 0.5), `"2026-11-20T08:00:00Z"`, `"yesterday"`, 1),
			strings.Replace(rec("f-6", "shop-1", 0.5), `"price":"199.00"`, `"price":"cheap"`, 1),
			strings.Replace(rec("f-7", "shop-1", 0.5), `"id":"shop-1"`, `"id":""`, 1),
			`{"source":"x",`,
			strings.Replace(rec("f-9", "shop-1", 0.5), `"score":0.5`, `"score":"high"`, 1),
			strings.Replace(rec("f-10", "shop-1", 0.5), `"https://shop.example/item-f-10"`, `"javascript:alert(1)"`, 1),
			strings.Replace(rec("f-11", "shop-1", 0.5), `"price":"199.00"`, `"price":" 199.00"`, 1),
		)
		want := []struct {
			index       int
			field, code string
		}{
			{1, "brand", "unknown_brand"}, {2, "score", "out_of_range"}, {3, "colour", "unknown_field"},
			{4, "detected_at", "invalid_time"}, {5, "listing.price", "invalid_price"}, {6, "shop.id", "required"},
			{7, "", "invalid_json"}, {8, "score", "wrong_type"}, {9, "listing.url", "invalid_url"},
			{10, "listing.price", "invalid_price"},
		}
		if res.Received != 11 || res.Created != 1 || len(res.Rejected) != len(want) {
			t.Fatalf("result = %+v", res)
		}
		for i, w := range want {
			r := res.Rejected[i]
			if r.Index != w.index || r.Field != w.field || r.Code != w.code || r.Message == "" {
				t.Errorf("rejection %d = %+v, want %+v", i, r, w)
			}
		}
		if n := count(t, db, "flags", ""); n != 1 {
			t.Fatalf("%d flags stored", n)
		}
	})
}

func TestResendingChangesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedBrands(t, db)
		s := flag.NewService(db, 0.8)
		batch := []string{rec("f-1", "shop-1", 0.9), rec("f-2", "shop-2", 0.3), rec("f-2", "shop-2", 0.3)}
		first := ingest(t, s, batch...)
		if first.Created != 2 || first.Duplicates != 1 || first.CasesOpened != 1 {
			t.Fatalf("first = %+v", first)
		}
		var before []string
		if err := db.Gorm.Raw("SELECT CAST(updated_at AS text) FROM shops ORDER BY id").Scan(&before).Error; err != nil {
			t.Fatal(err)
		}
		second := ingest(t, s, batch...)
		if second.Created != 0 || second.Duplicates != 3 || second.CasesOpened != 0 || second.CasesUpdated != 0 {
			t.Fatalf("resend = %+v", second)
		}
		var after []string
		if err := db.Gorm.Raw("SELECT CAST(updated_at AS text) FROM shops ORDER BY id").Scan(&after).Error; err != nil {
			t.Fatal(err)
		}
		if strings.Join(before, ",") != strings.Join(after, ",") {
			t.Fatalf("shops touched by a resend: %v → %v", before, after)
		}
		if n := count(t, db, "flags", ""); n != 2 {
			t.Fatalf("%d flags after resend", n)
		}
	})
}

func TestFlagsGroupIntoOneOpenCasePerShopAndBrand(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedBrands(t, db)
		s := flag.NewService(db, 0.8)
		// Below the threshold: waits in the inbox.
		r := ingest(t, s, rec("f-1", "shop-1", 0.5))
		if r.CasesOpened != 0 || count(t, db, "flags", "status = 'open' AND case_id IS NULL") != 1 {
			t.Fatalf("low score: %+v", r)
		}
		// At the threshold: opens a case and takes its sibling flags of the request with it.
		r = ingest(t, s, rec("f-2", "shop-2", 0.8), rec("f-3", "shop-2", 0.4))
		if r.CasesOpened != 1 || count(t, db, "flags", "status = 'attached'") != 2 {
			t.Fatalf("threshold: %+v", r)
		}
		// A later low-scoring flag of the same shop and brand joins the open case.
		r = ingest(t, s, rec("f-4", "shop-2", 0.1))
		if r.CasesOpened != 0 || r.CasesUpdated != 1 || count(t, db, "cases", "") != 1 {
			t.Fatalf("join: %+v", r)
		}
		// Another brand of the same shop is another case.
		other := strings.Replace(rec("f-5", "shop-2", 0.95), `"Aurora Timepieces"`, `"lotus leather"`, 1)
		if r = ingest(t, s, other); r.CasesOpened != 1 {
			t.Fatalf("second brand: %+v", r)
		}
		var refs []string
		if err := db.Gorm.Raw("SELECT reference FROM cases ORDER BY id").Scan(&refs).Error; err != nil {
			t.Fatal(err)
		}
		if len(refs) != 2 || !strings.HasPrefix(refs[0], "SC-") || refs[0] == refs[1] {
			t.Fatalf("references %v", refs)
		}
		var score float64
		if err := db.Gorm.Raw("SELECT risk_score FROM cases WHERE id = (SELECT MIN(id) FROM cases)").Scan(&score).Error; err != nil {
			t.Fatal(err)
		}
		if score != 0.8 {
			t.Fatalf("risk score %v", score)
		}
		if n := count(t, db, "case_events", "kind = 'flag'"); n != 1 {
			t.Fatalf("%d flag timeline entries", n)
		}
		if _, err := audit.Verify(context.Background(), db.Gorm); err != nil {
			t.Fatal(err)
		}
	})
}

func TestShopAndListingDetailsFollowTheLatestFlag(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedBrands(t, db)
		s := flag.NewService(db, 0.8)
		ingest(t, s, rec("f-1", "shop-1", 0.5))
		renamed := strings.Replace(rec("f-2", "shop-1", 0.5), `"name":"Star Watch shop-1"`, `"name":"Bright Star Watches"`, 1)
		renamed = strings.Replace(renamed, `"owner":"Liu"`, `"owner":""`, 1)
		ingest(t, s, renamed)
		var shop struct{ Name, RegisteredOwner string }
		if err := db.Gorm.Raw("SELECT name, registered_owner FROM shops").Scan(&shop).Error; err != nil {
			t.Fatal(err)
		}
		if shop.Name != "Bright Star Watches" || shop.RegisteredOwner != "Liu" {
			t.Fatalf("shop = %+v (an empty owner must not erase the known one)", shop)
		}
		var price int64
		if err := db.Gorm.Raw("SELECT price_minor FROM listings WHERE platform_listing_id = 'item-f-1'").Scan(&price).Error; err != nil {
			t.Fatal(err)
		}
		if price != 19900 {
			t.Fatalf("price = %d", price)
		}
	})
}

func TestDecodingLimitsAndFormats(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("[")
	for i := range flag.MaxPerRequest + 1 {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString("{}")
	}
	sb.WriteString("]")
	if _, _, err := flag.DecodeJSONArray(strings.NewReader(sb.String()), flag.MaxPerRequest); err != flag.ErrTooMany {
		t.Fatalf("10,001 records: %v", err)
	}
	for _, bad := range []string{`{"source":"x"}`, `[{}`, `[{}] [{}]`, ``} {
		if _, _, err := flag.DecodeJSONArray(strings.NewReader(bad), 10); err != flag.ErrBadBody {
			t.Errorf("%q: %v", bad, err)
		}
	}
	recs, rejs, err := flag.DecodeJSONArray(strings.NewReader(`[`+rec("a", "s", 0.1)+`, 7]`), 10)
	if err != nil || len(recs) != 2 || len(rejs) != 1 || rejs[0].Index != 1 {
		t.Fatalf("array: %v %v %v", len(recs), rejs, err)
	}
}

// TestConcurrentIngestionsOfOverlappingShopsDoNotDeadlock sends batches
// that share shops in opposite orders from two senders at once.
func TestConcurrentIngestionsOfOverlappingShopsDoNotDeadlock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedBrands(t, db)
		s := flag.NewService(db, 0.5)
		const rounds, shops = 4, 300
		errs := make(chan error, 2*rounds)
		for sender := range 2 {
			go func() {
				for r := range rounds {
					var lines []string
					for i := range shops {
						shop := i
						if sender == 1 {
							shop = shops - 1 - i
						}
						lines = append(lines, rec(fmt.Sprintf("s%d-r%d-%d", sender, r, i), fmt.Sprintf("shop-%d", shop), float64(i%10)/10))
					}
					recs, rejs, err := flag.DecodeNDJSON(strings.NewReader(strings.Join(lines, "\n")), flag.MaxPerRequest)
					if err == nil {
						_, err = s.Ingest(context.Background(), system, "test", recs, rejs, nil)
					}
					errs <- err
				}
			}()
		}
		for range 2 * rounds {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, db, "flags", ""); n != 2*rounds*shops {
			t.Fatalf("%d flags", n)
		}
		if n := count(t, db, "shops", ""); n != shops {
			t.Fatalf("%d shops", n)
		}
		var open int64
		if err := db.Gorm.Raw("SELECT COUNT(*) FROM (SELECT shop_id, brand_id FROM cases WHERE state <> 'closed' GROUP BY shop_id, brand_id HAVING COUNT(*) > 1) d").Scan(&open).Error; err != nil {
			t.Fatal(err)
		}
		if open != 0 {
			t.Fatalf("%d shop/brand pairs with two open cases", open)
		}
	})
}

// TestConcurrentIngestionsOfTheSameFlagsStoreEachOnce sends overlapping
// batches of new flags for a known shop from two senders at once: every
// flag is stored once, in the one case opened for the shop.
func TestConcurrentIngestionsOfTheSameFlagsStoreEachOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedBrands(t, db)
		s := flag.NewService(db, 0.8)
		ingest(t, s, rec("known", "shop-1", 0.1)) // the shop exists, without a case
		const rounds, shared = 6, 200
		results := make(chan flag.Result, 2*rounds)
		errs := make(chan error, 2*rounds)
		start := make([]sync.WaitGroup, rounds) // both senders start each round together
		for r := range start {
			start[r].Add(2)
		}
		for sender := range 2 {
			go func() {
				for r := range rounds {
					start[r].Done()
					start[r].Wait()
					var lines []string
					for i := range shared {
						lines = append(lines, rec(fmt.Sprintf("r%d-%d", r, i), "shop-1", 0.9))
					}
					lines = append(lines, rec(fmt.Sprintf("r%d-own-%d", r, sender), "shop-1", 0.2))
					recs, rejs, err := flag.DecodeNDJSON(strings.NewReader(strings.Join(lines, "\n")), flag.MaxPerRequest)
					var res flag.Result
					if err == nil {
						res, err = s.Ingest(context.Background(), system, "test", recs, rejs, nil)
					}
					results <- res
					errs <- err
				}
			}()
		}
		var created, dups int
		for range 2 * rounds {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
			r := <-results
			created, dups = created+r.Created, dups+r.Duplicates
		}
		if want := rounds * (shared + 2); created != want || dups != rounds*shared {
			t.Fatalf("created %d (want %d), duplicates %d", created, want, dups)
		}
		if n := count(t, db, "flags", ""); n != int64(created+1) {
			t.Fatalf("%d flags", n)
		}
		if n := count(t, db, "cases", ""); n != 1 {
			t.Fatalf("%d cases", n)
		}
		if n := count(t, db, "flags", "case_id IS NOT NULL AND status = 'attached'"); n != int64(created) {
			t.Fatalf("%d flags in the case, want %d", n, created)
		}
	})
}

// TestConcurrentIngestionsOpeningTheSameCaseBothSucceed sends different new
// flags for the same known shop from two senders at once: one request opens
// the shop's case, the other's flags join it.
func TestConcurrentIngestionsOpeningTheSameCaseBothSucceed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedBrands(t, db)
		s := flag.NewService(db, 0.8)
		const rounds, per = 6, 300
		for r := range rounds { // the shops exist, without a case
			ingest(t, s, rec(fmt.Sprintf("known-%d", r), fmt.Sprintf("shop-%d", r), 0.1))
		}
		errs := make(chan error, 2*rounds)
		start := make([]sync.WaitGroup, rounds)
		for r := range start {
			start[r].Add(2)
		}
		for sender := range 2 {
			go func() {
				for r := range rounds {
					var lines []string
					for i := range per {
						lines = append(lines, rec(fmt.Sprintf("s%d-r%d-%d", sender, r, i), fmt.Sprintf("shop-%d", r), 0.9))
					}
					recs, rejs, err := flag.DecodeNDJSON(strings.NewReader(strings.Join(lines, "\n")), flag.MaxPerRequest)
					start[r].Done()
					start[r].Wait()
					if err == nil {
						_, err = s.Ingest(context.Background(), system, "test", recs, rejs, nil)
					}
					errs <- err
				}
			}()
		}
		for range 2 * rounds {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, db, "cases", ""); n != rounds {
			t.Fatalf("%d cases, want %d", n, rounds)
		}
		if n := count(t, db, "flags", "status = 'attached'"); n != 2*rounds*per {
			t.Fatalf("%d flags attached, want %d", n, 2*rounds*per)
		}
	})
}

// A large request is decoded in parts at once: the rejections still come
// in index order, each with its own index, and the good records are all
// stored.
func TestALargeRequestKeepsEveryRejectionsIndex(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedBrands(t, db)
		s := flag.NewService(db, 0.8)
		bad := map[int]bool{3: true, 499: true, 500: true, 1100: true, 2399: true}
		lines := make([]string, 2400)
		for i := range lines {
			lines[i] = rec(fmt.Sprintf("f-%d", i), fmt.Sprintf("shop-%d", i%7), 0.5)
			if bad[i] {
				lines[i] = strings.Replace(lines[i], `"rule"`, `"colour":"red","rule"`, 1)
			}
		}
		res := ingest(t, s, lines...)
		var got []int
		for _, r := range res.Rejected {
			if r.Field != "colour" || r.Code != "unknown_field" {
				t.Errorf("rejection %+v", r)
			}
			got = append(got, r.Index)
		}
		if fmt.Sprint(got) != "[3 499 500 1100 2399]" || res.Created != 2395 || res.Received != 2400 {
			t.Fatalf("rejected %v, created %d of %d", got, res.Created, res.Received)
		}
	})
}

// On PostgreSQL new listings are written with COPY. When another
// transaction stores the same listing between the lookup and the COPY,
// the COPY waits for it, fails on the unique key, and the listings go
// through the upsert instead: the flag is stored on the other
// transaction's listing, which takes the flag's details.
func TestANewListingStoredMeanwhileIsUsed(t *testing.T) {
	db := dbtest.Postgres(t)
	seedBrands(t, db)
	s := flag.NewService(db, 0.8)
	ingest(t, s, rec("f-1", "shop-1", 0.1))
	var shopID int64
	if err := db.Gorm.Raw("SELECT id FROM shops").Scan(&shopID).Error; err != nil {
		t.Fatal(err)
	}

	other := db.Gorm.Begin()
	if other.Error != nil {
		t.Fatal(other.Error)
	}
	committed := false
	defer func() { // a test that stops before the commit leaves no open transaction
		if !committed {
			if err := other.Rollback().Error; err != nil {
				t.Error(err)
			}
		}
	}()
	var theirs int64
	if err := other.Raw(`INSERT INTO listings (shop_id, platform_listing_id, title, created_at, updated_at)
		VALUES (?, 'item-f-2', 'their title', now(), now()) RETURNING id`, shopID).Scan(&theirs).Error; err != nil {
		t.Fatal(err)
	}
	done := make(chan flag.Result, 1)
	fail := make(chan error, 1)
	go func() {
		recs, rejs, err := flag.DecodeNDJSON(strings.NewReader(rec("f-2", "shop-1", 0.1)), flag.MaxPerRequest)
		if err == nil {
			var res flag.Result
			if res, err = s.Ingest(context.Background(), system, "test", recs, rejs, nil); err == nil {
				done <- res
				return
			}
		}
		fail <- err
	}()
	// Commit only once the ingestion waits on the other transaction's
	// listing, so that its lookup cannot have seen it.
	for waiting := false; !waiting; {
		select {
		case err := <-fail:
			t.Fatal(err)
		case res := <-done:
			t.Fatalf("ingestion finished before the other transaction committed: %+v", res)
		case <-time.After(20 * time.Millisecond):
		}
		if err := db.Gorm.Raw(`SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'copy%listings%')`).Scan(&waiting).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Commit().Error; err != nil {
		t.Fatal(err)
	}
	committed = true
	select {
	case err := <-fail:
		t.Fatal(err)
	case res := <-done:
		if res.Created != 1 {
			t.Fatalf("%+v", res)
		}
	}
	var got struct {
		ListingID int64
		Title     string
	}
	if err := db.Gorm.Raw(`SELECT f.listing_id, l.title FROM flags f JOIN listings l ON l.id = f.listing_id WHERE f.external_id = 'f-2'`).Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	if got.ListingID != theirs || got.Title != "Crystal watch f-2" {
		t.Fatalf("flag on listing %d titled %q, want listing %d with the flag's title", got.ListingID, got.Title, theirs)
	}
	if n := count(t, db, "listings", "platform_listing_id = 'item-f-2'"); n != 1 {
		t.Fatalf("%d listings item-f-2", n)
	}
}
