package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/evidence"
	"spotcheck/internal/flag"
	"spotcheck/internal/purchase"
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
	if err := a.db.Gorm.Raw("SELECT reference, shop_id FROM cases ORDER BY id LIMIT 1").Row().Scan(&ref, &shopID); err != nil {
		t.Fatal(err)
	}
	_, tok, err := a.tokens.Create(context.Background(), 0, "seed")
	if err != nil || ref == "" {
		t.Fatalf("seed: %v %q", err, ref)
	}
	csv := "source,external_id,brand,score,detected_at,shop_platform,shop_id\nrisk-model-7,csv-1,Aurora Timepieces,0.3,2026-11-20T08:00:00Z,taobao,s-csv\n"
	imp, _, err := a.flags.CreateImport(context.Background(), a.accounts["staff"].Actor(), "seed.csv", []byte(csv), a.zone)
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]string{"case": ref, "shop": strconv.FormatInt(shopID, 10), "token": strconv.FormatInt(tok.ID, 10),
		"import": strconv.FormatInt(imp.ID, 10)}
	maps.Copy(objs, a.seedPurchase(t, "shop-buy", purchase.Received))
	objs["volunteer"] = strconv.FormatInt(a.accounts["volunteer"].ID, 10)
	var brandID int64
	if err := a.db.Gorm.Raw("SELECT brand_id FROM cases WHERE reference = ?", ref).Row().Scan(&brandID); err != nil {
		t.Fatal(err)
	}
	objs["brand"] = strconv.FormatInt(brandID, 10)
	objs["brandcase"] = a.seedPurchase(t, "shop-brandcase", purchase.Dispatched)["purchase_case"]
	return objs
}

// seedPurchase opens a case on a new shop and takes a test purchase by the
// seeded volunteer up to status: its ids by name (purchase, evidence —
// the receipt —, item, reimbursement, case).
func (a *app) seedPurchase(t testing.TB, shopID string, upTo purchase.Status) map[string]string {
	t.Helper()
	ctx := context.Background()
	a.ingestNDJSON(t, flagJSON("buy-"+shopID, shopID, "Aurora Timepieces", 0.95))
	var c casework.Case
	if err := a.db.Gorm.Where("shop_id = (SELECT id FROM shops WHERE platform_shop_id = ?)", shopID).Take(&c).Error; err != nil {
		t.Fatal(err)
	}
	staff, vol := a.accounts["staff"].Actor(), a.accounts["volunteer"].Actor()
	persona, err := a.purchase.AddPersona(ctx, staff, vol.UserID, purchase.NewPersona{PlatformAccount: "buyer-" + shopID,
		AddressAlias: "Locker 9", Phone: "+86 138 0000 1234", PaymentInstrument: "card 6222 0000 0000 4321"})
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	p, err := a.purchase.Order(ctx, staff, c.ID, purchase.OrderInput{CaseVersion: c.Version, VolunteerID: vol.UserID, PersonaID: persona.ID,
		Budget: "200.00", Currency: "CNY", ShipTo: "Brand office", DueOn: time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{"purchase": strconv.FormatInt(p.ID, 10), "purchase_case": c.Reference}
	put := func(k evidence.Kind) []evidence.Upload {
		st, err := a.evidence.Put(ctx, bytes.NewReader(pngBytes(t)), string(k)+".png")
		if err != nil {
			t.Fatal(err)
		}
		return []evidence.Upload{{Kind: k, Stored: st}}
	}
	if upTo == purchase.Assigned {
		return ids
	}
	if err := a.purchase.RecordOrder(ctx, vol, p.ID, purchase.OrderStep{Version: p.Version, OrderNumber: "T-" + shopID, AmountPaid: "180.00",
		OrderDate: today}, put(evidence.Receipt)); err != nil {
		t.Fatal(err)
	}
	var ev evidence.Evidence
	if err := a.db.Gorm.Where("purchase_id = ?", p.ID).Take(&ev).Error; err != nil {
		t.Fatal(err)
	}
	var r purchase.Reimbursement
	if err := a.db.Gorm.Where("purchase_id = ?", p.ID).Take(&r).Error; err != nil {
		t.Fatal(err)
	}
	ids["evidence"], ids["reimbursement"] = strconv.FormatInt(ev.ID, 10), strconv.FormatInt(r.ID, 10)
	if upTo == purchase.Ordered {
		return ids
	}
	p, _ = a.purchase.Get(ctx, staff, p.ID)
	if err := a.purchase.RecordDelivery(ctx, vol, p.ID, purchase.DeliveryStep{Version: p.Version, DeliveredOn: today, SealNumber: "SEAL-" + shopID},
		append(put(evidence.ParcelPhoto), put(evidence.ItemPhoto)...)); err != nil {
		t.Fatal(err)
	}
	ch, _, err := a.purchase.ChainOf(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	ids["item"] = strconv.FormatInt(ch.Item.ID, 10)
	if upTo == purchase.Received {
		return ids
	}
	p, _ = a.purchase.Get(ctx, staff, p.ID)
	if err := a.purchase.Dispatch(ctx, vol, p.ID, purchase.DispatchStep{Version: p.Version, To: purchase.PartyBrand, Carrier: "SF",
		Tracking: "SF-" + shopID}, nil); err != nil {
		t.Fatal(err)
	}
	return ids
}

// pngBytes is a small real PNG.
func pngBytes(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
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
