package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"spotcheck/internal/database/dbtest"
)

// TestBrowserStaffConfirmASuggestedLinkAndSeeTheNetwork opens, in the
// demo, a shop whose listing image looks like the Silver Lake seller's:
// the suggested link shows its masked evidence; staff confirm it with a
// note, follow the shop to its network and see the graph (with the shop
// in it), and find the repeat offender marked on the case list and on its
// case's flag.
func TestBrowserStaffConfirmASuggestedLinkAndSeeTheNetwork(t *testing.T) {
	b := newBrowser(t, desktop)
	a := newApp(t, dbtest.SQLite(t))
	a.loadDemo(t)
	b.serve(a)
	b.signIn("staff@demo.spotcheck.test", testPassword)
	bright := scalarOf(t, a.db, "SELECT id FROM shops WHERE platform_shop_id = 'tb-411730'")
	b.open("/shops/" + strconv.FormatInt(bright, 10))
	if ev := b.text("[data-testid=link-evidence]"); !strings.Contains(ev, "Listing image") {
		t.Fatalf("the suggestion's evidence reads %q", ev)
	}
	b.typeInto("[data-testid=suggestion-form] input[name=note]", "same product photo, same swan clasp")
	if res := b.submit("[data-testid=confirm-suggestion]"); res.Status != 200 {
		t.Fatalf("confirm: %d", res.Status)
	}
	if n := get(b, "count suggestions", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=suggested-link]").length`)); n != 0 {
		t.Errorf("%d suggestions left after confirming", n)
	}
	if res := b.submit("[data-testid=shop-cluster]"); res.Status != 200 {
		t.Fatalf("open the network: %d", res.Status)
	}
	nodes := get(b, "count nodes", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=cluster-graph] [data-testid=cluster-node]").length`))
	if nodes < 3 {
		t.Errorf("the network's graph draws %d shops", nodes)
	}
	if !strings.Contains(b.text("[data-testid=cluster-shops]"), "Bright Lake Select") {
		t.Error("the confirmed shop is not in the network")
	}
	b.open("/cases")
	if n := get(b, "count repeat badges", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=repeat-badge]").length`)); n == 0 {
		t.Fatal("the case list marks no repeat offender")
	}
	if res := b.submit(`[data-testid=case-row]:has([data-testid=repeat-badge]) a[href^="/cases/"]`); res.Status != 200 {
		t.Fatalf("open the repeat offender's case: %d", res.Status)
	}
	if got := b.text("[data-testid=repeat-of]"); !strings.Contains(got, "SC-") {
		t.Errorf("the case's flag says %q, not the earlier case", got)
	}
}
