package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"spotcheck/internal/casework"
	"spotcheck/internal/database/dbtest"
)

// TestBrowserTheStaffLandOnTheDashboardAndFollowAFigureToItsCases signs
// in as staff, reads the pipeline on the dashboard (its chart named for
// screen readers), follows the flagged figure to the case list it counts,
// then a week's bar of closings to the cases closed that week for that
// reason, and reads the dashboard again in Chinese.
func TestBrowserTheStaffLandOnTheDashboardAndFollowAFigureToItsCases(t *testing.T) {
	b := newBrowser(t, desktop)
	a := newApp(t, dbtest.SQLite(t))
	b.serve(a)
	a.ingestNDJSON(t, flagJSON("bd-1", "bd-shop-1", "Aurora Timepieces", 0.95), flagJSON("bd-2", "bd-shop-2", "Aurora Timepieces", 0.95),
		flagJSON("bd-3", "bd-shop-3", "Other Brand", 0.95))
	b.signIn("staff@test.spotcheck.test", testPassword)
	if p := b.path(); p != "/dashboard" {
		t.Fatalf("the staff landed on %s, want the dashboard", p)
	}
	link := "[data-testid='pipeline-state.flagged']"
	if n := b.text(link); n != "3" {
		t.Fatalf("the dashboard counts %q flagged cases, want 3", n)
	}
	if title := get(b, "read the chart's title", chromedp.Evaluate[string](
		`document.querySelector("[data-testid=pipeline-chart] title").textContent`)); title != "Cases by state now" {
		t.Errorf("the pipeline chart is titled %q", title)
	}
	if res := b.submit(link); res.Status != 200 {
		t.Fatalf("following the figure: %d", res.Status)
	}
	loc := get(b, "read the location", chromedp.Location())
	rows := get(b, "count rows", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=case-row]").length`))
	if !strings.Contains(loc, "/cases?") || !strings.Contains(loc, "state=flagged") || rows != 3 {
		t.Errorf("the figure led to %s, listing %d cases; want the 3 flagged", loc, rows)
	}
	// A case dismissed this week: its bar in the chart of closings opens
	// the list of the cases closed that week for that reason.
	var c casework.Case
	if err := a.db.Gorm.Where("state = ?", casework.Flagged).Order("id").Take(&c).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := a.cases.Fire(t.Context(), a.accounts["staff"].Actor(), c.ID, c.Version, casework.Dismiss, "a genuine reseller"); err != nil {
		t.Fatal(err)
	}
	b.open("/dashboard")
	if res := b.submit("[data-testid=closed-chart] a"); res.Status != 200 {
		t.Fatalf("following the closings' bar: %d", res.Status)
	}
	loc = get(b, "read the location", chromedp.Location())
	refs := get(b, "read the rows", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("[data-testid=case-row] td.nowrap a")].map(a => a.textContent)`))
	if !strings.Contains(loc, "dated=closed") || !strings.Contains(loc, "reason=dismissed") || len(refs) != 1 || refs[0] != c.Reference {
		t.Errorf("the closings' bar led to %s, listing %v; want %s alone", loc, refs, c.Reference)
	}
	if v := get(b, "read the dated step", chromedp.Evaluate[string](`document.querySelector("[data-testid=filter-dated]").value`)); v != "closed" {
		t.Errorf("the list's filter shows the dates as %q, want closed", v)
	}
	b.open("/dashboard")
	b.choose("#lang-select", "zh")
	b.submit(`form[data-testid=language-switch] button[type=submit]`)
	if h := b.text("[data-testid=home-title]"); h != "工作概览" || b.lang() != "zh-CN" {
		t.Errorf("the Chinese dashboard reads %q in %s", h, b.lang())
	}
	if n := b.text(link); n != "2" { // one was dismissed
		t.Errorf("the Chinese dashboard counts %q flagged cases", n)
	}
}
