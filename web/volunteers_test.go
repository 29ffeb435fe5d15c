package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
)

func TestTheVolunteerPoolKeepsPersonasMaskedAndBurnedForGood(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		staff := a.as("staff")
		id := strconv.FormatInt(a.accounts["volunteer"].ID, 10)
		base := "/volunteers/" + id
		pool := staff.get("/volunteers")
		if pool.StatusCode != 200 || pool.doc(t).Find("[data-testid=pool-row]").Length() != 1 {
			t.Fatalf("pool: %d\n%.600s", pool.StatusCode, pool.body)
		}
		pseudonym := func() string { return staff.get(base).doc(t).Find("[data-testid=pseudonym]").Text() }
		first := pseudonym()
		if !regexp.MustCompile(`^Buyer B-[2-9A-HJ-NP-Z]{4}$`).MatchString(first) || pseudonym() != first {
			t.Fatalf("pseudonym %q, then %q", first, pseudonym())
		}
		// A missing field: 422, what was typed kept, the message beside the field.
		res := staff.post(base+"/personas", url.Values{"platform_account": {"tb_night_owl"}, "address_alias": {"Locker 4"}, "phone": {"+86 139 1234 5678"}})
		doc := res.doc(t)
		if v, _ := doc.Find("#f-phone").Attr("value"); res.StatusCode != http.StatusUnprocessableEntity || v != "+86 139 1234 5678" ||
			doc.Find("[data-testid=error-payment_instrument]").Length() != 1 {
			t.Fatalf("missing field: %d, phone kept %q\n%.800s", res.StatusCode, v, res.body)
		}
		res = staff.post(base+"/personas", url.Values{"platform_account": {"tb_night_owl"}, "address_alias": {"Locker 4"},
			"phone": {"+86 139 1234 5678"}, "payment_instrument": {"card 6222 0202 9999 4411"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("add persona: %d", res.StatusCode)
		}
		page := staff.get(base)
		for _, secret := range []string{"1234 5678", "6222 0202 9999"} {
			if strings.Contains(page.body, secret) {
				t.Fatalf("the profile shows %q unmasked", secret)
			}
		}
		if !strings.Contains(page.body, "5678") || !strings.Contains(page.body, "4411") {
			t.Fatal("the masked numbers do not end as they should")
		}
		var pid string
		db.Gorm.Raw("SELECT CAST(id AS text) FROM personas WHERE platform_account = 'tb_night_owl'").Scan(&pid)
		if res := staff.post(base+"/personas/"+pid+"/burn", url.Values{"reason": {""}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("burn without a reason: %d", res.StatusCode)
		}
		if res := staff.post(base+"/personas/"+pid+"/burn", url.Values{"reason": {"the seller asked for a video call"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("burn: %d", res.StatusCode)
		}
		if b := staff.get(base).doc(t).Find("[data-testid=burned]").Length(); b != 1 {
			t.Fatalf("%d burned badges", b)
		}
		if res := staff.post(base+"/personas/"+pid+"/burn", url.Values{"reason": {"again"}}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("burning twice: %d", res.StatusCode)
		}
		if res := staff.post(base, url.Values{"region": {"Zhejiang"}, "paused": {"on"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("pause: %d", res.StatusCode)
		}
		if got := staff.get("/volunteers").doc(t).Find("[data-testid=pool-status]").Text(); !strings.Contains(got, "Paused") {
			t.Fatalf("pool status %q", got)
		}
		// Not a volunteer: not found.
		if res := staff.get("/volunteers/" + strconv.FormatInt(a.accounts["staff"].ID, 10)); res.StatusCode != http.StatusNotFound {
			t.Fatalf("a staff member's profile: %d", res.StatusCode)
		}
		for _, r := range []string{"volunteer", "brand"} {
			if res := a.as(r).get("/volunteers"); res.StatusCode != http.StatusForbidden {
				t.Fatalf("%s: %d", r, res.StatusCode)
			}
		}
	})
}
