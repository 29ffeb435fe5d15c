package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

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
		db.Gorm.Table("purchases").Count(&n)
		if c, _ := a.cases.ByReference(context.Background(), a.accounts["staff"].Actor(), ref); n != 0 || c.State != "flagged" {
			t.Fatalf("%d purchases, case %s after refusals", n, c.State)
		}
		// A stale case version: a clear conflict, not a 500.
		form.Set("due_on", time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly))
		form.Set("version", "99")
		if res := staff.post("/cases/"+ref+"/purchase", form); res.StatusCode != http.StatusConflict ||
			res.doc(t).Find("[data-testid=form-error]").Length() != 1 {
			t.Fatalf("a stale version: %d", res.StatusCode)
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
		db.Gorm.Table("verdicts").Count(&n)
		if n != 0 {
			t.Fatalf("%d verdicts after a refusal", n)
		}
	})
}
