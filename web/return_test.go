package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/purchase"
	"spotcheck/internal/user"
)

// cancelThroughTheCasePage cancels the case's purchase as staff do.
func (a *app) cancelThroughTheCasePage(t *testing.T, ref string) {
	t.Helper()
	c, err := a.cases.ByReference(context.Background(), a.accounts["staff"].Actor(), ref)
	if err != nil {
		t.Fatal(err)
	}
	res := a.as("staff").post("/cases/"+ref+"/purchase/cancel", url.Values{"version": {strconv.Itoa(c.Version)}, "reason": {"the seller closed the shop"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d\n%.800s", res.StatusCode, res.body)
	}
}

func TestACancelledPurchasesItemIsReturnedFromTheAssignmentPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, _ := newPurchaseApp(t, db)
		ids := a.seedPurchase(t, "shop-ret", purchase.Received)
		ref, item := ids["purchase_case"], ids["purchase_case"]+"-1"
		vol, staff := a.as("volunteer"), a.as("staff")
		base := "/assignments/" + ids["purchase"]
		// A live purchase: the dispatch step, no return.
		if d := vol.get(base).doc(t); d.Find("[data-testid=return-form]").Length() != 0 || d.Find("[data-testid=dispatch-form]").Length() != 1 {
			t.Fatal("a live purchase offers a return, or no dispatch")
		}
		a.cancelThroughTheCasePage(t, ref)

		// Staff see the item is still out; the volunteer is offered the
		// return to staff, and only to staff.
		waiting := staff.get("/cases/" + ref).doc(t).Find("[data-testid=awaiting-return]").Text()
		if !strings.Contains(waiting, "Item "+item+" is still with Buyer B-") || !strings.Contains(waiting, "waiting for its return") {
			t.Fatalf("the case page says %q", waiting)
		}
		d := vol.get(base).doc(t)
		form := d.Find("[data-testid=return-form]")
		if form.Length() != 1 || d.Find("[data-testid=dispatch-form]").Length() != 0 || form.Find(`input[value="brand"]`).Length() != 0 {
			t.Fatalf("the assignment page of a cancelled purchase:\n%s", d.Find("main").Text())
		}

		// Another volunteer cannot return it.
		other, err := a.users.Create(context.Background(), user.New{Email: "v4@test.spotcheck.test", Name: "V4", Role: "volunteer", Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		oc := a.client()
		oc.signIn(other.Email, testPassword)
		if res := oc.postFiles(base+"/return", url.Values{"version": {"4"}, "method": {"hand"}}, nil, true); res.StatusCode != http.StatusNotFound {
			t.Fatalf("another volunteer returns it: %d", res.StatusCode)
		}

		// Refused: what was typed is kept, the message beside the field,
		// nothing written.
		p, _ := a.purchase.Get(context.Background(), a.accounts["staff"].Actor(), atoi64(t, ids["purchase"]))
		fields := url.Values{"version": {strconv.Itoa(p.Version)}, "method": {"courier"}, "carrier": {"SF Express"}, "seal": {"SEAL-R"},
			"condition": {"as delivered"}}
		res := vol.postFiles(base+"/return", fields, []file{{"item_photo", "i.png", pngBytes(t)}}, true)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("courier without tracking: %d\n%.800s", res.StatusCode, res.body)
		}
		form = res.doc(t).Find("[data-testid=return-form]")
		carrier, _ := form.Find(`input[name="carrier"]`).Attr("value")
		seal, _ := form.Find(`input[name="seal"]`).Attr("value")
		courier := form.Find(`input[name="method"][value="courier"][checked]`).Length()
		if carrier != "SF Express" || seal != "SEAL-R" || courier != 1 ||
			!strings.Contains(form.Find("[data-testid=error-tracking]").Text(), "carrier and the tracking number") {
			t.Fatalf("the refused return:\n%s", form.Text())
		}
		var links, photos int64
		if err := db.Gorm.Table("custody_events").Count(&links).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Table("evidence").Where("purchase_id = ? AND kind = 'item_photo'", ids["purchase"]).Count(&photos).Error; err != nil {
			t.Fatal(err)
		}
		if links != 1 || photos != 1 { // the delivery's receipt from the seller and item photo
			t.Fatalf("after refusal: %d links, %d item photos", links, photos)
		}

		fields.Set("tracking", "SF-R1")
		if res := vol.postFiles(base+"/return", fields, []file{{"item_photo", "i.png", pngBytes(t)}}, true); res.StatusCode != http.StatusNoContent ||
			res.Header.Get("HX-Redirect") != base {
			t.Fatalf("return: %d %v\n%.800s", res.StatusCode, res.Header, res.body)
		}
		if d := vol.get(base).doc(t); d.Find("[data-testid=return-form]").Length() != 0 || d.Find("[data-testid=returned]").Length() != 1 {
			t.Fatal("the return is still offered once the item is on its way")
		}

		// Staff accept it on the case page; the reimbursement can then be
		// approved and paid.
		cp := staff.get("/cases/" + ref).doc(t)
		if cp.Find("[data-testid=awaiting-return]").Length() != 0 || cp.Find("[data-testid=accept-form]").Length() != 1 {
			t.Fatal("the case page does not offer to accept the returned item")
		}
		if res := staff.postFiles("/items/"+ids["item"]+"/accept", url.Values{"seal_intact": {"on"}}, nil, false); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("accept: %d\n%.800s", res.StatusCode, res.body)
		}
		for _, step := range []string{"approve", "paid"} {
			if res := staff.post("/reimbursements/"+ids["reimbursement"]+"/"+step, nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: %d", step, res.StatusCode)
			}
		}
		var r purchase.Reimbursement
		if err := db.Gorm.Take(&r, ids["reimbursement"]).Error; err != nil {
			t.Fatal(err)
		}
		if r.Status != purchase.ReimbursementPaid {
			t.Fatalf("reimbursement %s", r.Status)
		}
		// The brand never sees it.
		if res := a.as("brand").get("/authentications"); strings.Contains(res.body, item) {
			t.Fatal("the brand's queue lists a cancelled purchase's item")
		}
		if res := a.as("brand").get("/authentications/" + ref); res.StatusCode != http.StatusNotFound {
			t.Fatalf("the brand opens the case: %d", res.StatusCode)
		}
	})
}

func TestAPurchaseCancelledBeforeDeliveryIsSettledOnItsRefund(t *testing.T) {
	a, _ := newPurchaseApp(t, dbtest.SQLite(t))
	ids := a.seedPurchase(t, "shop-noret", purchase.Ordered)
	a.cancelThroughTheCasePage(t, ids["purchase_case"])
	if n := a.as("volunteer").get("/assignments/" + ids["purchase"]).doc(t).Find("[data-testid=return-form]").Length(); n != 0 {
		t.Fatal("a return is offered without an item")
	}
	staff := a.as("staff")
	d := staff.get("/cases/" + ids["purchase_case"]).doc(t)
	if n := d.Find("[data-testid=awaiting-return]").Length(); n != 0 {
		t.Fatal("staff wait for an item that was never delivered")
	}

	// Its reimbursement is approved on the refund the buyer got back:
	// the form asks for it, a missing figure is refused with the reason,
	// and the volunteer sees what is left to pay.
	if d.Find("[data-testid=approve-reimbursement] input[name=refunded][required]").Length() != 1 {
		t.Fatalf("the approval asks for no refund:\n%s", d.Find("[data-testid=reimbursement]").Text())
	}
	approve := "/reimbursements/" + ids["reimbursement"] + "/approve"
	if res := staff.post(approve, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve without the refund: %d", res.StatusCode)
	}
	if msg := staff.get("/cases/" + ids["purchase_case"]).doc(t).Find(".flash.error").Text(); !strings.Contains(msg, "refunded to the buyer") {
		t.Fatalf("flash %q", msg)
	}
	var r purchase.Reimbursement
	if err := a.db.Gorm.Take(&r, ids["reimbursement"]).Error; err != nil || r.Status != purchase.ReimbursementNew {
		t.Fatalf("a refused approval wrote: %+v %v", r, err)
	}
	if res := staff.post(approve, url.Values{"refunded": {"150.00"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", res.StatusCode)
	}
	if err := a.db.Gorm.Take(&r, ids["reimbursement"]).Error; err != nil || r.Status != purchase.ReimbursementApproved || r.Total() != 3000 {
		t.Fatalf("approved %+v %v, want 30.00 owed", r, err)
	}
	// The case's costs count what the purchase cost after the refund.
	if spend := staff.get("/cases/" + ids["purchase_case"]).doc(t).Find("[data-testid=ledger-row] td").First().Text(); !strings.Contains(spend, "30.00") {
		t.Fatalf("the case ledger's spend reads %q, want 30.00", spend)
	}
	if line := a.as("volunteer").get("/reimbursements").doc(t).Find("[data-testid=reimbursement]").Text(); !strings.Contains(line, "30.00") ||
		!strings.Contains(line, "refunded") || !strings.Contains(line, "150.00") {
		t.Fatalf("the volunteer's reimbursement: %q", line)
	}
}
