package web_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"gorm.io/gorm"

	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/deadline"
)

func flagIDs(t *testing.T, a *app, where string) []string {
	t.Helper()
	var ids []string
	if err := a.db.Gorm.Raw("SELECT CAST(id AS text) FROM flags WHERE " + where + " ORDER BY id").Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestInboxListsOpenFlagsHighestFirstWithFiltersInTheURL(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	a.ingestNDJSON(t, flagJSON("a", "s-1", "Aurora Timepieces", 0.3), flagJSON("b", "s-2", "Aurora Timepieces", 0.7),
		flagJSON("c", "s-3", "Other Brand", 0.5), flagJSON("d", "s-4", "Aurora Timepieces", 0.95))
	staff := a.as("staff")
	rows := staff.get("/flags").doc(t).Find("[data-testid=inbox-row]")
	if rows.Length() != 3 { // the 0.95 flag opened a case by itself
		t.Fatalf("%d rows", rows.Length())
	}
	if first := rows.First().Text(); !strings.Contains(first, "70%") {
		t.Fatalf("first row %q, want the highest score", first)
	}
	filtered := staff.get("/flags?min=0.4&brand=" + itoa(a.brand.ID))
	if n := filtered.doc(t).Find("[data-testid=inbox-row]").Length(); n != 1 {
		t.Fatalf("filtered: %d rows", n)
	}
	staff.header.Set("HX-Request", "true")
	part := staff.get("/flags?min=0.4")
	if strings.Contains(part.body, "<html") || part.doc(t).Find("#inbox-results [data-testid=inbox-row]").Length() != 2 {
		t.Fatalf("htmx partial: %.300s", part.body)
	}
}

func TestTriageOpensAttachesAndDismisses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		a.ingestNDJSON(t, flagJSON("a", "s-1", "Aurora Timepieces", 0.3), flagJSON("b", "s-1", "Aurora Timepieces", 0.4),
			flagJSON("c", "s-2", "Aurora Timepieces", 0.5), flagJSON("d", "s-3", "Aurora Timepieces", 0.6))
		staff := a.as("staff")
		ids := flagIDs(t, a, "status = 'open'")

		res := staff.post("/flags/open-case", url.Values{"flag": {ids[0], ids[1]}})
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/cases/SC-") {
			t.Fatalf("open case: %d %s", res.StatusCode, loc)
		}
		casePage := staff.get(loc)
		if n := casePage.doc(t).Find("[data-testid=case-flags] tbody tr").Length(); n != 2 {
			t.Fatalf("case has %d flags", n)
		}
		ref := strings.TrimPrefix(loc, "/cases/")

		// Dismiss needs a reason; the selection and the inbox stay as they were.
		res = staff.post("/flags/dismiss", url.Values{"flag": {ids[3]}, "reason": {" "}})
		d := res.doc(t)
		if res.StatusCode != http.StatusUnprocessableEntity || d.Find("[data-testid=error-reason]").Length() != 1 {
			t.Fatalf("dismiss without reason: %d", res.StatusCode)
		}
		if _, checked := d.Find("#flag-" + ids[3]).Attr("checked"); !checked {
			t.Fatal("the selection was lost")
		}
		if res := staff.post("/flags/dismiss", url.Values{"flag": {ids[3]}, "reason": {"seller is an authorised reseller"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("dismiss: %d", res.StatusCode)
		}
		// Attaching a flag of an unlinked shop is refused; after linking the shops it works.
		res = staff.post("/flags/attach", url.Values{"flag": {ids[2]}, "case": {ref}})
		if res.StatusCode != http.StatusUnprocessableEntity || res.doc(t).Find("[data-testid=error-case]").Length() != 1 {
			t.Fatalf("attach unlinked: %d", res.StatusCode)
		}
		shop1 := shopID(t, a, "s-1")
		if res := staff.post("/shops/"+shop1+"/links", url.Values{"platform": {"taobao"}, "platform_shop_id": {"s-2"}, "kind": {"same_controller"}, "note": {"registered to another person"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("link: %d %.300s", res.StatusCode, res.body)
		}
		if res := staff.post("/flags/attach", url.Values{"flag": {ids[2]}, "case": {strings.ToLower(ref)}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("attach linked: %d %.300s", res.StatusCode, res.body)
		}
		// A flag handled twice: the second click is told, not obeyed.
		res = staff.post("/flags/dismiss", url.Values{"flag": {ids[0]}, "reason": {"again"}})
		if res.StatusCode != http.StatusConflict || !strings.Contains(res.body, "handled by someone else") {
			t.Fatalf("stale selection: %d", res.StatusCode)
		}
		if n := staff.get("/flags").doc(t).Find("[data-testid=inbox-row]").Length(); n != 0 {
			t.Fatalf("%d flags left in the inbox", n)
		}
		var audited int64
		if err := db.Gorm.Table("audit_events").Where("action IN ('flags.open_case', 'flags.dismiss', 'flags.attach', 'shop.link')").Count(&audited).Error; err != nil {
			t.Fatal(err)
		}
		if audited != 4 {
			t.Fatalf("%d triage actions audited, want 4", audited)
		}
	})
}

func shopID(t *testing.T, a *app, platformID string) string {
	t.Helper()
	var id string
	if err := a.db.Gorm.Raw("SELECT CAST(id AS text) FROM shops WHERE platform_shop_id = ?", platformID).Scan(&id).Error; err != nil {
		t.Fatal(err)
	}
	return id
}

func caseRef(t *testing.T, a *app) string {
	t.Helper()
	var ref string
	if err := a.db.Gorm.Raw("SELECT reference FROM cases ORDER BY id LIMIT 1").Scan(&ref).Error; err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestCasePageOffersExactlyTheTransitionsOfTheTable(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	a.ingestNDJSON(t, flagJSON("a", "s-1", "Aurora Timepieces", 0.9))
	ref := caseRef(t, a)
	staff, admin := a.as("staff"), a.as("admin")
	actions := func(c *client) string {
		var evs []string
		c.get("/cases/" + ref).doc(t).Find("[data-testid=case-actions] [data-testid^=action-]").Each(func(_ int, s *goquery.Selection) {
			v, _ := s.Attr("data-testid")
			evs = append(evs, strings.TrimPrefix(v, "action-"))
		})
		return strings.Join(evs, ",")
	}
	// order_purchase is offered as the link to its own form.
	if got := actions(staff); got != "dismiss,order_purchase" {
		t.Fatalf("staff on a flagged case: %q", got)
	}
	res := staff.post("/cases/"+ref+"/transitions", url.Values{"event": {"dismiss"}, "version": {"1"}, "note": {"authorised reseller"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("dismiss: %d", res.StatusCode)
	}
	if got := actions(staff); got != "" {
		t.Fatalf("staff on a closed case: %q", got)
	}
	if got := actions(admin); got != "reopen" {
		t.Fatalf("admin on a closed case: %q", got)
	}
	// An event the table does not offer is refused even when posted by hand.
	// It says so, not that the case changed.
	if res := staff.post("/cases/"+ref+"/transitions", url.Values{"event": {"reopen"}, "version": {"2"}, "note": {"x"}}); res.StatusCode != http.StatusConflict ||
		!strings.Contains(res.doc(t).Find("[data-testid=form-error]").Text(), "You may not do this now") {
		t.Fatalf("staff reopen by hand: %d\n%.1500s", res.StatusCode, res.body)
	}
	tl := staff.get("/cases/" + ref).doc(t).Find("[data-testid=timeline] li")
	if tl.Length() != 2 || !strings.Contains(tl.Last().Text(), "authorised reseller") {
		t.Fatalf("timeline: %d entries", tl.Length())
	}
}

func TestTwentySimultaneousClicksLetOneWinAndTellTheOthersToReload(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		a.ingestNDJSON(t, flagJSON("a", "s-1", "Aurora Timepieces", 0.9))
		ref := caseRef(t, a)
		// Staff read English; the admin chose Chinese (a setting kept on
		// the account, so every admin session is Chinese).
		a.as("admin").post("/language", url.Values{"lang": {"zh"}})
		clients := make([]*client, 20)
		for i := range clients {
			clients[i] = a.as("staff")
			if i%2 == 1 {
				clients[i] = a.as("admin")
			}
		}
		statuses := make([]int, 20)
		bodies := make([]string, 20)
		var wg sync.WaitGroup
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := c.post("/cases/"+ref+"/transitions", url.Values{"event": {"dismiss"}, "version": {"1"}, "note": {"reason " + strconv.Itoa(i)}})
				statuses[i], bodies[i] = r.StatusCode, r.body
			}()
		}
		wg.Wait()
		wins := 0
		for i, st := range statuses {
			switch st {
			case http.StatusSeeOther:
				wins++
			case http.StatusConflict:
				want := "changed by someone else — reload"
				if i%2 == 1 {
					want = "已被他人修改，请刷新"
				}
				if !strings.Contains(bodies[i], want) {
					t.Errorf("client %d: conflict page without %q:\n%s", i, want, bodies[i])
				}
				if !strings.Contains(bodies[i], "reason "+strconv.Itoa(i)) {
					t.Errorf("client %d: the typed reason was lost", i)
				}
			default:
				t.Errorf("client %d: status %d", i, st)
			}
		}
		if wins != 1 {
			t.Fatalf("%d clicks won, want 1", wins)
		}
	})
}

func TestAssignAndCommentShowOnTheTimeline(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	a.ingestNDJSON(t, flagJSON("a", "s-1", "Aurora Timepieces", 0.9))
	ref := caseRef(t, a)
	staff := a.as("staff")
	if res := staff.post("/cases/"+ref+"/assign", url.Values{"investigator": {itoa(a.accounts["staff"].ID)}, "version": {"1"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("assign: %d", res.StatusCode)
	}
	if res := staff.post("/cases/"+ref+"/assign", url.Values{"investigator": {itoa(a.accounts["volunteer"].ID)}, "version": {"2"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("assign a volunteer: %d", res.StatusCode)
	}
	res := staff.post("/cases/"+ref+"/comments", url.Values{"body": {""}})
	if res.StatusCode != http.StatusUnprocessableEntity || res.doc(t).Find("[data-testid=error-body]").Length() != 1 {
		t.Fatalf("empty comment: %d", res.StatusCode)
	}
	staff.post("/cases/"+ref+"/comments", url.Values{"body": {"<script>alert(1)</script> seller moved to a new shop"}})
	page := staff.get("/cases/" + ref)
	d := page.doc(t)
	if got := strings.TrimSpace(d.Find("[data-testid=investigator]").Text()); got != "Test staff" {
		t.Fatalf("investigator %q", got)
	}
	if strings.Contains(page.body, "<script>alert(1)</script>") || !strings.Contains(d.Find("[data-testid=timeline]").Text(), "seller moved") {
		t.Fatal("the comment is missing or not escaped")
	}
}

func TestCaseListFiltersSearchAndExport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		lines := []string{}
		for i := range 60 {
			lines = append(lines, flagJSON("f-"+strconv.Itoa(i), "shop-"+strconv.Itoa(i), "Aurora Timepieces", 0.9))
		}
		lines = append(lines, strings.Replace(flagJSON("evil", "=cmd|calc", "Aurora Timepieces", 0.9), `"name":"Star Watch =cmd|calc"`, `"name":"=HYPERLINK(\"x\")"`, 1))
		a.ingestNDJSON(t, lines...)
		staff := a.as("staff")
		page := staff.get("/cases")
		d := page.doc(t)
		if n := d.Find("[data-testid=case-row]").Length(); n != 50 {
			t.Fatalf("first page %d rows", n)
		}
		if got := strings.TrimSpace(d.Find("[data-testid=count-flagged] .badge").Text()); got != "61" {
			t.Fatalf("flagged count %q", got)
		}
		next, _ := d.Find("[data-testid=next-page]").Attr("href")
		if n := staff.get(next).doc(t).Find("[data-testid=case-row]").Length(); n != 11 {
			t.Fatalf("second page %d rows (%s)", n, next)
		}
		if n := staff.get("/cases?q=shop-42").doc(t).Find("[data-testid=case-row]").Length(); n != 1 {
			t.Fatalf("search: %d rows", n)
		}
		if n := staff.get("/cases?state=closed").doc(t).Find("[data-testid=case-row]").Length(); n != 0 {
			t.Fatalf("closed: %d rows", n)
		}
		bad := staff.get("/cases?min=abc&after=!!")
		if bad.StatusCode != 200 || bad.doc(t).Find("[data-testid=filter-error-min]").Length() != 1 {
			t.Fatalf("bad filters: %d", bad.StatusCode)
		}
		exp := staff.get("/cases/export.csv?q=star")
		if exp.StatusCode != 200 || !strings.HasPrefix(exp.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(exp.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export: %d %q", exp.StatusCode, exp.Header.Get("Content-Type"))
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(exp.body, "\ufeff"))).ReadAll()
		if err != nil || len(recs) != 61 || recs[0][0] != "reference" {
			t.Fatalf("csv: %d rows, %v", len(recs), err)
		}
		all, _ := csv.NewReader(strings.NewReader(strings.TrimPrefix(staff.get("/cases/export.csv").body, "\ufeff"))).ReadAll()
		for _, r := range all {
			if strings.HasPrefix(r[4], "=") {
				t.Fatalf("a formula reached the CSV: %q", r[4])
			}
		}
	})
}

func TestShopPageShowsTheNetworkAndLinksAreAudited(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	a.ingestNDJSON(t, flagJSON("a", "s-1", "Aurora Timepieces", 0.9), flagJSON("b", "s-2", "Aurora Timepieces", 0.9))
	staff := a.as("staff")
	s1, s2 := shopID(t, a, "s-1"), shopID(t, a, "s-2")
	res := staff.post("/shops/"+s1+"/links", url.Values{"platform": {"taobao"}, "platform_shop_id": {"s-1"}, "kind": {"same_phone"}})
	if res.StatusCode != http.StatusUnprocessableEntity || res.doc(t).Find("[data-testid=error-platform_shop_id]").Length() != 1 {
		t.Fatalf("self link: %d", res.StatusCode)
	}
	if v, _ := res.doc(t).Find("#f-platform_shop_id").Attr("value"); v != "s-1" {
		t.Fatal("the typed shop id was lost")
	}
	staff.post("/shops/"+s1+"/links", url.Values{"platform": {"taobao"}, "platform_shop_id": {"s-2"}, "kind": {"same_payout_account"}})
	d := staff.get("/shops/" + s2).doc(t)
	if d.Find("[data-testid=shop-links] li").Length() != 1 || d.Find("[data-testid=shop-cases] li").Length() != 2 {
		t.Fatalf("shop 2 network: %d links, %d cases", d.Find("[data-testid=shop-links] li").Length(), d.Find("[data-testid=shop-cases] li").Length())
	}
	var ref string
	if err := a.db.Gorm.Raw("SELECT reference FROM cases c JOIN shops s ON s.id = c.shop_id WHERE s.platform_shop_id = 's-1'").Scan(&ref).Error; err != nil {
		t.Fatal(err)
	}
	cp := staff.get("/cases/" + ref).doc(t)
	if cp.Find("[data-testid=linked-shop]").Length() != 1 || !strings.Contains(cp.Find("[data-testid=linked-shop]").Text(), "SC-") {
		t.Fatal("the case page does not show the linked shop with its case")
	}
	var linkID string
	if err := a.db.Gorm.Raw("SELECT CAST(id AS text) FROM shop_links").Scan(&linkID).Error; err != nil {
		t.Fatal(err)
	}
	if res := staff.post("/shops/"+s2+"/links/"+linkID+"/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("unlink: %d", res.StatusCode)
	}
	var n int64
	if err := a.db.Gorm.Table("audit_events").Where("action IN ('shop.link', 'shop.unlink')").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("%d link changes audited", n)
	}
}

// The staff's work queues: "my open cases" and "unassigned", each with its
// count, each linking to the list it counts.
func TestWorkQueuesCountAndListTheirCases(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		a.ingestNDJSON(t, flagJSON("q1", "q-1", "Aurora Timepieces", 0.9), flagJSON("q2", "q-2", "Aurora Timepieces", 0.9),
			flagJSON("q3", "q-3", "Aurora Timepieces", 0.9), flagJSON("q4", "q-4", "Aurora Timepieces", 0.9))
		var cs []struct {
			ID        int64
			Reference string
			Version   int
		}
		if err := a.db.Gorm.Raw("SELECT id, reference, version FROM cases ORDER BY id").Scan(&cs).Error; err != nil {
			t.Fatal(err)
		}
		if len(cs) != 4 {
			t.Fatalf("%d cases", len(cs))
		}
		ctx := t.Context()
		staffActor := a.accounts["staff"].Actor()
		if _, err := a.cases.Assign(ctx, staffActor, cs[0].ID, cs[0].Version, a.accounts["staff"].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.cases.Fire(ctx, staffActor, cs[3].ID, cs[3].Version, casework.Dismiss, "a duplicate"); err != nil {
			t.Fatal(err)
		}
		staff := a.as("staff")
		home := staff.get("/cases").doc(t)
		for id, want := range map[string]string{"queue-mine": "1", "queue-unassigned": "2"} {
			q := home.Find("[data-testid=" + id + "]")
			if got := strings.TrimSpace(q.Find(".badge").Text()); got != want {
				t.Errorf("%s counts %q, want %s", id, got, want)
			}
			href, _ := q.Attr("href")
			listed := staff.get(href).doc(t).Find("[data-testid=case-row]")
			if strconv.Itoa(listed.Length()) != want {
				t.Errorf("%s links %s, which lists %d cases, want %s", id, href, listed.Length(), want)
			}
			if id == "queue-mine" && !strings.Contains(listed.Text(), cs[0].Reference) {
				t.Errorf("my queue lists %q", listed.Text())
			}
			if id == "queue-unassigned" && (strings.Contains(listed.Text(), cs[0].Reference) || strings.Contains(listed.Text(), cs[3].Reference)) {
				t.Errorf("the unassigned queue lists an assigned or a closed case: %q", listed.Text())
			}
		}
	})
}

func TestOverdueStepsShowOnTheCaseListAndInTheWaitingOnMeQueue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		a.ingestNDJSON(t, flagJSON("o1", "o-1", "Aurora Timepieces", 0.9), flagJSON("o2", "o-2", "Aurora Timepieces", 0.9),
			flagJSON("o3", "o-3", "Aurora Timepieces", 0.9))
		var cs []struct {
			ID        int64
			Reference string
			Version   int
		}
		if err := a.db.Gorm.Raw("SELECT id, reference, version FROM cases ORDER BY id").Scan(&cs).Error; err != nil {
			t.Fatal(err)
		}
		if len(cs) != 3 {
			t.Fatalf("%d cases", len(cs))
		}
		ctx := t.Context()
		me := a.accounts["staff"]
		if _, err := a.cases.Assign(ctx, me.Actor(), cs[0].ID, cs[0].Version, me.ID); err != nil {
			t.Fatal(err)
		}
		now := a.db.Now()
		// Mine and past due; nobody's and past due; mine and not yet due.
		if err := a.db.InTx(ctx, func(tx *gorm.DB) error {
			for i, due := range []time.Time{now.Add(-time.Hour), now.Add(-time.Hour), now.Add(48 * time.Hour)} {
				if err := deadline.StartTx(tx, deadline.Step{Kind: deadline.Verdict, CaseID: cs[i].ID, SubjectID: cs[i].ID,
					Party: deadline.Brand, PartyID: 1, Due: due}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		staff := a.as("staff")
		home := staff.get("/cases").doc(t)
		if n := home.Find("[data-testid=overdue-badge]").Length(); n != 2 {
			t.Errorf("%d overdue badges on the list, want 2", n)
		}
		q := home.Find("[data-testid=queue-waiting]")
		if got := strings.TrimSpace(q.Find(".badge").Text()); got != "1" {
			t.Errorf("waiting on me counts %q, want 1", got)
		}
		href, _ := q.Attr("href")
		listed := staff.get(href).doc(t).Find("[data-testid=case-row]")
		if listed.Length() != 1 || !strings.Contains(listed.Text(), cs[0].Reference) {
			t.Errorf("waiting on me (%s) lists %d: %q, want %s only", href, listed.Length(), listed.Text(), cs[0].Reference)
		}
		overdue := staff.get("/cases?overdue=1").doc(t).Find("[data-testid=case-row]")
		if overdue.Length() != 2 || strings.Contains(overdue.Text(), cs[2].Reference) {
			t.Errorf("the overdue filter lists %d: %q, want the two past due", overdue.Length(), overdue.Text())
		}
		if staff.get("/cases?waiting=everyone").doc(t).Find("[data-testid=filter-error-waiting]").Length() != 1 {
			t.Error("an unknown waiting queue was not refused with a message")
		}
	})
}

func TestTheCasePageShowsItsStepsDueTimesAndWhoMustAct(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		a.ingestNDJSON(t, flagJSON("d1", "d-1", "Aurora Timepieces", 0.9), flagJSON("d2", "d-2", "Aurora Timepieces", 0.9))
		var cs []struct {
			ID        int64
			Reference string
			BrandID   int64
		}
		if err := a.db.Gorm.Raw("SELECT id, reference, brand_id FROM cases ORDER BY id").Scan(&cs).Error; err != nil {
			t.Fatal(err)
		}
		if len(cs) != 2 {
			t.Fatalf("%d cases", len(cs))
		}
		ctx := t.Context()
		now := a.db.Now()
		if err := a.db.InTx(ctx, func(tx *gorm.DB) error {
			for i, due := range []time.Time{now.Add(-time.Hour), now.Add(48 * time.Hour)} {
				if err := deadline.StartTx(tx, deadline.Step{Kind: deadline.Verdict, CaseID: cs[i].ID, SubjectID: cs[i].ID,
					Party: deadline.Brand, PartyID: cs[i].BrandID, Due: due}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		staff := a.as("staff")
		for i, wantOverdue := range []bool{true, false} {
			rows := staff.get("/cases/" + cs[i].Reference).doc(t).Find("[data-testid=case-deadlines] [data-testid=deadline-row]")
			if rows.Length() != 1 {
				t.Fatalf("case %s shows %d deadlines, want 1", cs[i].Reference, rows.Length())
			}
			text := rows.Text()
			if kind, _ := rows.Attr("data-kind"); kind != "verdict" || !strings.Contains(text, "Sign the verdict") ||
				!strings.Contains(text, "Aurora Timepieces") {
				t.Errorf("case %s deadline %q (%s), want the brand's verdict, naming the brand", cs[i].Reference, text, kind)
			}
			if got := rows.Find("[data-testid=overdue-badge]").Length() == 1; got != wantOverdue {
				t.Errorf("case %s overdue shown %v, want %v: %q", cs[i].Reference, got, wantOverdue, text)
			}
		}
		if err := a.db.InTx(ctx, func(tx *gorm.DB) error { return deadline.MeetTx(tx, deadline.Verdict, cs[1].ID) }); err != nil {
			t.Fatal(err)
		}
		doc := staff.get("/cases/" + cs[1].Reference).doc(t)
		if doc.Find("[data-testid=deadlines-none]").Length() != 1 || doc.Find("[data-testid=case-deadlines-done] [data-testid=deadline-row]").Length() != 1 {
			t.Errorf("a met deadline is not listed as done: %q", doc.Find("#deadlines").Text())
		}
		staff.header.Set("Accept-Language", "zh-CN,zh;q=0.9")
		zh := staff.get("/cases/" + cs[0].Reference).doc(t).Find("#deadlines").Text()
		if !strings.Contains(zh, "签署鉴定结论") || !strings.Contains(zh, "已逾期") {
			t.Errorf("the Chinese case page's deadlines read %q", zh)
		}
	})
}

// TestTheStateTabsCountTheBrandTheListIsFilteredOn: a tab links to the
// list with the brand kept, so its number counts that brand's cases.
func TestTheStateTabsCountTheBrandTheListIsFilteredOn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		a.ingestNDJSON(t, flagJSON("tab-1", "tab-1", "Aurora Timepieces", 0.9), flagJSON("tab-2", "tab-2", "Aurora Timepieces", 0.9),
			flagJSON("tab-3", "tab-3", "Other Brand", 0.9))
		staff := a.as("staff")
		for brand, want := range map[string]string{"": "3", itoa(a.brand.ID): "2", itoa(a.other.ID): "1"} {
			doc := staff.get("/cases?brand=" + brand).doc(t)
			tab := doc.Find("[data-testid=count-flagged]")
			if got := strings.TrimSpace(tab.Find(".badge").Text()); got != want {
				t.Errorf("brand %q: the flagged tab counts %q, want %s", brand, got, want)
			}
			href, _ := tab.Attr("href")
			if n := strconv.Itoa(staff.get(href).doc(t).Find("[data-testid=case-row]").Length()); n != want {
				t.Errorf("brand %q: the tab links to %s, which lists %s", brand, href, n)
			}
		}
	})
}

// TestBulkAssignmentGivesTheTickedCasesToOneInvestigatorOrNone ticks
// cases on the list and assigns them at once: each is assigned, on its
// timeline and audited; a refused bulk (nothing ticked, a volunteer as
// investigator) writes nothing and says why on the list it came from; the
// way back never leaves the case list.
func TestBulkAssignmentGivesTheTickedCasesToOneInvestigatorOrNone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		for i, shop := range []string{"b-1", "b-2", "b-3", "b-4"} {
			a.ingestNDJSON(t, flagJSON("bulk-"+itoa(int64(i)), shop, "Aurora Timepieces", 0.9))
		}
		staff := a.as("staff")
		var ids []string
		staff.get("/cases?state=flagged").doc(t).Find("[data-testid=bulk-case]").Each(func(_ int, s *goquery.Selection) {
			v, _ := s.Attr("value")
			ids = append(ids, v)
		})
		if len(ids) != 4 {
			t.Fatalf("%d cases to tick on the list", len(ids))
		}
		assigned := func() (n, events, audited int64) {
			t.Helper()
			for q, to := range map[string]*int64{
				"SELECT count(*) FROM cases WHERE investigator_id IS NOT NULL":   &n,
				"SELECT count(*) FROM case_events WHERE kind = 'assignment'":     &events,
				"SELECT count(*) FROM audit_events WHERE action = 'case.assign'": &audited,
			} {
				if err := db.Gorm.Raw(q).Row().Scan(to); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			return n, events, audited
		}
		me := itoa(a.accounts["staff"].ID)
		for _, refused := range []struct {
			form url.Values
			msg  string
		}{
			{url.Values{"investigator": {me}, "back": {"/cases?state=flagged"}}, "Tick the cases to assign first."},
			{url.Values{"case": ids[:3], "investigator": {itoa(a.accounts["volunteer"].ID)}, "back": {"/cases?state=flagged"}}, "Choose an active staff member."},
		} {
			// The list it came from again, saying why, the ticks and the
			// investigator chosen kept.
			res := staff.post("/cases/assign", refused.form)
			if res.StatusCode != invalid {
				t.Fatalf("refused bulk: %d → %q", res.StatusCode, res.Header.Get("Location"))
			}
			d := res.doc(t)
			if got := d.Find("[data-testid=bulk-error]").Text(); !strings.Contains(got, refused.msg) {
				t.Errorf("the list says %q, not %q", got, refused.msg)
			}
			var ticked []string
			d.Find("[data-testid=bulk-case][checked]").Each(func(_ int, s *goquery.Selection) {
				v, _ := s.Attr("value")
				ticked = append(ticked, v)
			})
			if slices.Sort(ticked); !slices.Equal(ticked, slices.Sorted(slices.Values(refused.form["case"]))) {
				t.Errorf("ticked after the refusal: %v, want %v", ticked, refused.form["case"])
			}
			offered := d.Find("#bulk-investigator option[value='"+refused.form.Get("investigator")+"']").Length() > 0
			if v, _ := d.Find("#bulk-investigator option[selected]").Attr("value"); offered && v != refused.form.Get("investigator") {
				t.Errorf("the investigator chosen is %q after the refusal, want %q", v, refused.form.Get("investigator"))
			}
			if n := d.Find("[data-testid=case-row]").Length(); n != 4 {
				t.Errorf("the list it came from shows %d cases, not the 4 flagged", n)
			}
			if n, events, audited := assigned(); n+events+audited != 0 {
				t.Fatalf("a refused bulk wrote %d assignments, %d timeline entries, %d audit events", n, events, audited)
			}
		}
		res := staff.post("/cases/assign", url.Values{"case": ids[:3], "investigator": {me}, "back": {"https://elsewhere.example/cases"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/cases" {
			t.Fatalf("bulk: %d → %q", res.StatusCode, res.Header.Get("Location"))
		}
		if n, events, audited := assigned(); n != 3 || events != 3 || audited != 3 {
			t.Fatalf("3 cases ticked: %d assigned, %d timeline entries, %d audit events", n, events, audited)
		}
		// Again with the fourth: the three already there are left alone.
		staff.post("/cases/assign", url.Values{"case": ids, "investigator": {me}})
		if n, events, _ := assigned(); n != 4 || events != 4 {
			t.Fatalf("4 cases ticked: %d assigned, %d timeline entries", n, events)
		}
		mine := staff.get("/cases?investigator=" + me + "&open=1").doc(t).Find("[data-testid=case-row]").Length()
		if mine != 4 {
			t.Errorf("my queue lists %d cases", mine)
		}
	})
}
