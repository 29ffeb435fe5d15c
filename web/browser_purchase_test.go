package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/purchase"
)

// TestBrowserVolunteerRecordsOrderDeliveryAndDispatchOnAPhone walks a
// volunteer through the three steps of a test purchase on a phone-sized
// window: typing, picking photos (the file inputs the phone's camera
// fills), sending them with htmx, landing on the next step each time.
func TestBrowserVolunteerRecordsOrderDeliveryAndDispatchOnAPhone(t *testing.T) {
	b := newBrowser(t, phone)
	a := newApp(t, dbtest.SQLite(t))
	b.serve(a)
	ids := a.seedPurchase(t, "phone-shop", purchase.Assigned)
	photo := filepath.Join(t.TempDir(), "photo.png")
	if err := os.WriteFile(photo, pngBytes(t), 0o600); err != nil {
		t.Fatal(err)
	}

	if res := b.signIn("volunteer@test.spotcheck.test", testPassword); res.Status != 200 {
		t.Fatalf("sign-in: %d", res.Status)
	}
	if res := b.submit("[data-testid=assignment-link]"); res.Status != 200 || b.path() != "/assignments/"+ids["purchase"] {
		t.Fatalf("open the assignment: %d at %s", res.Status, b.path())
	}
	fits := func(step string) {
		t.Helper()
		wide := get(b, "measure the page", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
		if wide {
			t.Fatalf("%s: the page is wider than the phone", step)
		}
	}
	fits("assignment")
	if got := b.text("[data-testid=ship-to]"); got != "Brand office" {
		t.Fatalf("ship to %q", got)
	}
	setDate := func(sel string) {
		b.do("set "+sel, chromedp.SetValue(chromedp.CSS(sel), time.Now().UTC().Format(time.DateOnly)))
	}
	// The camera inputs ask for the phone's camera but take any image.
	if capture := get(b, "read capture", chromedp.Evaluate[string](`document.querySelector("#f-receipt").getAttribute("capture") ?? "none"`)); capture != "none" {
		t.Fatalf("the receipt input opens the camera only (%q)", capture)
	}

	// 1 · The order, with its receipt.
	b.typeInto("#f-order_number", "TB-20261126")
	b.typeInto("#f-amount_paid", "179.00")
	setDate("#f-order_date")
	b.do("pick the receipt", chromedp.SetUploadFiles(chromedp.CSS("#f-receipt"), []string{photo}))
	b.do("send the order", chromedp.Click(chromedp.CSS("[data-testid=order-form] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=delivery-form]")))
	fits("delivery")

	// 2 · The delivery: a photo of the sealed parcel is required.
	setDate("#f-delivered_on")
	b.typeInto("#f-seal_number", "SEAL-0042")
	b.do("send without a photo", chromedp.Click(chromedp.CSS("[data-testid=delivery-form] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=error-parcel_photo]")))
	if got := b.value("#f-seal_number"); got != "SEAL-0042" {
		t.Fatalf("the seal number typed was lost: %q", got)
	}
	if capture := get(b, "read capture", chromedp.Evaluate[string](`document.querySelector("#f-parcel_photo").getAttribute("capture") ?? ""`)); capture != "environment" {
		t.Fatalf("the parcel photo input does not offer the camera (%q)", capture)
	}
	b.do("pick the parcel photo", chromedp.SetUploadFiles(chromedp.CSS("#f-parcel_photo"), []string{photo}))
	b.do("send the delivery", chromedp.Click(chromedp.CSS("[data-testid=delivery-form] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=dispatch-form]")))

	// 3 · The dispatch to the brand.
	b.typeInto("[data-testid=dispatch-form] #f-carrier", "SF Express")
	b.typeInto("[data-testid=dispatch-form] #f-tracking", "SF1234567890")
	b.do("send the dispatch", chromedp.Click(chromedp.CSS("[data-testid=dispatch-form] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=dispatched]")))
	if got := b.text("[data-testid=purchase-status]"); got != "Dispatched" {
		t.Fatalf("status %q", got)
	}
	if got := b.text("[data-testid=custody]"); !strings.Contains(got, "handed the item to Aurora Timepieces") {
		t.Fatalf("custody timeline %q", got)
	}
	if n := get(b, "count thumbnails", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=thumbnail]").length`)); n != 2 {
		t.Fatalf("%d thumbnails, want the receipt and the parcel photo", n)
	}
	fits("dispatched")
	b.screenshot("volunteer-phone.png")
	c, err := a.cases.ByReference(t.Context(), a.accounts["staff"].Actor(), ids["purchase_case"])
	if err != nil || c.State != "authenticating" {
		t.Fatalf("case %s: %v", c.State, err)
	}
}
