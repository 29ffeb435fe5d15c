package web_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/purchase"
	"spotcheck/internal/verdict"
)

// TestBrowserACaseTravelsTheWholeRoad walks one case from a flag to a
// closed, recovered claim in one browser, each role in a tab of its own:
// staff order a test purchase, the volunteer buys, receives and sends the
// item to the brand, the brand (in Chinese) logs it in and signs a
// counterfeit verdict, and staff (in English) build the evidence bundle,
// refer the case to the police, record the raid, file the claim, record
// the judgment and the payment that closes the case.
func TestBrowserACaseTravelsTheWholeRoad(t *testing.T) {
	b := newBrowser(t, desktop)
	a, _ := newPurchaseApp(t, dbtest.SQLite(t))
	a.startWorkers() // bundles and notifications are background jobs
	b.serve(a)
	ctx := t.Context()
	start := time.Now()

	if _, err := a.purchase.AddPersona(ctx, a.accounts["staff"].Actor(), a.accounts["volunteer"].ID, purchase.NewPersona{
		PlatformAccount: "buyer-road", AddressAlias: "Locker 12", Phone: "+86 138 0000 5678", PaymentInstrument: "card 6222 0000 0000 8765"}); err != nil {
		t.Fatal(err)
	}
	if res := a.ingestNDJSON(t, flagJSON("road-1", "road-shop", "Aurora Timepieces", 0.95)); res.CasesOpened != 1 {
		t.Fatalf("ingest: %+v", res)
	}
	var ref string
	if err := a.db.Gorm.Raw("SELECT reference FROM cases WHERE shop_id = (SELECT id FROM shops WHERE platform_shop_id = 'road-shop')").Row().Scan(&ref); err != nil || ref == "" {
		t.Fatalf("the flag opened no case: %q %v", ref, err)
	}
	photo := filepath.Join(t.TempDir(), "photo.png")
	if err := os.WriteFile(photo, pngBytes(t), 0o600); err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	setDate := func(tab *browser, sel string) {
		t.Helper()
		tab.do("set "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), today))
	}
	click := func(tab *browser, sel string) {
		t.Helper()
		tab.do("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
	}
	// sendUpload clicks the submit button of an htmx upload form and waits
	// for what the page shows next.
	sendUpload := func(tab *browser, form, next string) {
		t.Helper()
		tab.do("send "+form+" and wait for "+next,
			chromedp.Click(chromedp.CSS(form+" button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS(next)))
	}
	present := func(tab *browser, sel string) bool {
		t.Helper()
		return get(tab, "look for "+sel, chromedp.Evaluate[bool](`document.querySelector(`+strconv.Quote(sel)+`) !== null`))
	}
	caseState := func(tab *browser) string {
		t.Helper()
		return tab.text("hgroup [data-testid=case-state]")
	}
	lap := func(what string) { t.Logf("%-32s %v", what, time.Since(start).Round(time.Millisecond)) }

	// 1 · Staff, in English, order a test purchase from the seeded volunteer.
	staff := b.newTab(t)
	if res := staff.signIn("staff@test.spotcheck.test", testPassword); res.Status != 200 {
		t.Fatalf("staff sign-in: %d", res.Status)
	}
	staff.open("/cases/" + ref)
	if got := staff.text("[data-testid=case-title]"); got != ref {
		t.Fatalf("case page titled %q, want %q", got, ref)
	}
	if res := staff.submit("[data-testid=action-order_purchase]"); res.Status != 200 || staff.path() != "/cases/"+ref+"/purchase/new" {
		t.Fatalf("order a purchase: %d at %s", res.Status, staff.path())
	}
	click(staff, "[data-testid=buyer-option]")
	staff.typeInto("#f-budget", "200.00")
	if got := staff.value("#f-currency"); got != "CNY" {
		t.Fatalf("currency defaults to %q, want CNY", got)
	}
	staff.do("set the due date", chromedp.SetValue(chromedp.CSS("#f-due_on"), time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)))
	staff.typeInto("#f-ship_to", "Brand office")
	staff.typeInto("#f-instructions", "Buy the cheapest crystal watch; keep the parcel sealed.")
	if res := staff.submit("[data-testid=order-form] button[type=submit]"); res.Status != 200 || staff.path() != "/cases/"+ref {
		t.Fatalf("send the order: %d at %s", res.Status, staff.path())
	}
	if got := caseState(staff); got != "Test purchase" {
		t.Fatalf("state after ordering %q, want Test purchase", got)
	}
	if got := staff.text("[data-testid=purchase-status]"); got != "Assigned" {
		t.Fatalf("purchase status %q", got)
	}
	lap("staff ordered the purchase")

	// 2 · The volunteer, in English: order, delivery, dispatch to the brand.
	vol := b.newTab(t)
	if res := vol.signIn("volunteer@test.spotcheck.test", testPassword); res.Status != 200 {
		t.Fatalf("volunteer sign-in: %d", res.Status)
	}
	if res := vol.submit("[data-testid=assignment-link]"); res.Status != 200 || !strings.HasPrefix(vol.path(), "/assignments/") {
		t.Fatalf("open the assignment: %d at %s", res.Status, vol.path())
	}
	if got := vol.text("[data-testid=ship-to]"); got != "Brand office" {
		t.Fatalf("ship to %q", got)
	}
	vol.typeInto("#f-order_number", "TB-ROAD-1")
	vol.typeInto("#f-amount_paid", "180.00")
	setDate(vol, "#f-order_date")
	vol.do("pick the receipt", chromedp.SetUploadFiles(chromedp.CSS("#f-receipt"), []string{photo}))
	sendUpload(vol, "[data-testid=order-form]", "[data-testid=delivery-form]")
	setDate(vol, "#f-delivered_on")
	vol.typeInto("#f-seal_number", "SEAL-ROAD")
	vol.do("pick the parcel photo", chromedp.SetUploadFiles(chromedp.CSS("#f-parcel_photo"), []string{photo}))
	sendUpload(vol, "[data-testid=delivery-form]", "[data-testid=dispatch-form]")
	vol.typeInto("[data-testid=dispatch-form] #f-carrier", "SF Express")
	vol.typeInto("[data-testid=dispatch-form] #f-tracking", "SF-ROAD-1")
	sendUpload(vol, "[data-testid=dispatch-form]", "[data-testid=dispatched]")
	if got := vol.text("[data-testid=purchase-status]"); got != "Dispatched" {
		t.Fatalf("purchase status %q", got)
	}
	lap("the volunteer dispatched")

	// 3 · The brand, in Chinese: log the item in, sign a counterfeit verdict.
	brand := b.newTab(t)
	if res := brand.signIn("brand@test.spotcheck.test", testPassword); res.Status != 200 {
		t.Fatalf("brand sign-in: %d", res.Status)
	}
	brand.choose("#lang-select", "zh")
	if res := brand.submit("form[data-testid=language-switch] button[type=submit]"); res.Status != 200 || brand.path() != "/authentications" {
		t.Fatalf("switch to Chinese: %d at %s", res.Status, brand.path())
	}
	if h := brand.text("[data-testid=home-title]"); h != "待鉴定物品" || brand.lang() != "zh-CN" {
		t.Fatalf("brand home in %s titled %q, want 待鉴定物品 in zh-CN", brand.lang(), h)
	}
	if got := brand.text("[data-testid=incoming-item]"); !strings.Contains(got, ref+"-1") {
		t.Fatalf("the queue does not show the item on its way: %q", got)
	}
	if checked := get(brand, "read the seal box", chromedp.Evaluate[bool](
		`document.querySelector("[data-testid=accept-form] input[name=seal_intact]").checked`)); !checked {
		t.Fatal("the seal-intact box is not ticked by default")
	}
	brand.do("accept the item",
		chromedp.Click(chromedp.CSS("[data-testid=accept-form] button[type=submit]")),
		chromedp.WaitNotPresent(chromedp.CSS("[data-testid=accept-form]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=brand-case-link]")))
	if got := brand.text("[data-testid=incoming-item]"); !strings.Contains(got, "品牌方保管中") {
		t.Fatalf("after accepting, the item shows %q, want 品牌方保管中", got)
	}
	if res := brand.submit("[data-testid=brand-case-link]"); res.Status != 200 || brand.path() != "/authentications/"+ref {
		t.Fatalf("open the brand's case: %d at %s", res.Status, brand.path())
	}
	if got := brand.text("#verdict-form h2"); got != "鉴定物品" {
		t.Fatalf("the verdict form's heading %q, want 鉴定物品", got)
	}
	checks := []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-form]")),
		chromedp.Click(chromedp.CSS("[data-testid=result-counterfeit]"))}
	failed := map[string]bool{"packaging": true, "workmanship": true, "colour": true}
	for _, item := range verdict.Items {
		o := "pass"
		if failed[item] {
			o = "fail"
		}
		checks = append(checks, chromedp.Click(chromedp.CSS("[data-testid=check-"+item+"-"+o+"]")))
	}
	brand.do("tick the result and the checklist", checks...)
	brand.typeInto("#f-authenticator", "Ada Keller")
	brand.typeInto("#f-summary", "包装、做工和颜色与正品不符。")
	brand.do("pick the report", chromedp.SetUploadFiles(chromedp.CSS("#f-report"), []string{photo}))
	brand.typeInto("#f-signed_name", "Ada Keller")
	click(brand, "[data-testid=confirm]")
	sendUpload(brand, "[data-testid=verdict-form]", "[data-testid=verdict-result]")
	if got := brand.text("[data-testid=verdict-result]"); got != "假冒" {
		t.Fatalf("the verdict shows as %q, want 假冒", got)
	}
	if got := brand.text("[data-testid=verdict-failed]"); !containsHan(got) {
		t.Fatalf("the failed checks read %q, want them in Chinese", got)
	}
	lap("the brand signed the verdict")

	// 4 · Staff, in English: bundle, referral, raid, claim, judgment, payment.
	staff.open("/cases/" + ref)
	if got := staff.text("[data-testid=verdict-result]"); got != "Counterfeit" {
		t.Fatalf("staff see the verdict as %q", got)
	}
	if res := staff.submit("[data-testid=bundle-form] button[type=submit]"); res.Status != 200 {
		t.Fatalf("request a bundle: %d", res.Status)
	}
	for deadline := time.Now().Add(10 * time.Second); !present(staff, "[data-testid=bundle-done]"); {
		if time.Now().After(deadline) {
			t.Fatalf("the bundle was not built: %q", staff.text("[data-testid=bundles]"))
		}
		staff.do("wait", chromedp.Sleep(200*time.Millisecond))
		staff.reload()
	}
	lap("the bundle was built")

	staff.typeInto("#f-bureau", "Riverside PSB")
	staff.typeInto("#f-district", "North")
	setDate(staff, "#f-referred_on")
	staff.typeInto("#f-letter_number", "L-ROAD-1")
	if res := staff.submit("[data-testid=referral-form] button[type=submit]"); res.Status != 200 {
		t.Fatalf("refer: %d", res.Status)
	}
	if got := staff.text("[data-testid=referral-status]"); got != "Referred" {
		t.Fatalf("referral status %q", got)
	}
	staff.choose("[data-testid=referral-progress] select[name=status]", "accepted")
	staff.typeInto("[data-testid=referral-progress] input[name=police_case_number]", "PSB-42")
	if res := staff.submit("[data-testid=referral-progress] button[type=submit]"); res.Status != 200 {
		t.Fatalf("update the referral: %d", res.Status)
	}
	if got := staff.text("[data-testid=referral-status]"); got != "Accepted" {
		t.Fatalf("referral status %q", got)
	}

	click(staff, "details:has([data-testid=raid-form]) > summary")
	setDate(staff, "#f-raided_on")
	staff.typeInto("#f-place", "Warehouse 3")
	staff.typeInto("#f-estimated_sales", "1000")
	for sel, v := range map[string]string{"line_desc_0": "Counterfeit watches", "line_qty_0": "125", "line_value_0": "1200.00",
		"line_desc_1": "Fake seals", "line_qty_1": "2", "line_value_1": "10"} {
		staff.typeInto("[data-testid=raid-form] input[name="+sel+"]", v)
	}
	// The raid form is an htmx upload form sent from this very page: the
	// answer must load the page again (not merely scroll to #enforcement),
	// so the raid shows and the filled form is gone.
	staff.do("send the raid",
		chromedp.Evaluate[chromedp.Void](`window.beforeRaid = true`),
		chromedp.Click(chromedp.CSS("[data-testid=raid-form] button[type=submit]")))
	for deadline := time.Now().Add(stepTimeout); !get(staff, "was the page loaded again", chromedp.Evaluate[bool](`window.beforeRaid !== true`)); {
		if time.Now().After(deadline) {
			t.Fatal("the case page was not loaded again after recording the raid")
		}
		staff.do("wait", chromedp.Sleep(100*time.Millisecond))
	}
	staff.text("[data-testid=raid]")
	if n := get(staff, "count seizures", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=seizure]").length`)); n != 2 {
		t.Fatalf("%d seizure lines shown, want 2", n)
	}
	if got := staff.text("[data-testid=threshold-reached]"); got == "" {
		t.Fatal("the thresholds are not shown as reached")
	}
	if got := staff.text("[data-testid=referral-status]"); got != "Raided" {
		t.Fatalf("referral status after the raid %q", got)
	}
	lap("the raid was recorded")

	staff.typeInto("#f-court", "Riverside Court")
	setDate(staff, "#f-filed_on")
	staff.typeInto("#f-amount", "1400000")
	staff.choose("#f-basis", "agreement")
	if res := staff.submit("[data-testid=claim-form] button[type=submit]"); res.Status != 200 {
		t.Fatalf("file the claim: %d", res.Status)
	}
	if got := staff.text("[data-testid=claim-amount]"); !strings.Contains(got, "1,400,000.00") {
		t.Fatalf("claim amount %q", got)
	}
	staff.typeInto("#f-outcome_amount", "1400000")
	setDate(staff, "#f-outcome_on")
	if res := staff.submit("[data-testid=outcome-form] button[type=submit]"); res.Status != 200 {
		t.Fatalf("record the judgment: %d", res.Status)
	}
	if got := staff.text("[data-testid=claim-outcome]"); !strings.Contains(got, "1,400,000.00") {
		t.Fatalf("judgment %q", got)
	}
	staff.typeInto("#f-payment_amount", "250000")
	setDate(staff, "#f-received_on")
	if res := staff.submit("[data-testid=payment-form] button[type=submit]"); res.Status != 200 {
		t.Fatalf("add the payment: %d", res.Status)
	}
	if got := caseState(staff); !strings.Contains(got, "Closed") || !strings.Contains(got, "recovered") {
		t.Fatalf("state after the payment %q, want Closed · recovered", got)
	}
	if got := staff.text("[data-testid=collected]"); !strings.Contains(got, "250,000.00") {
		t.Fatalf("collected %q", got)
	}
	if got := staff.text("[data-testid=payments]"); !strings.Contains(got, "250,000.00") {
		t.Fatalf("payments %q", got)
	}
	staff.screenshot("/tmp/spotcheck-shot-road.png")
	lap("the case closed as recovered")

	// 5 · The brand, in Chinese, finds the case in its history with its outcome.
	brand.open("/authentications")
	if res := brand.submit("[data-testid=brand-cases-link]"); res.Status != 200 || brand.path() != "/authentications/cases" {
		t.Fatalf("open the brand's cases: %d at %s", res.Status, brand.path())
	}
	brand.typeInto("#bc-q", ref)
	if res := brand.submit("[data-testid=brand-cases-filter] button[type=submit]"); res.Status != 200 {
		t.Fatalf("filter the brand's cases: %d", res.Status)
	}
	row := brand.text("[data-testid=brand-case-row]")
	if !strings.Contains(row, ref) || !strings.Contains(row, "假冒") || !strings.Contains(row, "250,000.00") {
		t.Fatalf("the brand's case row %q: want %s, 假冒 and the 250,000.00 collected", row, ref)
	}
	if res := brand.submit("[data-testid=brand-case-row] a"); res.Status != 200 || brand.path() != "/authentications/"+ref {
		t.Fatalf("open the case from the brand's list: %d at %s", res.Status, brand.path())
	}
	lap("the brand found the case and its outcome")

	c, err := a.cases.ByReference(ctx, a.accounts["staff"].Actor(), ref)
	if err != nil || c.State != "closed" || c.CloseReason != "recovered" {
		t.Fatalf("stored case %s/%s (%v), want closed/recovered", c.State, c.CloseReason, err)
	}
}

// containsHan reports whether s has a Chinese character.
func containsHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}
