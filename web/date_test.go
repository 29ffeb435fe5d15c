package web_test

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"spotcheck/internal/clock"
	"spotcheck/internal/config"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/purchase"
)

// At 01:30 in Shanghai (17:30 UTC the day before) the volunteer's order
// form takes today's date and refuses tomorrow's, beside the field.
func TestTheOrderFormTakesTodayInThePlatformZoneAfterMidnight(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, _ := newPurchaseApp(t, db)
		ids := a.seedPurchase(t, "shop-night", purchase.Assigned)
		db.UseClock(clock.NewFixed(time.Date(2026, 11, 19, 17, 30, 0, 0, time.UTC)))
		vol := a.as("volunteer")
		path := "/assignments/" + ids["purchase"] + "/order"
		form := func(date string) url.Values {
			return url.Values{"version": {"1"}, "order_number": {"TB-0130"}, "amount_paid": {"188.00"}, "order_date": {date}}
		}
		res := vol.postFiles(path, form("2026-11-21"), []file{{"receipt", "r.png", pngBytes(t)}}, false)
		if res.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(res.doc(t).Find("[data-testid=error-order_date]").Text(), "in the future") {
			t.Fatalf("tomorrow: %d\n%.800s", res.StatusCode, res.body)
		}
		res = vol.postFiles(path, form("2026-11-20"), []file{{"receipt", "r.png", pngBytes(t)}}, false)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("today at 01:30 in Shanghai: %d\n%.800s", res.StatusCode, res.body)
		}
		if p, err := a.purchase.Get(t.Context(), a.accounts["staff"].Actor(), atoi64(t, ids["purchase"])); err != nil ||
			p.Status != purchase.Ordered || p.OrderDate.UTC().Format(time.DateOnly) != "2026-11-20" {
			t.Fatalf("purchase %+v %v", p, err)
		}
	})
}

// A calendar day (a delivery, a due date) is shown as the day it is, in a
// zone west of UTC too: it is stored as that day's midnight UTC, and
// turning that instant into Los Angeles time showed the day before.
func TestCalendarDaysShowAsTypedWestOfUTC(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		dir := t.TempDir()
		a := newApp(t, db, func(c *config.Config) {
			c.BlobURL = "file://" + filepath.ToSlash(dir)
			c.MaxUpload = 64 << 10
			c.Location = mustZone(t, "America/Los_Angeles")
		})
		// Noon in Los Angeles, the same calendar day as in UTC.
		day := time.Now().UTC().Truncate(24 * time.Hour)
		db.UseClock(clock.NewFixed(day.Add(20 * time.Hour)))
		ids := a.seedPurchase(t, "shop-west", purchase.Received)
		today, due := day.Format(time.DateOnly), day.AddDate(0, 0, 7).Format(time.DateOnly)
		for _, p := range []struct{ who, path string }{
			{"staff", "/cases/" + ids["purchase_case"]},
			{"volunteer", "/assignments/" + ids["purchase"]},
		} {
			res := a.as(p.who).get(p.path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: %d", p.who, p.path, res.StatusCode)
			}
			doc := res.doc(t)
			days := map[string]bool{}
			doc.Find("time[datetime]").Each(func(_ int, s *goquery.Selection) { v, _ := s.Attr("datetime"); days[v] = true })
			if p.who == "staff" && (!days[today] || !days[due]) {
				t.Errorf("%s: the delivery (%s) and due (%s) days are not shown as such: %v", p.path, today, due, days)
			}
			text := doc.Find("main").Text()
			for _, d := range []time.Time{day, day.AddDate(0, 0, 7)} {
				if want := d.Format("2 Jan 2006"); !strings.Contains(text, want) {
					t.Errorf("%s %s: %q not shown", p.who, p.path, want)
				}
			}
		}
	})
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
