package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/purchase"
)

// TestBrowserARefundIsSettledOnAPhoneInBothLanguages: a purchase
// cancelled before delivery is approved on its refund from the staff's
// case page, and its buyer reads what is left to pay, on a 390px phone in
// English and in Chinese; a refund larger than what was paid is refused
// with the reason, and nothing scrolls sideways on the way.
func TestBrowserARefundIsSettledOnAPhoneInBothLanguages(t *testing.T) {
	chromiumPath(t)
	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			a, _ := newPurchaseApp(t, dbtest.SQLite(t))
			ids := a.seedPurchase(t, "shop-refund-"+lang, purchase.Ordered)
			a.cancelThroughTheCasePage(t, ids["purchase_case"])
			b := newBrowser(t, phone)
			b.serve(a)
			b.do("emulate a phone", chromedp.EmulateViewport(int64(phone.width), int64(phone.height), chromedp.EmulatePortrait, chromedp.EmulateMobile))
			fits := func(what string) {
				t.Helper()
				w := get(b, "measure "+what, chromedp.Evaluate[pageWidth](measureWidth))
				if w.InnerWidth != phone.width || w.ScrollWidth > w.InnerWidth {
					widest := get(b, "find the widest", chromedp.Evaluate[string](widestElement))
					t.Fatalf("%s (%s): %dpx of content in a %dpx viewport; widest: %s", what, lang, w.ScrollWidth, w.InnerWidth, widest)
				}
			}
			inLanguage := func() {
				t.Helper()
				if lang == "zh" {
					b.choose("#lang-select", "zh")
					b.submit(`form[data-testid=language-switch] button[type=submit]`)
				}
			}

			b.signIn(a.accounts["staff"].Email, testPassword)
			inLanguage()
			casePage := "/cases/" + ids["purchase_case"]
			b.open(casePage)
			b.text("[data-testid=approve-reimbursement] input[name=refunded]")
			fits("the case page with the refund form")

			// 180.00 was paid: a refund of 250.00 is refused, with its reason.
			b.typeInto("[data-testid=approve-reimbursement] input[name=refunded]", "250.00")
			b.submit("[data-testid=approve-reimbursement] button[type=submit]")
			want := map[string]string{"en": "cannot exceed what the buyer paid", "zh": "不能超过买家实付金额"}[lang]
			if msg := b.text(".flash.error"); !strings.Contains(msg, want) {
				t.Fatalf("refusal flash %q, want it to contain %q", msg, want)
			}
			fits("the case page with the refusal")

			b.typeInto("[data-testid=approve-reimbursement] input[name=refunded]", "150.00")
			b.submit("[data-testid=approve-reimbursement] button[type=submit]")
			if b.text(".flash.success") == "" {
				t.Fatal("no confirmation after the approval")
			}
			fits("the case page after the approval")

			b.submit(signOutButton)
			b.signIn(a.accounts["volunteer"].Email, testPassword)
			inLanguage()
			b.open("/reimbursements")
			line := b.text("[data-testid=reimbursement]")
			if !strings.Contains(line, "30.00") || !strings.Contains(line, "150.00") ||
				!strings.Contains(line, map[string]string{"en": "refunded", "zh": "退款"}[lang]) {
				t.Fatalf("the buyer's reimbursement reads %q", line)
			}
			fits("the buyer's reimbursements")
		})
	}
}

// widestElement names the innermost element outside any scrolling box
// that sticks out furthest, with the start of its text.
const widestElement = `(() => {
	let best = null, right = 0;
	const clipped = el => { for (let p = el.parentElement; p; p = p.parentElement) { if (["auto", "scroll", "hidden"].includes(getComputedStyle(p).overflowX)) return true; } return false; };
	for (const el of document.querySelectorAll("main *")) {
		if (clipped(el)) continue;
		const r = el.getBoundingClientRect().right;
		if (r > right || (r === right && best && best.contains(el))) { best = el; right = r; }
	}
	return best ? best.tagName.toLowerCase() + "." + best.className + " right=" + Math.round(right) + " " + JSON.stringify((best.textContent || "").trim().slice(0, 60)) : "none";
})()`
