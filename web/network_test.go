package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"gorm.io/gorm"

	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
)

// identifiedFlag is a flag whose shop carries identifiers (a JSON array).
func identifiedFlag(ext, shopID, identifiers string) string {
	return strings.Replace(flagJSON(ext, shopID, "Aurora Timepieces", 0.9), `"owner":"Liu Wei"}`,
		`"owner":"Liu Wei","identifiers":`+identifiers+`}`, 1)
}

// rawMarkers are the planted identifier values in every form they could be
// stored in: as sent, normalised, and the parts a careless mask would keep.
var rawMarkers = []string{"13800132231", "138 0013 2231", "800132231", "330106199001011234", "199001011234",
	"planted.marker", "Planted.Marker", "标记路", "6222021234567890", "021234567890", "imei-planted-8842"}

// TestShopIdentifiersArriveHashedAndSuggestALink sends two flags through
// the API whose shops share a phone (written two ways) and an address (as
// a return and as a warehouse address), with other identifiers planted as
// markers: the answer counts one suggested link; bad identifiers are
// refused by index and field; no raw value is in any column of any table
// or in the log; staff see the suggestion on the shop page with its masked
// evidence and confirm it into a shop link, audited; a brand user sees
// none of it.
func TestShopIdentifiersArriveHashedAndSuggestALink(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		secret := newToken(t, a)
		body := "[" + strings.Join([]string{
			identifiedFlag("net-1", "net-shop-1", `[{"kind":"phone","value":"138 0013 2231"},{"kind":"id_document","value":"330106199001011234"},`+
				`{"kind":"email","value":"Planted.Marker@Example.com"},{"kind":"return_address","value":"江苏省南京市鼓楼区标记路77号"},`+
				`{"kind":"payout_account","value":"6222-0212-3456-7890"},{"kind":"device","value":"IMEI-planted-8842"}]`),
			identifiedFlag("net-2", "net-shop-2", `[{"kind":"phone","value":"+86 13800132231"},{"kind":"warehouse_address","value":"江苏省 南京市 鼓楼区 标记路 77 号"}]`),
			identifiedFlag("net-3", "net-shop-3", `[{"kind":"phone","value":"13800132231"},{"kind":"shoe_size","value":"42"}]`),
			identifiedFlag("net-4", "net-shop-4", `[{"kind":"phone","value":"call me 13800132231!"}]`),
		}, ",") + "]"
		res := a.api(t, secret, "application/json", body, nil)
		got := decodeResult(t, res)
		if res.StatusCode != http.StatusOK || got.Created != 2 || got.LinksSuggested != 1 || len(got.Rejected) != 2 {
			t.Fatalf("status %d: %+v", res.StatusCode, got)
		}
		for i, want := range []struct {
			index       int
			field, code string
		}{{2, "shop.identifiers[1].kind", "unknown_kind"}, {3, "shop.identifiers[0].value", "invalid_phone"}} {
			if r := got.Rejected[i]; r.Index != want.index || r.Field != want.field || r.Code != want.code {
				t.Errorf("rejection %d = %+v, want %+v", i, r, want)
			}
		}
		if strings.Contains(res.body, "13800132231") {
			t.Errorf("the answer repeats a raw value: %s", res.body)
		}
		// A refused record wrote nothing: not its shop, not its identifiers.
		if n := scalarOf(t, db, "SELECT count(*) FROM shops WHERE platform_shop_id IN ('net-shop-3', 'net-shop-4')"); n != 0 {
			t.Errorf("refused records stored %d shops", n)
		}
		if n := scalarOf(t, db, "SELECT count(*) FROM shop_identifiers"); n != 8 {
			t.Errorf("%d identifiers stored, want 8", n)
		}

		if found := markersInDatabase(t, db, rawMarkers); len(found) > 0 {
			t.Errorf("raw identifier values are in the database: %v", found)
		}
		if found := markersIn(a.logs.String(), rawMarkers); len(found) > 0 {
			t.Errorf("raw identifier values are in the log: %v", found)
		}

		var one, two int64
		if err := db.Gorm.Raw("SELECT id FROM shops WHERE platform_shop_id = 'net-shop-1'").Row().Scan(&one); err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Raw("SELECT id FROM shops WHERE platform_shop_id = 'net-shop-2'").Row().Scan(&two); err != nil {
			t.Fatal(err)
		}
		staff := a.as("staff")
		shopPage := fmt.Sprintf("/shops/%d", one)
		d := staff.get(shopPage).doc(t)
		sg := d.Find("[data-testid=suggested-link]")
		if sg.Length() != 1 {
			t.Fatalf("%d suggested links on the shop page", sg.Length())
		}
		evidence := sg.Find("[data-testid=link-evidence]").Text()
		for _, want := range []string{"+86 138****2231", "江苏省南京市****", "Phone", "Return address"} {
			if !strings.Contains(evidence, want) {
				t.Errorf("the evidence %q does not show %q", evidence, want)
			}
		}
		if ids := d.Find("[data-testid=shop-identifiers] tbody tr").Length(); ids != 6 {
			t.Errorf("the shop page lists %d identifiers, want 6", ids)
		}
		action, _ := sg.Find("[data-testid=suggestion-form]").Attr("action")

		// A brand user sees neither the page nor can decide.
		brand := a.as("brand")
		if r := brand.get(shopPage); r.StatusCode != http.StatusForbidden {
			t.Errorf("a brand user opens the shop page: %d", r.StatusCode)
		}
		if r := brand.post(action, url.Values{"decision": {"confirm"}, "note": {"mine"}}); r.StatusCode != http.StatusForbidden {
			t.Errorf("a brand user decides a suggestion: %d", r.StatusCode)
		}

		// Without a note: refused, nothing written.
		r := staff.post(action, url.Values{"decision": {"confirm"}, "note": {"  "}})
		if r.StatusCode != invalid || r.doc(t).Find("[data-testid=suggested-link] [aria-invalid=true]").Length() != 1 {
			t.Errorf("a decision without a note: %d", r.StatusCode)
		}
		if n := scalarOf(t, db, "SELECT count(*) FROM shop_links"); n != 0 {
			t.Errorf("a refused confirmation wrote %d links", n)
		}
		if r := staff.post(action, url.Values{"decision": {"confirm"}, "note": {"same phone and the same warehouse"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirm: %d", r.StatusCode)
		}
		if n := scalarOf(t, db, "SELECT count(*) FROM shop_links WHERE shop_a_id = ? AND shop_b_id = ? AND kind = 'same_phone'", min(one, two), max(one, two)); n != 1 {
			t.Errorf("the confirmed suggestion made %d phone links", n)
		}
		if n := scalarOf(t, db, "SELECT count(*) FROM audit_events WHERE action = 'shop.suggestion_confirm'"); n != 1 {
			t.Errorf("%d confirmations audited", n)
		}
		d = staff.get(shopPage).doc(t)
		if d.Find("[data-testid=suggested-link]").Length() != 0 || d.Find("[data-testid=shop-links] li").Length() != 1 {
			t.Errorf("after confirming: %d suggestions, %d links", d.Find("[data-testid=suggested-link]").Length(), d.Find("[data-testid=shop-links] li").Length())
		}
		// Decided already: a second decision is refused.
		if r := staff.post(action, url.Values{"decision": {"reject"}, "note": {"changed my mind"}}); r.StatusCode != http.StatusSeeOther ||
			scalarOf(t, db, "SELECT count(*) FROM link_suggestions WHERE status = 'confirmed'") != 1 {
			t.Errorf("a second decision: %d", r.StatusCode)
		}
		if found := markersInDatabase(t, db, rawMarkers); len(found) > 0 {
			t.Errorf("after the decision, raw identifier values are in the database: %v", found)
		}
	})
}

// markersInDatabase reads every row of every table and returns the
// markers found in any of its values, with the table.
func markersInDatabase(t *testing.T, db *database.DB, markers []string) []string {
	t.Helper()
	var tables []string
	q := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if db.Dialect == database.Postgres {
		q = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
	}
	if err := db.Gorm.Raw(q).Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	if len(tables) < 20 {
		t.Fatalf("only %d tables to search: %v", len(tables), tables)
	}
	var found []string
	for _, table := range tables {
		rows, err := db.Gorm.Raw(`SELECT * FROM "` + table + `"`).Rows()
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			var b strings.Builder
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					b.Write(bs)
				} else {
					fmt.Fprint(&b, v)
				}
				b.WriteByte('\x00')
			}
			for _, m := range markersIn(b.String(), markers) {
				found = append(found, table+": "+m)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return found
}

// TestTheClusterPageShowsTheNetwork links three shops in a chain through
// the shop page's own form and a fourth through a confirmed suggestion:
// the shop and case pages link to one network page, which lists the four
// with their worst case, draws four nodes and three edges labelled by
// kind, names what ties them (masked), and counts the network's cases; a
// shop with no link has no network; a brand user cannot open it.
func TestTheClusterPageShowsTheNetwork(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		a.ingestNDJSON(t, flagJSON("cl-1", "cl-shop-1", "Aurora Timepieces", 0.9), flagJSON("cl-2", "cl-shop-2", "Aurora Timepieces", 0.2),
			flagJSON("cl-3", "cl-shop-3", "Aurora Timepieces", 0.2), flagJSON("cl-5", "cl-shop-5", "Aurora Timepieces", 0.2))
		a.ingestNDJSON(t, identifiedFlag("cl-4", "cl-shop-4", `[{"kind":"payout_account","value":"6222 0000 1111 2222"}]`),
			identifiedFlag("cl-3b", "cl-shop-3", `[{"kind":"payout_account","value":"6222-0000-1111-2222"}]`))
		id := map[string]int64{}
		for _, s := range []string{"cl-shop-1", "cl-shop-2", "cl-shop-3", "cl-shop-4", "cl-shop-5"} {
			id[s] = scalarOf(t, db, "SELECT id FROM shops WHERE platform_shop_id = ?", s)
		}
		staff := a.as("staff")
		for _, l := range [][2]string{{"cl-shop-1", "cl-shop-2"}, {"cl-shop-2", "cl-shop-3"}} {
			if r := staff.post(fmt.Sprintf("/shops/%d/links", id[l[0]]), url.Values{"platform": {"taobao"}, "platform_shop_id": {l[1]},
				"kind": {"same_address"}, "note": {"one warehouse"}}); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("link %v: %d", l, r.StatusCode)
			}
		}
		action, _ := staff.get(fmt.Sprintf("/shops/%d", id["cl-shop-4"])).doc(t).Find("[data-testid=suggestion-form]").Attr("action")
		if r := staff.post(action, url.Values{"decision": {"confirm"}, "note": {"one payout account"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirm: %d", r.StatusCode)
		}
		href, ok := staff.get(fmt.Sprintf("/shops/%d", id["cl-shop-1"])).doc(t).Find("[data-testid=shop-cluster]").Attr("href")
		if !ok {
			t.Fatal("the shop page does not link to its network")
		}
		var ref string
		if err := db.Gorm.Raw("SELECT reference FROM cases WHERE shop_id = ?", id["cl-shop-1"]).Row().Scan(&ref); err != nil {
			t.Fatal(err)
		}
		if h, _ := staff.get("/cases/" + ref).doc(t).Find("[data-testid=case-cluster]").Attr("href"); h != href {
			t.Errorf("the case page links to %q, the shop page to %q", h, href)
		}
		if staff.get(fmt.Sprintf("/shops/%d", id["cl-shop-5"])).doc(t).Find("[data-testid=shop-cluster]").Length() != 0 {
			t.Error("a shop with no link links to a network")
		}
		res := staff.get(href)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", href, res.StatusCode)
		}
		d := res.doc(t)
		standing := map[string]string{}
		d.Find("[data-testid=cluster-shop]").Each(func(_ int, s *goquery.Selection) {
			v, _ := s.Attr("data-standing")
			standing[strings.TrimSpace(s.Find("td").First().Text())] = v
		})
		if len(standing) != 4 || standing["Star Watch cl-shop-1"] != "flagged" || standing["Star Watch cl-shop-2"] != "unseen" {
			t.Errorf("the network's shops: %v", standing)
		}
		if n, e := d.Find("[data-testid=cluster-node]").Length(), d.Find("[data-testid=cluster-edge]").Length(); n != 4 || e != 3 {
			t.Errorf("the graph draws %d shops and %d links, want 4 and 3", n, e)
		}
		if k, _ := d.Find("[data-testid=cluster-edge][data-kind=same_payout_account]").Attr("data-kind"); k == "" {
			t.Error("the confirmed suggestion's edge is not labelled by its kind")
		}
		if ties := d.Find("[data-testid=cluster-ties]").Text(); !strings.Contains(ties, "****2222") || strings.Contains(ties, "6222") {
			t.Errorf("the ties read %q, want the masked payout account only", ties)
		}
		if got := d.Find("[data-testid=cluster-open]").Text(); got != "3" { // shops 1, 3 and 4 (their flags scored 0.9)
			t.Errorf("the network counts %s open cases, want 3", got)
		}
		if r := a.as("brand").get(href); r.StatusCode != http.StatusForbidden {
			t.Errorf("a brand user opens the network: %d", r.StatusCode)
		}
	})
}

// TestARepeatOffenderIsCaughtAtTheDoor closes a shop's case as enforced,
// then sends through the API a low-scoring flag for a new shop that shares
// its phone (written another way): it opens a case whatever its score,
// marked and with its priority raised, the flag names the earlier case,
// the answer counts it, the earlier case's investigator and the admins are
// told, and the list and the case page say why; a second flag joins that
// case; a flag tied only to a shop never penalised is no repeat offender.
func TestARepeatOffenderIsCaughtAtTheDoor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		a.startWorkers()
		ctx := t.Context()
		a.ingestNDJSON(t, identifiedFlag("old-1", "old-shop", `[{"kind":"phone","value":"139 1111 2222"}]`),
			identifiedFlag("clean-1", "clean-shop", `[{"kind":"email","value":"clean@example.com"}]`))
		var old casework.Case
		if err := db.Gorm.Where("shop_id = ?", scalarOf(t, db, "SELECT id FROM shops WHERE platform_shop_id = 'old-shop'")).Take(&old).Error; err != nil {
			t.Fatal(err)
		}
		staff := a.accounts["staff"]
		if _, err := a.cases.Assign(ctx, staff.Actor(), old.ID, old.Version, staff.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *gorm.DB) error {
			for _, ev := range []casework.Event{casework.OrderPurchase, casework.SendToBrand, casework.VerdictCounterfeit, casework.CloseEnforced} {
				var c casework.Case
				if err := tx.Take(&c, old.ID).Error; err != nil {
					return err
				}
				who := staff.Actor()
				if ev == casework.VerdictCounterfeit { // the brand's to sign
					who = a.accounts["brand"].Actor()
				}
				if _, err := casework.FireTx(ctx, tx, who, casework.Firing{CaseID: c.ID, Version: c.Version, Event: ev, Note: "done", Shared: true}); err != nil {
					return fmt.Errorf("%s: %w", ev, err)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}

		secret := newToken(t, a)
		low := func(ext, shop, ids string) string {
			return strings.Replace(identifiedFlag(ext, shop, ids), `"score":0.9`, `"score":0.1`, 1)
		}
		got := decodeResult(t, a.api(t, secret, "application/json", "["+low("new-1", "new-shop", `[{"kind":"phone","value":"+86 13911112222"}]`)+","+
			low("tied-1", "tied-shop", `[{"kind":"email","value":"CLEAN@example.com"}]`)+"]", nil))
		if got.Created != 2 || got.RepeatOffenders != 1 || got.CasesOpened != 1 || got.LinksSuggested != 2 {
			t.Fatalf("the answer: %+v", got)
		}
		var c casework.Case
		if err := db.Gorm.Where("shop_id = ?", scalarOf(t, db, "SELECT id FROM shops WHERE platform_shop_id = 'new-shop'")).Take(&c).Error; err != nil {
			t.Fatalf("the repeat offender's flag opened no case: %v", err)
		}
		if !c.RepeatOffender || c.Priority != casework.RepeatPriority {
			t.Errorf("the new case: repeat %v, priority %d", c.RepeatOffender, c.Priority)
		}
		if n := scalarOf(t, db, "SELECT count(*) FROM flags WHERE external_id = 'new-1' AND repeat_of_case_id = ?", old.ID); n != 1 {
			t.Errorf("the flag does not name the earlier case")
		}
		if n := scalarOf(t, db, "SELECT count(*) FROM cases c JOIN shops s ON s.id = c.shop_id WHERE s.platform_shop_id = 'tied-shop'"); n != 0 {
			t.Errorf("a low flag tied only to a clean shop opened %d cases", n)
		}
		admin := a.accounts["admin"]
		for _, who := range []int64{staff.ID, admin.ID} {
			deadline := time.Now().Add(10 * time.Second)
			for scalarOf(t, db, "SELECT count(*) FROM notifications WHERE user_id = ? AND kind = 'repeat_offender' AND subject = ?", who, c.Reference) != 1 {
				if time.Now().After(deadline) {
					t.Fatalf("user %d was not told of the repeat offender", who)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		row := a.as("staff").get("/cases?q=" + c.Reference).doc(t).Find("[data-testid=case-row]")
		if row.Length() != 1 || row.Find("[data-testid=repeat-badge]").Length() != 1 {
			t.Errorf("the case list does not mark the repeat offender's case")
		}
		if got := a.as("staff").get("/cases/" + c.Reference).doc(t).Find("[data-testid=repeat-of]").Text(); !strings.Contains(got, old.Reference) {
			t.Errorf("the case page's flag says %q, not the earlier case %s", got, old.Reference)
		}
		// Again: it joins the open case.
		got = decodeResult(t, a.api(t, secret, "application/json", "["+low("new-2", "new-shop", `[{"kind":"phone","value":"13911112222"}]`)+"]", nil))
		if got.RepeatOffenders != 1 || got.CasesOpened != 0 || got.CasesUpdated != 1 {
			t.Errorf("the second flag: %+v", got)
		}
	})
}

// TestTheDemoHasASellerNetwork loads the demo's story: the Silver Lake
// seller's two shops form a network, one of them penalised, with links
// suggested from their shared identifiers, and a new shop on the same
// payout account came in as a repeat offender whatever its low score.
func TestTheDemoHasASellerNetwork(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		a.loadDemo(t)
		shopID := func(platformID string) int64 {
			return scalarOf(t, db, "SELECT id FROM shops WHERE platform_shop_id = ?", platformID)
		}
		lake, outlet := shopID("tb-411050"), shopID("tb-411051")
		if n := scalarOf(t, db, "SELECT count(*) FROM shops WHERE cluster_id IS NOT NULL AND cluster_id = (SELECT cluster_id FROM shops WHERE id = ?)", lake); n < 2 {
			t.Errorf("the Silver Lake network holds %d shops", n)
		}
		if n := scalarOf(t, db, "SELECT count(*) FROM cases WHERE shop_id = ? AND close_reason IN ('enforced', 'recovered')", lake); n != 1 {
			t.Errorf("the Silver Lake shop has %d penalised cases", n)
		}
		if n := scalarOf(t, db, "SELECT count(*) FROM link_suggestions WHERE status = 'suggested'"); n < 2 {
			t.Errorf("%d links suggested", n)
		}
		if n := scalarOf(t, db, "SELECT count(*) FROM shop_identifiers WHERE shop_id IN (?, ?)", lake, outlet); n != 6 {
			t.Errorf("the two shops hold %d identifiers", n)
		}
		var repeat casework.Case
		if err := db.Gorm.Where("shop_id = ?", shopID("tb-411990")).Take(&repeat).Error; err != nil || !repeat.RepeatOffender {
			t.Errorf("the repeat offender's shop: %+v, %v", repeat, err)
		}
		staff := a.asDemo("staff@demo.spotcheck.test", "en")
		if d := staff.get("/cases").doc(t); d.Find("[data-testid=repeat-badge]").Length() == 0 {
			t.Error("the demo's case list marks no repeat offender")
		}
		// Rejecting the look-alike image's suggestion: a note is needed, then
		// it is gone from the shop page, rejected and audited.
		page := fmt.Sprintf("/shops/%d", shopID("tb-411730"))
		action, _ := staff.get(page).doc(t).Find("[data-testid=suggestion-form]").Attr("action")
		if r := staff.post(action, url.Values{"decision": {"reject"}, "note": {""}}); r.StatusCode != invalid {
			t.Errorf("a rejection without a note: %d", r.StatusCode)
		}
		if r := staff.post(action, url.Values{"decision": {"reject"}, "note": {"a common stock photo"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("reject: %d", r.StatusCode)
		}
		if n := staff.get(page).doc(t).Find("[data-testid=suggested-link]").Length(); n != 0 {
			t.Errorf("%d suggestions left on the shop page after rejecting", n)
		}
		if n := scalarOf(t, db, "SELECT count(*) FROM link_suggestions WHERE status = 'rejected' AND note = 'a common stock photo'"); n != 1 {
			t.Errorf("%d suggestions rejected with the note", n)
		}
		if n := scalarOf(t, db, "SELECT count(*) FROM audit_events WHERE action = 'shop.suggestion_reject'"); n != 1 {
			t.Errorf("%d rejections audited", n)
		}
		if n := scalarOf(t, db, "SELECT count(*) FROM shop_links WHERE shop_a_id = ? OR shop_b_id = ?", shopID("tb-411730"), shopID("tb-411730")); n != 0 {
			t.Errorf("a rejected suggestion made %d links", n)
		}
	})
}
