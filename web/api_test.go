package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/flag"
)

func decodeResult(t *testing.T, r response) flag.Result {
	t.Helper()
	var res flag.Result
	if err := json.Unmarshal([]byte(r.body), &res); err != nil {
		t.Fatalf("status %d, body %q: %v", r.StatusCode, r.body, err)
	}
	return res
}

func newToken(t *testing.T, a *app) string {
	t.Helper()
	secret, _, err := a.tokens.Create(t.Context(), a.accounts["admin"].ID, "risk-model-7")
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func TestAPIStoresGoodFlagsAndNamesEachBadOne(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		secret := newToken(t, a)
		body := "[" + strings.Join([]string{
			flagJSON("f-1", "shop-1", "Aurora Timepieces", 0.93),
			flagJSON("f-2", "shop-1", "Nonexistent", 0.93),
			strings.Replace(flagJSON("f-3", "shop-2", "Aurora Timepieces", 0.5), `"rule"`, `"extra":1,"rule"`, 1),
			flagJSON("f-4", "shop-3", "aurora timepieces", 0.4),
		}, ",") + "]"
		res := a.api(t, secret, "application/json", body, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", res.StatusCode, res.body)
		}
		got := decodeResult(t, res)
		if got.Received != 4 || got.Created != 2 || got.CasesOpened != 1 || len(got.Rejected) != 2 {
			t.Fatalf("result = %+v", got)
		}
		if r := got.Rejected[0]; r.Index != 1 || r.Field != "brand" || r.Code != "unknown_brand" {
			t.Errorf("rejection 0 = %+v", r)
		}
		if r := got.Rejected[1]; r.Index != 2 || r.Field != "extra" || r.Code != "unknown_field" {
			t.Errorf("rejection 1 = %+v", r)
		}
		// The raw body of each stored flag is kept as sent.
		var payload string
		if err := db.Gorm.Raw("SELECT CAST(payload AS text) FROM flags WHERE external_id = 'f-1'").Scan(&payload).Error; err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(payload, `"price_anomaly"`) {
			t.Fatalf("payload = %s", payload)
		}
	})
}

func TestAPIAcceptsNDJSONAndRefusesOtherContentTypes(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	secret := newToken(t, a)
	nd := flagJSON("n-1", "s-1", "Aurora Timepieces", 0.2) + "\n\n" + flagJSON("n-2", "s-2", "Aurora Timepieces", 0.3) + "\n"
	if got := decodeResult(t, a.api(t, secret, "application/x-ndjson", nd, nil)); got.Created != 2 {
		t.Fatalf("ndjson: %+v", got)
	}
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", ""} {
		res := a.api(t, secret, ct, nd, nil)
		if res.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(res.body, `"code":"unsupported_media_type"`) {
			t.Errorf("%q: %d %s", ct, res.StatusCode, res.body)
		}
	}
	if res := a.api(t, secret, "application/json", `{"not":"an array"}`, nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("object body: %d", res.StatusCode)
	}
}

func TestAPIRefusesMoreThanTheLimitSayingSo(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	secret := newToken(t, a)
	one := flagJSON("x", "s", "Aurora Timepieces", 0.1)
	var sb strings.Builder
	for i := range flag.MaxPerRequest + 1 {
		if i > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(one)
	}
	res := a.api(t, secret, "application/x-ndjson", sb.String(), nil)
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(res.body, "10000") {
		t.Fatalf("10,001 flags: %d %s", res.StatusCode, res.body)
	}
	big := "[" + strings.Repeat(" ", 33<<20) + "]"
	if res := a.api(t, secret, "application/json", big, nil); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("33 MiB body: %d %s", res.StatusCode, res.body)
	}
	var n int64
	if err := a.db.Gorm.Table("flags").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d flags stored from refused requests", n)
	}
}

func TestAPITokensAreCheckedAndRevocationIsImmediate(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	secret := newToken(t, a)
	body := "[" + flagJSON("t-1", "s-1", "Aurora Timepieces", 0.1) + "]"
	if res := a.api(t, "", "application/json", body, nil); res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d", res.StatusCode)
	}
	if res := a.api(t, "sc_wrong", "application/json", body, nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", res.StatusCode)
	}
	if res := a.api(t, secret, "application/json", body, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("good token: %d", res.StatusCode)
	}
	admin := a.as("admin")
	page := admin.get("/admin/tokens")
	if !strings.Contains(page.body, "risk-model-7") || strings.Contains(page.body, secret) {
		t.Fatal("token list must name the token and never show its secret")
	}
	var id string
	if err := a.db.Gorm.Raw("SELECT CAST(id AS text) FROM api_tokens").Scan(&id).Error; err != nil {
		t.Fatal(err)
	}
	if res := admin.post("/admin/tokens/"+id+"/revoke", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	if res := a.api(t, secret, "application/json", body, nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", res.StatusCode)
	}
}

func TestAdminSeesANewTokenOnce(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	admin := a.as("admin")
	res := admin.post("/admin/tokens", map[string][]string{"name": {"risk-model-9"}})
	secret := strings.TrimSpace(res.doc(t).Find("[data-testid=token-secret]").Text())
	if res.StatusCode != http.StatusCreated || !strings.HasPrefix(secret, "sc_") {
		t.Fatalf("create: %d %q", res.StatusCode, secret)
	}
	if strings.Contains(admin.get("/admin/tokens").body, secret) {
		t.Fatal("the secret is shown again")
	}
	body := "[" + flagJSON("o-1", "s-1", "Aurora Timepieces", 0.1) + "]"
	if res := a.api(t, secret, "application/json", body, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("the shown secret does not work: %d", res.StatusCode)
	}
}

func TestAPIIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		secret := newToken(t, a)
		body := "[" + flagJSON("i-1", "s-1", "Aurora Timepieces", 0.95) + "," + flagJSON("i-2", "s-2", "Aurora Timepieces", 0.1) + "]"
		key := http.Header{"Idempotency-Key": {"batch-2026-11-20-001"}}
		first := a.api(t, secret, "application/json", body, key)
		second := a.api(t, secret, "application/json", body, key)
		if first.StatusCode != 200 || second.StatusCode != 200 || first.body != second.body || second.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %s / %d %s", first.StatusCode, first.body, second.StatusCode, second.body)
		}
		if got := decodeResult(t, second); got.Created != 2 || got.CasesOpened != 1 {
			t.Fatalf("the replay must be the first answer: %+v", got)
		}
		var events int64
		if err := db.Gorm.Table("audit_events").Where("action = 'flags.ingest'").Count(&events).Error; err != nil {
			t.Fatal(err)
		}
		if events != 1 {
			t.Fatalf("%d ingestions audited; the replay wrote", events)
		}
		other := a.api(t, secret, "application/json", "["+flagJSON("i-3", "s-3", "Aurora Timepieces", 0.1)+"]", key)
		if other.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(other.body, "idempotency_key_reused") {
			t.Fatalf("same key, other body: %d %s", other.StatusCode, other.body)
		}
		// Without a key, a resend is still harmless: all duplicates.
		if got := decodeResult(t, a.api(t, secret, "application/json", body, nil)); got.Created != 0 || got.Duplicates != 2 {
			t.Fatalf("resend without key: %+v", got)
		}
	})
}

func TestAPIConcurrentRetriesWithOneKeyWriteOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		secret := newToken(t, a)
		body := "[" + flagJSON("c-1", "s-1", "Aurora Timepieces", 0.95) + "]"
		key := http.Header{"Idempotency-Key": {"same-key"}}
		var wg sync.WaitGroup
		bodies := make([]string, 8)
		for i := range bodies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := a.api(t, secret, "application/json", body, key)
				if r.StatusCode != 200 {
					t.Errorf("status %d %s", r.StatusCode, r.body)
				}
				bodies[i] = r.body
			}()
		}
		wg.Wait()
		for _, b := range bodies {
			if b != bodies[0] {
				t.Fatalf("answers differ: %s vs %s", b, bodies[0])
			}
		}
		var cases int64
		if err := db.Gorm.Table("cases").Count(&cases).Error; err != nil {
			t.Fatal(err)
		}
		if cases != 1 {
			t.Fatalf("%d cases", cases)
		}
	})
}

func TestStoredAnswersArePurgedAfterTheRetention(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	secret := newToken(t, a)
	key := http.Header{"Idempotency-Key": {"old-batch"}}
	a.api(t, secret, "application/json", "["+flagJSON("p-1", "s-1", "Aurora Timepieces", 0.1)+"]", key)
	if n, err := a.flags.PurgeReplays(t.Context(), time.Hour); err != nil || n != 0 {
		t.Fatalf("fresh answer purged: %d %v", n, err)
	}
	if err := a.db.Gorm.Exec("UPDATE idempotency_keys SET created_at = ?", time.Now().UTC().Add(-48*time.Hour)).Error; err != nil {
		t.Fatal(err)
	}
	if n, err := a.flags.PurgeReplays(t.Context(), 24*time.Hour); err != nil || n != 1 {
		t.Fatalf("old answer not purged: %d %v", n, err)
	}
	// The key is free again: another body is now a new request, not a 422.
	if res := a.api(t, secret, "application/json", "["+flagJSON("p-2", "s-2", "Aurora Timepieces", 0.1)+"]", key); res.StatusCode != http.StatusOK {
		t.Fatalf("reused key after purge: %d %s", res.StatusCode, res.body)
	}
}
