package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/deadline"
	"spotcheck/internal/purchase"
)

func TestAdminsSetHowLongEachStepMayTakeAllOrNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		admin := a.as("admin")
		form := url.Values{}
		for _, k := range deadline.SettingKeys {
			form.Set(k, "4")
		}
		form.Set("delivery", "9")
		form.Set("escalate_after", "0") // out of range: nothing is saved
		res := admin.post("/admin/deadlines", form)
		if res.StatusCode != invalid {
			t.Fatalf("a setting of 0 days: status %d", res.StatusCode)
		}
		d := res.doc(t)
		if d.Find("[data-testid=error-escalate_after]").Length() != 1 {
			t.Errorf("no message next to the refused field")
		}
		if v, _ := d.Find("#f-delivery").Attr("value"); v != "9" {
			t.Errorf("the form lost what was typed: delivery %q", v)
		}
		var days int
		if err := db.Gorm.Raw("SELECT days FROM deadline_settings WHERE kind = 'delivery'").Row().Scan(&days); err != nil {
			t.Fatal(err)
		}
		if days == 9 {
			t.Error("a refused form saved part of itself")
		}

		form.Set("escalate_after", "5")
		if res := admin.post("/admin/deadlines", form); res.StatusCode != redirect {
			t.Fatalf("saving: %d\n%.300s", res.StatusCode, res.body)
		}
		if v, _ := admin.get("/admin/deadlines").doc(t).Find("#f-delivery").Attr("value"); v != "9" {
			t.Errorf("the page shows delivery %q after saving 9", v)
		}
		var audited int64
		if err := db.Gorm.Table("audit_events").Where("action = 'deadlines.settings'").Count(&audited).Error; err != nil {
			t.Fatal(err)
		}
		if audited != 1 {
			t.Errorf("%d audit events of the save, want 1", audited)
		}
		// The saved setting decides the next step's due time.
		a.ingestNDJSON(t, flagJSON("dl1", "dl-1", "Aurora Timepieces", 0.9))
		var c struct{ ID, BrandID int64 }
		if err := db.Gorm.Raw("SELECT id, brand_id FROM cases").Scan(&c).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(t.Context(), func(tx *gorm.DB) error {
			if err := deadline.StartTx(tx, deadline.Step{Kind: deadline.Delivery, CaseID: c.ID, SubjectID: 1,
				Party: deadline.Volunteer, PartyID: a.accounts["volunteer"].ID}); err != nil {
				return err
			}
			return deadline.StartTx(tx, deadline.Step{Kind: deadline.Acceptance, CaseID: c.ID, SubjectID: 2,
				Party: deadline.Brand, PartyID: c.BrandID, BrandID: c.BrandID})
		}); err != nil {
			t.Fatal(err)
		}
		want := map[deadline.Kind]int{deadline.Delivery: 9, deadline.Acceptance: 4}
		checkDays(t, db, want)

		// A brand's own acceptance days replace the global ones for it.
		brandPath := "/admin/deadlines/brands/" + itoa(c.BrandID)
		res = admin.post(brandPath, url.Values{"authentication_days": {"6"}, "acceptance_days": {"x"}})
		if res.StatusCode != invalid || res.doc(t).Find("[data-testid=error-acceptance_days-"+itoa(c.BrandID)+"]").Length() != 1 {
			t.Fatalf("a brand's bad days: %d without its message", res.StatusCode)
		}
		if res := admin.post(brandPath, url.Values{"authentication_days": {"6"}, "acceptance_days": {"2"}}); res.StatusCode != redirect {
			t.Fatalf("saving a brand's days: %d\n%.300s", res.StatusCode, res.body)
		}
		if err := db.InTx(t.Context(), func(tx *gorm.DB) error {
			return deadline.StartTx(tx, deadline.Step{Kind: deadline.Acceptance, CaseID: c.ID, SubjectID: 2,
				Party: deadline.Brand, PartyID: c.BrandID, BrandID: c.BrandID})
		}); err != nil {
			t.Fatal(err)
		}
		want[deadline.Acceptance] = 2
		checkDays(t, db, want)
		var auth int
		if err := db.Gorm.Raw("SELECT authentication_days FROM brands WHERE id = ?", c.BrandID).Row().Scan(&auth); err != nil {
			t.Fatal(err)
		}
		if auth != 6 {
			t.Errorf("the brand's authentication days are %d, want 6", auth)
		}
		if page := admin.get("/admin/deadlines").body; !strings.Contains(page, `value="2"`) {
			t.Error("the page does not show the brand's own acceptance days")
		}
	})
}

// checkDays checks each open deadline of the kinds runs that many days.
func checkDays(t *testing.T, db *database.DB, want map[deadline.Kind]int) {
	t.Helper()
	for k, days := range want {
		var d deadline.Deadline
		if err := db.Gorm.Where("kind = ? AND done_at IS NULL", k).Take(&d).Error; err != nil {
			t.Fatal(err)
		}
		if got := d.DueAt.Sub(d.StartedAt); got != time.Duration(days)*24*time.Hour {
			t.Errorf("%s runs %s, want %d days", k, got, days)
		}
	}
}

func TestVolunteersAndBrandsSeeTheirNextStepAndWhenItIsDue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		ordered := a.seedPurchase(t, "due-ordered", purchase.Ordered)
		sent := a.seedPurchase(t, "due-sent", purchase.Dispatched)
		vol := a.as("volunteer")
		next := vol.get("/assignments").doc(t).Find("[data-testid=assignment-next]")
		if next.Length() != 1 || !strings.Contains(next.Text(), "Receive the parcel") || next.Find("[data-testid=overdue-badge]").Length() != 0 {
			t.Fatalf("the volunteer's next steps read %q, want the ordered purchase's delivery, on time", next.Text())
		}
		// The delivery is now past due.
		if err := db.Gorm.Exec("UPDATE deadlines SET due_at = ? WHERE kind = 'delivery' AND subject_id = ?",
			db.Now().Add(-time.Hour), ordered["purchase"]).Error; err != nil {
			t.Fatal(err)
		}
		if vol.get("/assignments").doc(t).Find("[data-testid=assignment-next] [data-testid=overdue-badge]").Length() != 1 {
			t.Error("an overdue delivery shows no badge on the volunteer's home")
		}
		brand := a.as("brand")
		due := brand.get("/authentications/cases").doc(t).Find("[data-testid=brand-case-due]")
		if due.Length() != 1 || !strings.Contains(due.Text(), "Log the item in") {
			t.Errorf("the brand's case list shows %d next steps: %q, want case %s's acceptance", due.Length(), due.Text(), sent["purchase_case"])
		}
	})
}
