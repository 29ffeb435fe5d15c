package web_test

import (
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/i18n"
)

func TestTheVolunteerPoolKeepsPersonasMaskedAndBurnedForGood(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		staff := a.as("staff")
		id := strconv.FormatInt(a.accounts["volunteer"].ID, 10)
		base := "/volunteers/" + id
		pool := staff.get("/volunteers")
		rows := pool.doc(t).Find("[data-testid=pool-row]")
		link := rows.Find("a")
		if href, _ := link.Attr("href"); pool.StatusCode != 200 || rows.Length() != 1 ||
			link.Text() != a.accounts["volunteer"].Name || href != base {
			t.Fatalf("pool: %d, link %q to %q\n%.600s", pool.StatusCode, link.Text(), href, pool.body)
		}
		pseudonym := func() string { return staff.get(base).doc(t).Find("[data-testid=pseudonym]").Text() }
		first := pseudonym()
		if !regexp.MustCompile(`^Buyer B-[2-9A-HJ-NP-Z]{4}$`).MatchString(first) || pseudonym() != first {
			t.Fatalf("pseudonym %q, then %q", first, pseudonym())
		}
		// A missing field: 422, what was typed kept, the message beside the field.
		res := staff.post(base+"/personas", url.Values{"platform_account": {"tb_night_owl"}, "address_alias": {"Locker 4"}, "phone": {"+86 139 1234 5678"}})
		doc := res.doc(t)
		if res.StatusCode != http.StatusUnprocessableEntity || doc.Find("[data-testid=error-payment_instrument]").Length() != 1 ||
			doc.Find("[data-testid^=error-]").Length() != 1 {
			t.Fatalf("missing field: %d\n%.800s", res.StatusCode, res.body)
		}
		for field, want := range map[string]string{"platform_account": "tb_night_owl", "address_alias": "Locker 4", "phone": "+86 139 1234 5678"} {
			if v, _ := doc.Find("#f-" + field).Attr("value"); v != want {
				t.Errorf("%s kept as %q, want %q", field, v, want)
			}
		}
		// Nothing typed at all: every field says so, and the form is open to show it.
		doc = staff.post(base+"/personas", url.Values{}).doc(t)
		if n := doc.Find("[data-testid=persona-form] [data-testid^=error-]").Length(); n != 4 ||
			doc.Find("details:has([data-testid=persona-form])[open]").Length() != 1 {
			t.Fatalf("an empty persona form: %d errors, or its form is folded away", n)
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
		row := page.doc(t).Find("[data-testid=persona-row]")
		if phone, pay := row.Find("[data-testid=persona-phone]").Text(), row.Find("[data-testid=persona-payment]").Text(); !strings.HasPrefix(phone, "•") ||
			!strings.HasSuffix(phone, "5678") || !strings.HasPrefix(pay, "•") || !strings.HasSuffix(pay, "4411") {
			t.Fatalf("masked phone %q, payment %q", phone, pay)
		}
		var pid string
		if err := db.Gorm.Raw("SELECT CAST(id AS text) FROM personas WHERE platform_account = 'tb_night_owl'").Scan(&pid).Error; err != nil {
			t.Fatal(err)
		}
		if res := staff.post(base+"/personas/"+pid+"/burn", url.Values{"reason": {""}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("burn without a reason: %d", res.StatusCode)
		}
		if res := staff.post(base+"/personas/"+pid+"/burn", url.Values{"reason": {"the seller asked for a video call"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("burn: %d", res.StatusCode)
		}
		if b := staff.get(base).doc(t).Find("[data-testid=burned]"); b.Length() != 1 ||
			!strings.Contains(b.Parent().Text(), "the seller asked for a video call") {
			t.Fatalf("%d burned badges, reason %q", b.Length(), b.Parent().Text())
		}
		if got := staff.get("/volunteers").doc(t).Find("[data-testid=pool-row]").Text(); !strings.Contains(got, "1 burned") {
			t.Fatalf("the pool does not count the burned persona: %q", got)
		}
		if res := staff.post(base+"/personas/"+pid+"/burn", url.Values{"reason": {"again"}}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("burning twice: %d", res.StatusCode)
		}
		// A refused region keeps what was typed, the pause box included.
		long := strings.Repeat("z", 101)
		res = staff.post(base, url.Values{"region": {long}, "paused": {"on"}})
		doc = res.doc(t)
		if v, _ := doc.Find("#f-region").Attr("value"); res.StatusCode != http.StatusUnprocessableEntity || v != long ||
			doc.Find("[data-testid=error-region]").Length() != 1 || doc.Find("input[name=paused][checked]").Length() != 1 {
			t.Fatalf("a long region: %d, kept %q\n%.800s", res.StatusCode, v, res.body)
		}
		if res := staff.post(base, url.Values{"region": {"Zhejiang"}, "paused": {"on"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("pause: %d", res.StatusCode)
		}
		if got := staff.get("/volunteers").doc(t).Find("[data-testid=pool-status]").Text(); !strings.Contains(got, "Paused") {
			t.Fatalf("pool status %q", got)
		}
		// Not a volunteer: not found, to look at or to change.
		notVolunteer := "/volunteers/" + strconv.FormatInt(a.accounts["staff"].ID, 10)
		if res := staff.get(notVolunteer); res.StatusCode != http.StatusNotFound {
			t.Fatalf("a staff member's profile: %d", res.StatusCode)
		}
		if res := staff.post(notVolunteer, url.Values{"region": {"Zhejiang"}}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("changing a staff member's profile: %d", res.StatusCode)
		}
		if res := staff.post(notVolunteer+"/personas", url.Values{"platform_account": {"x"}, "address_alias": {"x"}, "phone": {"x"},
			"payment_instrument": {"x"}}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("a persona for a staff member: %d", res.StatusCode)
		}
		for _, r := range []string{"volunteer", "brand"} {
			if res := a.as(r).get("/volunteers"); res.StatusCode != http.StatusForbidden {
				t.Fatalf("%s: %d", r, res.StatusCode)
			}
		}
	})
}

// TestTheVolunteerHomeSaysWhatIsDueAndWhatIsOwed loads the demo and reads
// a volunteer's home: the purchases ordered this month, the reimbursements
// not yet paid and what was paid this month equal the volunteer's rows,
// and the step due next is the soonest of theirs.
func TestTheVolunteerHomeSaysWhatIsDueAndWhatIsOwed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		a.loadDemo(t)
		vol, err := a.users.ByEmail(t.Context(), "volunteer@demo.spotcheck.test")
		if err != nil {
			t.Fatal(err)
		}
		d := a.asDemo("volunteer@demo.spotcheck.test", "en").get("/assignments").doc(t)
		now := db.Now()
		today := clock.DateOf(now, a.zone)
		first := time.Date(today.Year, today.Month, 1, 0, 0, 0, 0, time.UTC)
		ordered := scalarOf(t, db, `SELECT count(*) FROM purchases WHERE volunteer_id = ? AND order_date >= ? AND order_date < ?`,
			vol.ID, first, first.AddDate(0, 1, 0))
		if got := d.Find("[data-testid=volunteer-ordered]").Text(); got != strconv.FormatInt(ordered, 10) {
			t.Errorf("ordered this month %q, the rows %d", got, ordered)
		}
		owed := scalarOf(t, db, `SELECT COALESCE(sum(amount_minor + fee_minor - refunded_minor), 0) FROM reimbursements WHERE volunteer_id = ? AND status <> 'paid'`, vol.ID)
		if got := d.Find("[data-testid=volunteer-owed] a").Text(); got != i18n.English.Money(owed, "CNY") {
			t.Errorf("owed %q, the rows %s", got, i18n.English.Money(owed, "CNY"))
		}
		var kind string
		err = db.Gorm.Raw(`SELECT kind FROM deadlines WHERE done_at IS NULL AND party = 'volunteer' AND party_id = ? ORDER BY due_at, id LIMIT 1`, vol.ID).Row().Scan(&kind)
		next := d.Find("[data-testid=volunteer-next]").Text()
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if !strings.Contains(next, "Nothing is due.") {
				t.Errorf("nothing is due, the home says %q", next)
			}
		case err != nil:
			t.Fatal(err)
		case !strings.Contains(next, i18n.English.T("deadline.kind_"+kind)):
			t.Errorf("the next step is %q, the home says %q", kind, next)
		}
	})
}
