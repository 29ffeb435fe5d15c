package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"spotcheck/internal/bundle"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/purchase"
	"spotcheck/internal/verdict"
)

// confirmed takes a seeded purchase to a counterfeit verdict through the
// services: the brand logs the item in and signs.
func (a *app) confirmed(t *testing.T, shopID string) map[string]string {
	t.Helper()
	ctx := context.Background()
	ids := a.seedPurchase(t, shopID, purchase.Dispatched)
	brand := a.accounts["brand"].Actor()
	ch, _, err := a.purchase.ChainOf(ctx, atoi64(t, ids["purchase"]))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.purchase.Accept(ctx, brand, ch.Item.ID, purchase.Acceptance{SealIntact: true}, nil); err != nil {
		t.Fatal(err)
	}
	c, err := a.cases.ByReference(ctx, a.accounts["staff"].Actor(), ids["purchase_case"])
	if err != nil {
		t.Fatal(err)
	}
	in := verdict.Input{CaseVersion: c.Version, Result: "counterfeit", Outcomes: map[string]string{}, Notes: map[string]string{},
		Authenticator: "A", Summary: "fake", SignedName: "A", Confirmed: true}
	for _, item := range verdict.Items {
		in.Outcomes[item] = "pass"
	}
	in.Outcomes["packaging"] = "fail"
	if _, err := verdict.NewService(a.db, a.jobs).Submit(ctx, brand, c.ID, in, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestStaffReferACaseAndRecordTheRaid(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, _ := newPurchaseApp(t, db)
		a.startWorkers()
		ids := a.confirmed(t, "shop-police")
		ref := ids["purchase_case"]
		staff := a.as("staff")
		// The seller's second shop, linked: offered as a new case in one click.
		a.ingestNDJSON(t, flagJSON("second-1", "shop-police-2", "Other Brand", 0.3))
		var mine, second int64
		if err := db.Gorm.Raw("SELECT id FROM shops WHERE platform_shop_id = 'shop-police'").Row().Scan(&mine); err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Raw("SELECT id FROM shops WHERE platform_shop_id = 'shop-police-2'").Row().Scan(&second); err != nil {
			t.Fatal(err)
		}
		if _, err := a.shops.AddLink(context.Background(), a.accounts["staff"].ID, mine, second, "same_controller", "same payout account"); err != nil {
			t.Fatal(err)
		}
		if n := staff.get("/cases/" + ref).doc(t).Find("[data-testid=open-linked-case]").Length(); n != 1 {
			t.Fatalf("the linked shop is not offered as a case: %d", n)
		}
		if res := staff.post("/cases/"+ref+"/linked-cases", url.Values{"shop": {itoa(second)}}); res.StatusCode != http.StatusSeeOther ||
			!strings.HasPrefix(res.Header.Get("Location"), "/cases/SC-") || res.Header.Get("Location") == "/cases/"+ref {
			t.Fatalf("open the linked case: %d → %s", res.StatusCode, res.Header.Get("Location"))
		}
		if n := staff.get("/cases/" + ref).doc(t).Find("[data-testid=open-linked-case]").Length(); n != 0 {
			t.Fatalf("still offered after opening: %d", n)
		}
		page := staff.get("/cases/" + ref)
		if page.doc(t).Find("[data-testid=referral-form]").Length() != 1 {
			t.Fatalf("no referral form on a confirmed case:\n%.1000s", page.body)
		}
		c, _ := a.cases.ByReference(context.Background(), a.accounts["staff"].Actor(), ref)
		form := url.Values{"version": {itoa(int64(c.Version))}, "bureau": {"Riverside PSB"}, "district": {"North"}, "referred_on": {time.Now().UTC().Format(time.DateOnly)},
			"letter_number": {"L-1"}}
		// No bundle yet: refused with the reason, nothing moved.
		res := staff.post("/cases/"+ref+"/referral", form)
		if res.StatusCode != http.StatusConflict || !strings.Contains(res.doc(t).Find("[data-testid=form-error]").Text(), "evidence bundle") {
			t.Fatalf("refer without a bundle: %d", res.StatusCode)
		}
		// A bad date keeps what was typed.
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("referred_on", "yesterday")
		res = staff.post("/cases/"+ref+"/referral", bad)
		if v, _ := res.doc(t).Find("#f-bureau").Attr("value"); res.StatusCode != http.StatusUnprocessableEntity || v != "Riverside PSB" {
			t.Fatalf("bad date: %d, bureau kept %q", res.StatusCode, v)
		}
		// Build the bundle: a background job; the page shows it when done.
		if res := staff.post("/cases/"+ref+"/bundles", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("request a bundle: %d", res.StatusCode)
		}
		var href string
		for deadline := time.Now().Add(20 * time.Second); href == ""; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the bundle was not built:\n%s", staff.get("/cases/"+ref).doc(t).Find("[data-testid=bundles]").Text())
			}
			href, _ = staff.get("/cases/" + ref).doc(t).Find("[data-testid=bundle-done] a").Attr("href")
		}
		zipRes := staff.get(href)
		if zipRes.StatusCode != 200 || zipRes.Header.Get("Content-Type") != "application/zip" {
			t.Fatalf("download the bundle: %d %s", zipRes.StatusCode, zipRes.Header.Get("Content-Type"))
		}
		rep, err := bundle.Verify(strings.NewReader(zipRes.body), int64(len(zipRes.body)))
		if err != nil || !rep.OK() {
			t.Fatalf("the downloaded bundle does not verify: %v %v", rep, err)
		}
		if res := a.as("brand").get(href); res.StatusCode != http.StatusForbidden {
			t.Fatalf("a brand user downloads the bundle: %d", res.StatusCode)
		}
		if res := staff.post("/cases/"+ref+"/referral", form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("refer: %d\n%.600s", res.StatusCode, res.body)
		}
		if res := staff.post("/cases/"+ref+"/referral/progress", url.Values{"referral_version": {"1"}, "status": {"accepted"},
			"police_case_number": {"PSB-42"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("progress: %d", res.StatusCode)
		}
		res = staff.postFiles("/cases/"+ref+"/raids", url.Values{"raided_on": {time.Now().UTC().Format(time.DateOnly)}, "place": {"Warehouse 3"},
			"estimated_sales": {"1000"}, "line_desc_0": {"Counterfeit watches"}, "line_qty_0": {"125"}, "line_value_0": {"1200.00"},
			"line_desc_1": {"Fake seals"}, "line_qty_1": {"2"}, "line_value_1": {"10"}}, nil, true)
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("raid: %d\n%.800s", res.StatusCode, res.body)
		}
		doc := staff.get("/cases/" + ref).doc(t)
		if doc.Find("[data-testid=seizure]").Length() != 2 || doc.Find("[data-testid=threshold-reached]").Length() != 1 ||
			!strings.Contains(doc.Find("[data-testid=referral-status]").Text(), "Raided") {
			t.Fatalf("enforcement section:\n%s", doc.Find("[data-testid=enforcement]").Text())
		}
		// The civil claim to a judgment; then a payment; the ledger and the report.
		c, _ = a.cases.ByReference(context.Background(), a.accounts["staff"].Actor(), ref)
		today := time.Now().UTC().Format(time.DateOnly)
		res = staff.post("/cases/"+ref+"/claim", url.Values{"version": {itoa(int64(c.Version))}, "court": {"Riverside Court"},
			"filed_on": {today}, "basis": {"agreement"}, "amount": {"abc"}})
		if v, _ := res.doc(t).Find("#f-court").Attr("value"); res.StatusCode != http.StatusUnprocessableEntity || v != "Riverside Court" {
			t.Fatalf("bad amount: %d, court kept %q", res.StatusCode, v)
		}
		if res := staff.post("/cases/"+ref+"/claim", url.Values{"version": {itoa(int64(c.Version))}, "court": {"Riverside Court"},
			"filed_on": {today}, "basis": {"agreement"}, "amount": {"1400000"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("file claim: %d\n%.600s", res.StatusCode, res.body)
		}
		c, _ = a.cases.ByReference(context.Background(), a.accounts["staff"].Actor(), ref)
		if res := staff.post("/cases/"+ref+"/claim/outcome", url.Values{"version": {itoa(int64(c.Version))}, "outcome": {"judgment"},
			"outcome_amount": {"1400000"}, "outcome_on": {today}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("judgment: %d", res.StatusCode)
		}
		if res := staff.post("/cases/"+ref+"/claim/payments", url.Values{"payment_amount": {"250000"}, "received_on": {today}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("payment: %d", res.StatusCode)
		}
		c, _ = a.cases.ByReference(context.Background(), a.accounts["staff"].Actor(), ref)
		if c.State != "closed" || c.CloseReason != "recovered" {
			t.Fatalf("case %s/%s", c.State, c.CloseReason)
		}
		report := staff.get("/reports/recoveries")
		if !strings.Contains(report.doc(t).Find("[data-testid=collected]").Text(), "250,000.00") {
			t.Fatalf("report:\n%.1500s", report.body)
		}
		if got := a.as("brand").get("/authentications").doc(t).Find("[data-testid=brand-recovered]").Text(); !strings.Contains(got, "250,000.00") ||
			strings.Contains(got, "180.00") {
			t.Fatalf("the brand's recoveries: %q", got)
		}
		csvRes := staff.get("/reports/recoveries.csv")
		if !strings.Contains(csvRes.body, "Aurora Timepieces,180.00,0.00,150020.00,1400000.00,1400000.00,250000.00,CNY") {
			t.Fatalf("csv:\n%s", csvRes.body)
		}
		// Each step was told to the side that waits on it, linked to its own page of the case.
		a.waitForNotifications(t, "staff", "/cases/"+ref+"#verdicts", "The brand signed a verdict on case "+ref)
		for _, text := range []string{"Case " + ref + " was referred to the police", "A raid was recorded on case " + ref,
			"A judgment or settlement was recorded on case " + ref, "A payment from the seller was recorded on case " + ref} {
			a.waitForNotifications(t, "brand", "/authentications/"+ref, text)
		}
	})
}

// waitForNotifications waits (the worker writes them) until the account's
// notifications page lists text, and wants its stored link to be link.
func (a *app) waitForNotifications(t *testing.T, account, link, text string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		items := a.as(account).get("/notifications").doc(t).Find("[data-testid=notification]")
		var shown bool
		items.Each(func(_ int, s *goquery.Selection) { shown = shown || strings.Contains(s.Text(), text) })
		if shown {
			var links []string
			if err := a.db.Gorm.Table("notifications").Where("user_id = ?", a.accounts[account].ID).Pluck("link", &links).Error; err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(links, link) {
				t.Fatalf("%s was told %q, but no notification of theirs links %s: %v", account, text, link, links)
			}
			return
		}
		last = items.Text()
	}
	t.Fatalf("%s was not told %q; their notifications: %s", account, text, last)
}

func atoi64(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRefusedEnforcementFormsKeepWhatWasTyped submits bad input to each
// enforcement form through the router: the case comes back with what was
// typed, the message beside the field (a refusal of the whole form once,
// in the enforcement section) and nothing written.
func TestRefusedEnforcementFormsKeepWhatWasTyped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, _ := newPurchaseApp(t, db)
		ref := a.confirmed(t, "shop-refusals")["purchase_case"]
		staff := a.as("staff")
		ctx := context.Background()
		version := func() string {
			c, err := a.cases.ByReference(ctx, a.accounts["staff"].Actor(), ref)
			if err != nil {
				t.Fatal(err)
			}
			return itoa(int64(c.Version))
		}
		count := func(table string) int64 {
			var n int64
			if err := db.Gorm.Table(table).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		formErrors := func(doc *goquery.Document, want string) {
			t.Helper()
			errs := doc.Find("[data-testid=form-error]")
			if errs.Length() != 1 || !strings.Contains(errs.Text(), want) || errs.Closest("[data-testid=enforcement], [data-testid=claim]").Length() != 1 {
				t.Fatalf("want one message %q in the enforcement section, got %d: %q", want, errs.Length(), errs.Text())
			}
		}
		today := time.Now().UTC().Format(time.DateOnly)
		refer := url.Values{"version": {version()}, "bureau": {"Riverside PSB"}, "referred_on": {today}, "letter_number": {"L-7"}}
		// No bundle yet: the form again, as typed, with the reason.
		res := staff.post("/cases/"+ref+"/referral", refer)
		doc := res.doc(t)
		if v, _ := doc.Find("#f-letter_number").Attr("value"); res.StatusCode != http.StatusConflict || v != "L-7" {
			t.Fatalf("refer without a bundle: %d, letter kept %q", res.StatusCode, v)
		}
		formErrors(doc, "evidence bundle")
		// A stale version: one clear message about the case.
		res = staff.post("/cases/"+ref+"/claim", url.Values{"version": {"99"}, "court": {"Riverside Court"}, "filed_on": {today},
			"basis": {"agreement"}, "amount": {"1000"}})
		doc = res.doc(t)
		if v, _ := doc.Find("#f-court").Attr("value"); res.StatusCode != http.StatusConflict || v != "Riverside Court" {
			t.Fatalf("a stale claim: %d, court kept %q", res.StatusCode, v)
		}
		formErrors(doc, "This case was changed")
		if n := count("referrals") + count("claims"); n != 0 {
			t.Fatalf("%d referrals and claims after refusals", n)
		}

		c, _ := a.cases.ByReference(ctx, a.accounts["staff"].Actor(), ref)
		if err := db.Gorm.Create(&bundle.Build{CaseID: c.ID, RequestedBy: a.accounts["staff"].ID, Lang: "en", Status: "done",
			CreatedAt: time.Now().UTC()}).Error; err != nil {
			t.Fatal(err)
		}
		refer.Set("version", version())
		if res := staff.post("/cases/"+ref+"/referral", refer); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("refer: %d", res.StatusCode)
		}
		if res := staff.post("/cases/"+ref+"/referral/progress", url.Values{"referral_version": {"1"}, "status": {"accepted"},
			"police_case_number": {"PSB-1"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("progress: %d", res.StatusCode)
		}
		// A raid without a place and a seizure line without a quantity.
		res = staff.postFiles("/cases/"+ref+"/raids", url.Values{"raided_on": {today}, "line_desc_0": {"Watches"}, "line_qty_0": {"125"},
			"line_value_0": {"1200"}, "line_desc_1": {"Seals"}, "line_value_1": {"10"}}, nil, true)
		doc = res.doc(t)
		form := doc.Find("[data-testid=raid-form]")
		_, open := form.Closest("details").Attr("open")
		if desc, _ := form.Find("[name=line_desc_1]").Attr("value"); res.StatusCode != http.StatusUnprocessableEntity || !open ||
			desc != "Seals" || form.Find("[data-testid=error-place]").Length() != 1 || form.Find("[data-testid=error-line_1]").Length() != 1 ||
			form.Find("[data-testid=error-line_0]").Length() != 0 {
			t.Fatalf("refused raid: %d, form open %v, line kept %q\n%s", res.StatusCode, open, desc, form.Text())
		}
		if n := count("raids"); n != 0 {
			t.Fatalf("%d raids after a refusal", n)
		}

		if res := staff.post("/cases/"+ref+"/claim", url.Values{"version": {version()}, "court": {"Riverside Court"}, "filed_on": {today},
			"basis": {"agreement"}, "amount": {"1000"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("file claim: %d", res.StatusCode)
		}
		for _, step := range []struct {
			path, field, kept string
			form              url.Values
		}{
			{"/claim/hearings", "held_on", "note", url.Values{"held_on": {"next week"}, "note": {"first hearing"}}},
			{"/claim/payments", "payment_amount", "payment_note", url.Values{"payment_amount": {"lots"}, "received_on": {today}, "payment_note": {"wire 1"}}},
			{"/claim/outcome", "outcome_amount", "outcome_on", url.Values{"version": {version()}, "outcome": {"settlement"}, "outcome_amount": {"-"}, "outcome_on": {today}}},
		} {
			res := staff.post("/cases/"+ref+step.path, step.form)
			doc := res.doc(t)
			if v, _ := doc.Find("[name=" + step.kept + "]").Attr("value"); res.StatusCode != http.StatusUnprocessableEntity || v != step.form.Get(step.kept) ||
				doc.Find("[data-testid=error-"+step.field+"]").Length() != 1 {
				t.Fatalf("%s: %d, %s kept %q", step.path, res.StatusCode, step.kept, v)
			}
		}
		if n := count("hearings") + count("payments"); n != 0 {
			t.Fatalf("%d hearings and payments after refusals", n)
		}
		if c, _ := a.cases.ByReference(ctx, a.accounts["staff"].Actor(), ref); c.State != "litigating" {
			t.Fatalf("case %s after a refused outcome", c.State)
		}
	})
}

// TestARecoveriesPeriodThatIsNoPeriodIsShownBesideItsField: a date that
// is not one, or an end before the start, comes back as typed with the
// message beside the field, and no figures or export link.
func TestARecoveriesPeriodThatIsNoPeriodIsShownBesideItsField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		staff := newApp(t, db).as("staff")
		for _, tc := range []struct{ query, field, kept string }{
			{"from=2026-13-01&to=2026-12-31", "from", "2026-13-01"},
			{"from=2026-05-01&to=2026-04-01", "to", "2026-04-01"},
		} {
			res := staff.get("/reports/recoveries?" + tc.query)
			doc := res.doc(t)
			v, _ := doc.Find("#f-" + tc.field).Attr("value")
			if res.StatusCode != http.StatusUnprocessableEntity || v != tc.kept || doc.Find("[data-testid=error-"+tc.field+"]").Length() != 1 ||
				doc.Find("[data-testid=ledger], [data-testid=ledger-csv]").Length() != 0 {
				t.Fatalf("%s: %d, %s kept %q\n%.1500s", tc.query, res.StatusCode, tc.field, v, res.body)
			}
			if res := staff.get("/reports/recoveries.csv?" + tc.query); res.StatusCode != http.StatusBadRequest {
				t.Fatalf("csv of %s: %d", tc.query, res.StatusCode)
			}
		}
	})
}
