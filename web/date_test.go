package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"spotcheck/internal/clock"
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
