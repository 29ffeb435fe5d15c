package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/purchase"
	"spotcheck/internal/verdict"
)

// TestBrandUsersNeverSeeWhoBought seeds unique markers in every volunteer
// field (and in staff-only notes) and searches every response a brand user
// gets on the way from the queue to a signed verdict.
func TestBrandUsersNeverSeeWhoBought(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, _ := newPurchaseApp(t, db)
		a.startWorkers()
		ctx := context.Background()
		ids := a.seedPurchase(t, "shop-iso", purchase.Dispatched)
		vol := a.accounts["volunteer"]
		markers := []string{"MRKNAME", "mrkmail", "MRKREGION", "MRKACCOUNT", "MRKADDRESS", "MRKPHONE", "MRKPAY", "MRKCOMMENT", "MRKRECEIPT"}
		exec := func(q string, args ...any) {
			if err := db.Gorm.Exec(q, args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		exec("UPDATE users SET name = 'MRKNAME Volunteer', email = 'mrkmail@test.spotcheck.test' WHERE id = ?", vol.ID)
		exec("UPDATE volunteers SET region = 'MRKREGION' WHERE user_id = ?", vol.ID)
		exec("UPDATE personas SET platform_account = 'MRKACCOUNT', address_alias = 'MRKADDRESS', phone = 'MRKPHONE 1234', payment_instrument = 'MRKPAY 9876' WHERE volunteer_id = ?", vol.ID)
		c, err := a.cases.ByReference(ctx, a.accounts["staff"].Actor(), ids["purchase_case"])
		if err != nil {
			t.Fatal(err)
		}
		if err := a.cases.Comment(ctx, a.accounts["staff"].Actor(), c.ID, "Internal: MRKCOMMENT"); err != nil {
			t.Fatal(err)
		}
		// A staff-only file whose name carries a marker.
		staff := a.as("staff")
		if res := staff.postFiles("/cases/"+ids["purchase_case"]+"/evidence", url.Values{"kind": {"report"}}, []file{{"files", "MRKRECEIPT.png", pngBytes(t)}}, true); res.StatusCode != http.StatusNoContent {
			t.Fatalf("staff upload: %d", res.StatusCode)
		}
		brand := a.as("brand")
		var seen []string
		look := func(path string, want int) response {
			t.Helper()
			res := brand.get(path)
			if res.StatusCode != want {
				t.Fatalf("GET %s: %d, want %d\n%.500s", path, res.StatusCode, want, res.body)
			}
			for _, m := range markers {
				if strings.Contains(strings.ToLower(res.body), strings.ToLower(m)) {
					t.Errorf("GET %s shows %s", path, m)
				}
			}
			seen = append(seen, path)
			return res
		}
		queue := look("/authentications", 200)
		if !strings.Contains(queue.body, ids["purchase_case"]+"-1") || !strings.Contains(queue.body, "days left") {
			t.Fatalf("queue:\n%.800s", queue.body)
		}
		page := look("/authentications/"+ids["purchase_case"], 200)
		doc := page.doc(t)
		if !strings.Contains(doc.Find("[data-testid=custody]").Text(), "Buyer B-") {
			t.Fatal("the custody chain does not show the buyer's pseudonym")
		}
		doc.Find("[data-testid=evidence-download]").Each(func(_ int, s *goquery.Selection) {
			href, _ := s.Attr("href")
			look(href, 200)
		})
		// Accept, then sign a counterfeit verdict with a report.
		itemID := ids["item"]
		if res := brand.postFiles("/items/"+itemID+"/accept", url.Values{"seal_intact": {"on"}}, nil, true); res.StatusCode != http.StatusNoContent {
			t.Fatalf("accept: %d\n%.500s", res.StatusCode, res.body)
		}
		form := url.Values{"version": {fmt.Sprint(c.Version + 1)}, "result": {"counterfeit"}, "authenticator": {"Ada Keller"},
			"summary": {"Packaging and colour do not match."}, "signed_name": {"Ada Keller"}, "confirm": {"on"}}
		for _, item := range verdict.Items {
			form.Set("check_"+item, "pass")
		}
		form.Set("check_packaging", "fail")
		form.Set("check_colour", "fail")
		var fresh = c
		if err := db.Gorm.Take(&fresh, c.ID).Error; err != nil {
			t.Fatal(err)
		}
		form.Set("version", fmt.Sprint(fresh.Version))
		pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 100)...)
		res := brand.postFiles("/authentications/"+ids["purchase_case"]+"/verdict", form,
			[]file{{"report", "report.pdf", pdf}, {"photo_packaging", "box.png", pngBytes(t)}}, true)
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("verdict: %d\n%.1500s", res.StatusCode, res.body)
		}
		page = look("/authentications/"+ids["purchase_case"], 200)
		if got := page.doc(t).Find("[data-testid=verdict-result]").Text(); got != "Counterfeit" {
			t.Fatalf("verdict shown as %q", got)
		}
		linePhoto, ok := page.doc(t).Find("[data-testid=check-photo]").Attr("href")
		if !ok {
			t.Fatal("the packaging line's photo is not shown")
		}
		look(linePhoto, 200)
		if got := look("/authentications", 200).doc(t).Find("[data-testid=brand-overview]").Text(); !strings.Contains(got, "Confirmed") {
			t.Fatalf("brand overview %q", got)
		}
		look("/notifications", 200)
		look("/authentications/SC-1999-999999", http.StatusNotFound)
		look("/cases/"+ids["purchase_case"], http.StatusForbidden)
		if len(seen) < 6 {
			t.Fatalf("only %d responses searched", len(seen))
		}
		// Staff see the verdict on the case page — and the markers are real:
		// the staff's page shows them.
		staffPage := staff.get("/cases/" + ids["purchase_case"])
		if got := staffPage.doc(t).Find("[data-testid=verdict-failed]").Text(); !strings.Contains(got, "Packaging") {
			t.Fatalf("staff case page verdict: %q", got)
		}
		for _, m := range []string{"MRKNAME", "MRKACCOUNT", "MRKCOMMENT", "MRKRECEIPT"} {
			if !strings.Contains(staffPage.body, m) {
				t.Errorf("the staff case page does not show %s: the marker is not where the test thinks", m)
			}
		}
	})
}

func TestABrandReportsASuspectListingIntoTheInbox(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		brand := a.as("brand")
		form := url.Values{"brand": {fmt.Sprint(a.brand.ID)}, "listing_url": {"https://shop.example/item-77"}, "listing_title": {"Crystal watch"},
			"platform": {"taobao"}, "shop_id": {"shop-reported"}, "shop_name": {"Reported Shop"}, "reason": {""}}
		res := brand.post("/authentications/report", form)
		if v, _ := res.doc(t).Find("#f-shop_id").Attr("value"); res.StatusCode != http.StatusUnprocessableEntity || v != "shop-reported" {
			t.Fatalf("no reason: %d, shop id kept %q", res.StatusCode, v)
		}
		other := url.Values{}
		for k, v := range form {
			other[k] = v
		}
		other.Set("reason", "logo misspelt")
		other.Set("brand", fmt.Sprint(a.other.ID)) // not this user's brand
		if res := brand.post("/authentications/report", other); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("another brand: %d", res.StatusCode)
		}
		// What the ingestion refuses comes back beside the form's own field.
		for field, bad := range map[string]string{"listing_url": "javascript:alert(1)", "shop_id": " "} {
			other := url.Values{}
			for k, v := range form {
				other[k] = v
			}
			other.Set("reason", "logo misspelt")
			other.Set(field, bad)
			res := brand.post("/authentications/report", other)
			doc := res.doc(t)
			if res.StatusCode != http.StatusUnprocessableEntity || doc.Find("#e-"+field).Length() != 1 {
				t.Fatalf("bad %s: %d\n%.800s", field, res.StatusCode, res.body)
			}
			if v, _ := doc.Find("#f-listing_title").Attr("value"); v != "Crystal watch" {
				t.Fatalf("bad %s: listing title kept as %q", field, v)
			}
		}
		var n int64
		if err := db.Gorm.Table("flags").Count(&n).Error; err != nil || n != 0 {
			t.Fatalf("%d flags after refused reports (%v)", n, err)
		}
		form.Set("reason", "logo misspelt, price a tenth of ours")
		if res := brand.post("/authentications/report", form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("report: %d\n%.600s", res.StatusCode, res.body)
		}
		inbox := a.as("staff").get("/flags")
		if !strings.Contains(inbox.body, "brand report: logo misspelt, price a tenth of ours") || !strings.Contains(inbox.body, "Crystal watch") {
			t.Fatalf("the staff's inbox:\n%.1500s", inbox.body)
		}
		var source string
		if err := db.Gorm.Raw("SELECT source FROM flags").Row().Scan(&source); err != nil {
			t.Fatal(err)
		}
		if source != "brand" {
			t.Fatalf("source %q", source)
		}
	})
}

func TestABrandsReportLeavesAKnownShopsNameAsItWas(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		a.ingestNDJSON(t, flagJSON("known-1", "shop-known", "Aurora Timepieces", 0.3))
		form := url.Values{"brand": {fmt.Sprint(a.brand.ID)}, "listing_url": {"https://shop.example/item-78"}, "listing_title": {"Crystal watch"},
			"platform": {"taobao"}, "shop_id": {"shop-known"}, "shop_name": {"Renamed By A Brand"}, "reason": {"logo misspelt"}}
		if res := a.as("brand").post("/authentications/report", form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("report: %d\n%.600s", res.StatusCode, res.body)
		}
		var name string
		if err := db.Gorm.Raw("SELECT name FROM shops WHERE platform_shop_id = 'shop-known'").Row().Scan(&name); err != nil {
			t.Fatal(err)
		}
		if name != "Star Watch shop-known" {
			t.Fatalf("the shop is now called %q", name)
		}
		var n int64
		if err := db.Gorm.Table("flags").Where("source = 'brand'").Count(&n).Error; err != nil || n != 1 {
			t.Fatalf("%d brand flags (%v)", n, err)
		}
	})
}

// TestTheBrandHomeShowsItsOwnFigures loads the demo and reads the brand
// user's home: its verdicts per month equal its verdict rows, its steps
// past due and its verdicts of the 12 weeks equal the steps' rows, and
// nothing of what the platform spent is shown.
func TestTheBrandHomeShowsItsOwnFigures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		a.loadDemo(t)
		aurora, err := a.brands.ByName(t.Context(), "Aurora Timepieces")
		if err != nil {
			t.Fatal(err)
		}
		res := a.asDemo("brand@demo.spotcheck.test", "en").get("/authentications")
		d := res.doc(t)
		scalar := func(q string, args ...any) int64 { return scalarOf(t, db, q, args...) }
		now := db.Now()
		if want := scalar(`SELECT count(*) FROM deadlines WHERE done_at IS NULL AND party = 'brand' AND party_id = ? AND due_at < ?`, aurora.ID, now); d.Find("[data-testid=brand-overdue]").Text() != strconv.FormatInt(want, 10) {
			t.Errorf("steps past due %q, the rows %d", d.Find("[data-testid=brand-overdue]").Text(), want)
		}
		verdicts := scalar(`SELECT count(*) FROM deadlines WHERE brand_id = ? AND kind = 'verdict' AND done_at IS NOT NULL AND done_at >= ?`, aurora.ID, now.AddDate(0, 0, -84))
		if got := d.Find("[data-testid=brand-turnaround]").Text(); verdicts == 0 || !strings.Contains(got, "median of "+strconv.FormatInt(verdicts, 10)+")") {
			t.Errorf("turnaround %q, the verdict steps of the 12 weeks %d", got, verdicts)
		}
		today := clock.DateOf(now, a.zone)
		for i := range 6 {
			m := time.Date(today.Year, today.Month-time.Month(5-i), 1, 0, 0, 0, 0, a.zone)
			want := scalar(`SELECT count(*) FROM verdicts WHERE brand_id = ? AND signed_at >= ? AND signed_at < ?`, aurora.ID, m.UTC(), m.AddDate(0, 1, 0).UTC())
			if got := d.Find("[data-testid=brand-table] [data-testid='dashboard.verdicts-" + strconv.Itoa(i) + "']").Text(); got != strconv.FormatInt(want, 10) {
				t.Errorf("verdicts in %s: %q, the rows %d", m.Format("2006-01"), got, want)
			}
		}
		for _, never := range []string{"Test-purchase spend", "Test-purchase fees"} {
			if strings.Contains(res.body, never) {
				t.Errorf("the brand home shows %q", never)
			}
		}
	})
}
