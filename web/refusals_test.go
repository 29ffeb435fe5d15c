package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/purchase"
	"spotcheck/internal/verdict"
)

// The bad-input paths of the purchase order, the brand's acceptance and
// the verdict: each answers with the form again, what was typed kept and
// the message beside the field, and nothing written.

func TestARefusedPurchaseOrderKeepsWhatWasTyped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		a.ingestNDJSON(t, flagJSON("o-1", "shop-order", "Aurora Timepieces", 0.95))
		ref := caseRef(t, a)
		staff := a.as("staff")
		persona, err := a.purchase.AddPersona(context.Background(), a.accounts["staff"].Actor(), a.accounts["volunteer"].ID,
			purchase.NewPersona{PlatformAccount: "tb_owl", AddressAlias: "Locker 1", Phone: "+86 1", PaymentInstrument: "card 1"})
		if err != nil {
			t.Fatal(err)
		}
		buyer := fmt.Sprintf("%d:%d", a.accounts["volunteer"].ID, persona.ID)
		form := url.Values{"version": {"1"}, "buyer": {buyer}, "budget": {"a lot"}, "currency": {"CNY"},
			"due_on": {time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)}, "ship_to": {"Brand office, 88 Example Road"},
			"instructions": {"Buy the blue one"}}
		res := staff.post("/cases/"+ref+"/purchase", form)
		doc := res.doc(t)
		budget, _ := doc.Find("#f-budget").Attr("value")
		_, checked := doc.Find(`input[name=buyer][value="` + buyer + `"]`).Attr("checked")
		if res.StatusCode != http.StatusUnprocessableEntity || budget != "a lot" || doc.Find("[data-testid=error-budget]").Length() != 1 ||
			!strings.Contains(doc.Find("#f-ship_to").Text(), "88 Example Road") || !strings.Contains(doc.Find("#f-instructions").Text(), "blue one") ||
			!checked {
			t.Fatalf("refused order: %d, budget %q, buyer checked %v\n%.1200s", res.StatusCode, budget, checked, res.body)
		}
		// A date in the past is refused too; nothing was written either time.
		form.Set("budget", "199.00")
		form.Set("due_on", "2001-01-01")
		if res := staff.post("/cases/"+ref+"/purchase", form); res.StatusCode != http.StatusUnprocessableEntity ||
			res.doc(t).Find("[data-testid=error-due_on]").Length() != 1 {
			t.Fatalf("a due date in the past: %d", res.StatusCode)
		}
		var n int64
		if err := db.Gorm.Table("purchases").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if c, _ := a.cases.ByReference(context.Background(), a.accounts["staff"].Actor(), ref); n != 0 || c.State != "flagged" {
			t.Fatalf("%d purchases, case %s after refusals", n, c.State)
		}
		// A stale case version: a clear conflict, not a 500.
		form.Set("due_on", time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly))
		form.Set("version", "99")
		// The case moved on, not a purchase: the message says so.
		if res := staff.post("/cases/"+ref+"/purchase", form); res.StatusCode != http.StatusConflict ||
			!strings.Contains(res.doc(t).Find("[data-testid=form-error]").Text(), "This case was changed by someone else") {
			t.Fatalf("a stale version: %d\n%.1500s", res.StatusCode, res.body)
		}
	})
}

func TestARefusedAcceptanceAndVerdictKeepWhatWasTyped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, _ := newPurchaseApp(t, db)
		ids := a.seedPurchase(t, "shop-refuse", purchase.Dispatched)
		brand := a.as("brand")
		// A broken seal needs the item's condition described.
		res := brand.postFiles("/items/"+ids["item"]+"/accept", url.Values{"place": {"Front desk"}}, nil, true)
		if place, _ := res.doc(t).Find("[data-testid=accept-form] #f-place").Attr("value"); res.StatusCode != http.StatusUnprocessableEntity ||
			place != "Front desk" || res.doc(t).Find("[data-testid=error-condition]").Length() != 1 {
			t.Fatalf("accept with a broken seal and no condition: %d, place %q\n%.800s", res.StatusCode, place, res.body)
		}
		if res := brand.postFiles("/items/"+ids["item"]+"/accept", url.Values{"seal_intact": {"on"}}, nil, true); res.StatusCode != http.StatusNoContent {
			t.Fatalf("accept: %d", res.StatusCode)
		}
		c, _ := a.cases.ByReference(context.Background(), a.accounts["staff"].Actor(), ids["purchase_case"])
		form := url.Values{"version": {fmt.Sprint(c.Version)}, "result": {"counterfeit"}, "authenticator": {"Ada Keller"},
			"summary": {"Box print differs"}, "signed_name": {"Ada Keller"}, "note_colour": {"crystals too blue"}}
		for _, item := range verdict.Items {
			form.Set("check_"+item, "pass") // counterfeit with nothing failed, and unsigned
		}
		res = brand.postFiles("/authentications/"+ids["purchase_case"]+"/verdict", form, nil, true)
		doc := res.doc(t)
		note, _ := doc.Find(`input[name=note_colour]`).Attr("value")
		author, _ := doc.Find("#f-authenticator").Attr("value")
		_, counterfeit := doc.Find("[data-testid=result-counterfeit]").Attr("checked")
		if res.StatusCode != http.StatusUnprocessableEntity || note != "crystals too blue" || author != "Ada Keller" || !counterfeit ||
			doc.Find("[data-testid=error-result]").Length() != 1 || doc.Find("[data-testid=error-signed_name]").Length() != 1 {
			t.Fatalf("refused verdict: %d, note %q, authenticator %q\n%.1500s", res.StatusCode, note, author, res.body)
		}
		// A stale version (a colleague signed first): one message about the case.
		form.Set("check_colour", "fail")
		form.Set("confirm", "on")
		form.Set("version", "99")
		res = brand.postFiles("/authentications/"+ids["purchase_case"]+"/verdict", form, nil, true)
		doc = res.doc(t)
		note, _ = doc.Find(`input[name=note_colour]`).Attr("value")
		if msg := doc.Find("[data-testid=form-error]"); res.StatusCode != http.StatusConflict || note != "crystals too blue" ||
			msg.Length() != 1 || !strings.Contains(msg.Text(), "This case was changed") {
			t.Fatalf("stale verdict: %d, note %q, message %q", res.StatusCode, note, msg.Text())
		}
		var n int64
		if err := db.Gorm.Table("verdicts").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d verdicts after a refusal", n)
		}
	})
}

// testids lists the data-testid of what matches sel.
func testids(r response, t *testing.T, sel string) []string {
	t.Helper()
	var out []string
	r.doc(t).Find(sel).Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-testid")
		out = append(out, id)
	})
	sort.Strings(out)
	return out
}

func TestRefusedVolunteerStepsKeepWhatWasTypedAndWriteNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, dir := newPurchaseApp(t, db)
		vol := a.as("volunteer")
		rows := func(table, purchaseID string) (n int64) {
			if err := db.Gorm.Table(table).Where("purchase_id = ?", purchaseID).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		check := func(name string, res response, wantErrs []string, kept map[string]string) {
			t.Helper()
			if got := testids(res, t, "[data-testid^=error-]"); res.StatusCode != http.StatusUnprocessableEntity ||
				strings.Join(got, " ") != strings.Join(wantErrs, " ") {
				t.Fatalf("%s: %d, messages %v, want %v\n%.1200s", name, res.StatusCode, got, wantErrs, res.body)
			}
			for id, want := range kept {
				if v, _ := res.doc(t).Find("#" + id).Attr("value"); v != want {
					t.Errorf("%s: %s kept as %q, want %q", name, id, v, want)
				}
			}
		}

		// The order: every bad field at once; the screenshot sent with it is not kept.
		ids := a.seedPurchase(t, "shop-step-order", purchase.Assigned)
		before := blobFiles(t, dir)
		res := vol.postFiles("/assignments/"+ids["purchase"]+"/order", url.Values{"version": {"1"}, "order_number": {"TB-9"},
			"amount_paid": {"lots"}, "fee": {"x"}, "order_date": {"2999-01-01"}}, []file{{"screenshot", "s.png", pngBytes(t)}}, true)
		check("order", res, []string{"error-amount_paid", "error-fee", "error-order_date", "error-receipt"},
			map[string]string{"f-order_number": "TB-9", "f-amount_paid": "lots", "f-fee": "x", "f-order_date": "2999-01-01"})
		if after := blobFiles(t, dir); len(after) != len(before) || rows("evidence", ids["purchase"]) != 0 ||
			rows("reimbursements", ids["purchase"]) != 0 {
			t.Fatalf("a refused order left files %v → %v, or rows", before, after)
		}

		// The delivery: no date, no seal, no photo; the carrier typed is kept.
		ids = a.seedPurchase(t, "shop-step-delivery", purchase.Ordered)
		res = vol.postFiles("/assignments/"+ids["purchase"]+"/delivery", url.Values{"version": {"2"}, "delivered_on": {""},
			"seal_number": {" "}, "carrier": {"SF"}, "tracking": {"SF-1"}}, nil, true)
		check("delivery", res, []string{"error-delivered_on", "error-parcel_photo", "error-seal_number"},
			map[string]string{"f-carrier": "SF", "f-tracking": "SF-1"})
		if n := rows("items", ids["purchase"]); n != 0 {
			t.Fatalf("a refused delivery numbered %d items", n)
		}

		// The dispatch: neither carrier nor tracking; both are said at once.
		ids = a.seedPurchase(t, "shop-step-dispatch", purchase.Received)
		res = vol.postFiles("/assignments/"+ids["purchase"]+"/dispatch", url.Values{"version": {"3"}, "to": {"staff"},
			"carrier": {""}, "tracking": {""}, "seal": {"S-77"}}, nil, true)
		check("dispatch", res, []string{"error-carrier", "error-tracking"}, map[string]string{"f-seal": "S-77"})
		if _, staff := res.doc(t).Find(`input[name=to][value=staff]`).Attr("checked"); !staff {
			t.Error("dispatch: the chosen receiver is not kept")
		}
		var events int64
		if err := db.Gorm.Table("custody_events").Where("item_id = ? AND step = 'release'", ids["item"]).Count(&events).Error; err != nil {
			t.Fatal(err)
		}
		if p, _ := a.purchase.Get(context.Background(), a.accounts["staff"].Actor(), atoi64(t, ids["purchase"])); events != 0 ||
			p.Status != purchase.Received {
			t.Fatalf("a refused dispatch: %d releases, purchase %s", events, p.Status)
		}
	})
}

func TestARefusedReleaseKeepsWhatWasTyped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, _ := newPurchaseApp(t, db)
		ids := a.seedPurchase(t, "shop-release", purchase.Received)
		staff := a.as("staff")
		if res := a.as("volunteer").postFiles("/assignments/"+ids["purchase"]+"/dispatch", url.Values{"version": {"3"}, "to": {"staff"},
			"carrier": {"SF"}, "tracking": {"SF-1"}}, nil, true); res.StatusCode != http.StatusNoContent {
			t.Fatalf("dispatch to staff: %d", res.StatusCode)
		}
		if res := staff.postFiles("/items/"+ids["item"]+"/accept", url.Values{"seal_intact": {"on"}}, nil, true); res.StatusCode != http.StatusNoContent {
			t.Fatalf("staff accept: %d", res.StatusCode)
		}
		seq := func() (n int) {
			if err := db.Gorm.Raw("SELECT custody_seq FROM items WHERE id = ?", ids["item"]).Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		held := seq()
		// By courier, without a tracking number.
		res := staff.post("/items/"+ids["item"]+"/release", url.Values{"to": {"police"}, "method": {"courier"}, "carrier": {"EMS"},
			"seal": {"S-5"}, "place": {"Evidence room"}})
		form := res.doc(t).Find("[data-testid=release-form]")
		_, police := form.Find("input[name=to][value=police]").Attr("checked")
		carrier, _ := form.Find("#f-carrier").Attr("value")
		place, _ := form.Find("#f-place").Attr("value")
		if res.StatusCode != http.StatusUnprocessableEntity || form.Find("[data-testid=error-tracking]").Length() != 1 ||
			!police || carrier != "EMS" || place != "Evidence room" {
			t.Fatalf("a release without tracking: %d, police %v, carrier %q, place %q\n%.1500s", res.StatusCode, police, carrier, place, res.body)
		}
		if seq() != held {
			t.Fatalf("a refused release moved the chain from %d to %d", held, seq())
		}
	})
}
