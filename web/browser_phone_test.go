package web_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"spotcheck/internal/database/dbtest"
)

// TestBrowserPhoneScreensFitAndReadInBothLanguages opens every screen a
// volunteer and a brand user can get — every GET route of the index that
// answers them 200, with every demo object its parameters can name — on a
// 390px phone in English and in Chinese, with the demo's content (each step
// of a purchase, and a case that has travelled the whole road: purchase,
// delivery, verdict, referral, raid, claim), its folded parts unfolded,
// and fails on any page that scrolls sideways, naming it, its language and
// its widest element. The staff's dashboard, case list and page of that
// case come too, and the admin's deadline settings.
func TestBrowserPhoneScreensFitAndReadInBothLanguages(t *testing.T) {
	chromiumPath(t) // before any database is made
	a, _ := newPurchaseApp(t, dbtest.SQLite(t))
	a.loadDemo(t)
	values := demoValues(t, a)
	var road, roadPurchase string // the case that went the whole road
	if err := a.db.Gorm.Raw(`SELECT c.reference, CAST(p.id AS TEXT) FROM cases c JOIN purchases p ON p.case_id = c.id
		WHERE c.shop_id = (SELECT id FROM shops WHERE platform_shop_id = 'tb-411050')`).Row().Scan(&road, &roadPurchase); err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, r := range a.echo.Routes() {
		if r.Method == http.MethodGet {
			routes = append(routes, routeKey(r))
		}
	}
	slices.Sort(routes)
	rows := matrix()
	opened := map[string]bool{}
	// Each volunteer has purchases at other steps; the third bought for
	// the case that went the whole road.
	for _, who := range []struct {
		email string
		role  int      // index into the matrix's expectations (roles)
		only  []string // nil: every screen of the role
	}{
		{"volunteer@demo.spotcheck.test", 3, nil}, {"volunteer2@demo.spotcheck.test", 3, nil}, {"volunteer3@demo.spotcheck.test", 3, nil},
		{"brand@demo.spotcheck.test", 4, nil},
		{"staff@demo.spotcheck.test", 2, []string{"/dashboard", "/cases", "/cases/" + road}}, // the dashboard, the list with its work queues, the whole road
		{"admin@demo.spotcheck.test", 1, []string{"/admin/deadlines"}},                       // every kind's days and each brand's
	} {
		t.Run(strings.TrimSuffix(who.email, "@demo.spotcheck.test"), func(t *testing.T) {
			// The screens: what answers this user 200 with a page (not
			// another's object, not a photo or a download).
			var paths []string
			c := a.asDemo(who.email, "en")
			for _, key := range routes {
				row, found := rows[key]
				if !found || row.want[who.role] != http.StatusOK {
					continue
				}
				for _, p := range expand(row.path, values, true) {
					if who.only != nil && !slices.Contains(who.only, p) {
						continue
					}
					if res := c.get(p); res.StatusCode == http.StatusOK && strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
						paths = append(paths, p)
					}
				}
			}
			b := newBrowser(t, phone) // one each: every browser has its time budget
			b.serve(a)
			for _, lang := range []string{"en", "zh"} {
				tab := b.newTab(t)
				tab.do("emulate a phone", chromedp.EmulateViewport(int64(phone.width), int64(phone.height), chromedp.EmulatePortrait, chromedp.EmulateMobile))
				tab.signIn(who.email, testPassword)
				if lang == "zh" {
					tab.choose("#lang-select", "zh")
					tab.submit(`form[data-testid=language-switch] button[type=submit]`)
				} else if tab.lang() != "en" {
					t.Fatalf("%s signs in to %q, want en first", who.email, tab.lang())
				}
				for _, p := range paths {
					tab.open(p)
					opened[p] = true
					// What is folded away must fit as well.
					tab.do("unfold "+p, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details").forEach(d => d.open = true)`))
					w := get(tab, "measure "+p, chromedp.Evaluate[pageWidth](measureWidth))
					t.Logf("%-3s %-34s %dpx", lang, p, w.ScrollWidth)
					if w.InnerWidth != phone.width || w.ScrollWidth > w.InnerWidth {
						widest := get(tab, "find the widest", chromedp.Evaluate[string](widestElement))
						t.Errorf("%s as %s in %s: %dpx of content in a %dpx viewport; widest: %s", p, who.email, lang, w.ScrollWidth, w.InnerWidth, widest)
					}
				}
			}
		})
	}
	for _, p := range []string{"/assignments/" + roadPurchase, "/authentications/" + road, "/cases/" + road} {
		if !opened[p] {
			t.Errorf("the whole road's screen %s was not opened", p)
		}
	}
}
