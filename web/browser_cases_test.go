package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"spotcheck/internal/database/dbtest"
)

// TestBrowserTriageToCasePage walks the staff's road through the inbox:
// tick flags, open a case, find it in the list with the live search, open
// it, and dismiss it with a reason.
func TestBrowserTriageToCasePage(t *testing.T) {
	b := newBrowser(t, desktop)
	a := newApp(t, dbtest.SQLite(t))
	b.serve(a)
	a.ingestNDJSON(t,
		flagJSON("b-1", "crystal-palace", "Aurora Timepieces", 0.62),
		flagJSON("b-2", "crystal-palace", "Aurora Timepieces", 0.55),
		flagJSON("b-3", "other-shop", "Aurora Timepieces", 0.41),
		flagJSON("b-4", "auto-open", "Aurora Timepieces", 0.97), // opens a case by itself
	)
	ids := flagIDs(t, a, "status = 'open' AND external_id IN ('b-1', 'b-2')")

	if res := b.signIn("staff@test.spotcheck.test", testPassword); res.Status != 200 {
		t.Fatalf("sign-in: %d", res.Status)
	}
	b.open("/flags")
	if got := b.text("[data-testid=inbox-title]"); got != "Flag inbox" {
		t.Fatalf("inbox heading %q", got)
	}
	for _, id := range ids {
		b.do("tick flag "+id, chromedp.Click(chromedp.CSS("#flag-"+id)))
	}
	if res := b.submit("[data-testid=open-case]"); res.Status != 200 {
		t.Fatalf("open case: %d", res.Status)
	}
	ref := b.text("[data-testid=case-title]")
	if !strings.HasPrefix(ref, "SC-") || !strings.HasPrefix(b.path(), "/cases/SC-") {
		t.Fatalf("landed on %s titled %q", b.path(), ref)
	}
	if n := get(b, "count flags", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=case-flags] tbody tr").length`)); n != 2 {
		t.Fatalf("the new case shows %d flags", n)
	}

	// The list: two cases; the live search narrows it without a page load.
	b.open("/cases")
	rows := func() int {
		return get(b, "count rows", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=case-row]").length`))
	}
	if n := rows(); n != 2 {
		t.Fatalf("the list shows %d cases", n)
	}
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
	b.typeInto("#f-q", "crystal-palace")
	deadline := time.Now().Add(10 * time.Second)
	for rows() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the search did not narrow the list: %d rows", rows())
		}
		b.do("wait", chromedp.Sleep(100*time.Millisecond))
	}
	if !get(b, "same page", chromedp.Evaluate[bool](`window.notReloaded === true`)) {
		t.Fatal("the search reloaded the page instead of swapping the list")
	}
	// htmx may still be swapping a second answer (the keyup's and the
	// change's): click only once no request is in flight.
	for get(b, "requests in flight", chromedp.Evaluate[bool](`document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling") !== null`)) {
		if time.Now().After(deadline) {
			t.Fatal("the list's requests did not settle")
		}
		b.do("wait", chromedp.Sleep(50*time.Millisecond))
	}
	loc := get(b, "location", chromedp.Location())
	if !strings.Contains(loc, "q=crystal-palace") {
		t.Fatalf("the filter is not in the URL: %s", loc)
	}

	// The case page: dismiss with a reason.
	if res := b.submit(`[data-testid=case-row] a[href^="/cases/"]`); res.Status != 200 {
		t.Fatalf("open the case: %d", res.Status)
	}
	if got := b.text("[data-testid=case-title]"); got != ref {
		t.Fatalf("opened %q, want %q", got, ref)
	}
	b.typeInto("#note-dismiss", "Authorised reseller, confirmed by the brand")
	if res := b.submit(`[data-testid=action-dismiss] button[type=submit]`); res.Status != 200 {
		t.Fatalf("dismiss: %d", res.Status)
	}
	if got := b.text("[data-testid=case-state]"); !strings.Contains(got, "Closed") {
		t.Fatalf("state after dismissing: %q", got)
	}
	if tl := b.text("[data-testid=timeline]"); !strings.Contains(tl, "Authorised reseller") {
		t.Fatalf("timeline: %q", tl)
	}
}
