package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"spotcheck/internal/authz"
	"spotcheck/internal/flag"
)

// flagJSON is one valid flag of the API contract.
func flagJSON(ext, shopID, brand string, score float64) string {
	return fmt.Sprintf(`{"source":"risk-model-7","external_id":%q,"brand":%q,"score":%g,"rule":"price_anomaly",`+
		`"detected_at":"2026-11-20T08:00:00Z","shop":{"platform":"taobao","id":%q,"name":"Star Watch %s","owner":"Liu Wei"},`+
		`"listing":{"id":"item-%s","url":"https://shop.example/item-%s","title":"Crystal watch %s","price":"199.00","currency":"CNY"}}`,
		ext, brand, score, shopID, shopID, ext, ext, ext)
}

// ingestNDJSON stores flags through the real use case.
func (a *app) ingestNDJSON(t testing.TB, lines ...string) flag.Result {
	t.Helper()
	recs, rejs, err := flag.DecodeNDJSON(strings.NewReader(strings.Join(lines, "\n")), flag.MaxPerRequest)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.flags.Ingest(context.Background(), authz.Anonymous, "test", recs, rejs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// seedObjects makes one of each object the routes act on and returns their
// URL parameters by name.
func seedObjects(t testing.TB, a *app) map[string]string {
	t.Helper()
	a.ingestNDJSON(t, flagJSON("seed-1", "shop-seed", "Aurora Timepieces", 0.9), flagJSON("seed-2", "shop-low", "Aurora Timepieces", 0.2))
	var ref string
	var shopID int64
	a.db.Gorm.Raw("SELECT reference, shop_id FROM cases ORDER BY id LIMIT 1").Row().Scan(&ref, &shopID)
	_, tok, err := a.tokens.Create(context.Background(), 0, "seed")
	if err != nil || ref == "" {
		t.Fatalf("seed: %v %q", err, ref)
	}
	csv := "source,external_id,brand,score,detected_at,shop_platform,shop_id\nrisk-model-7,csv-1,Aurora Timepieces,0.3,2026-11-20T08:00:00Z,taobao,s-csv\n"
	imp, _, err := a.flags.CreateImport(context.Background(), a.accounts["staff"].Actor(), "seed.csv", []byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"case": ref, "shop": strconv.FormatInt(shopID, 10), "token": strconv.FormatInt(tok.ID, 10),
		"import": strconv.FormatInt(imp.ID, 10)}
}

// api posts a body to the flag API with a token.
func (a *app) api(t testing.TB, secret, contentType, body string, header http.Header) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/api/v1/flags", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return a.client().do(req)
}
