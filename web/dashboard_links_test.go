package web_test

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"spotcheck/internal/casework"
	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
)

// TestEveryDashboardFigureOpensTheCasesItCounts loads the demo (the story,
// which walks the whole road through the services, and a volume), follows
// every link of the dashboard's figures — flow per week, closed per week
// by reason, money per month, the confirmation rate, the overdue steps —
// through every page of the case list it opens, and compares the cases
// listed with the cases the rows say had that step in that period,
// computed here from the base tables. A figure counts steps, so it is at
// least the number of its cases.
func TestEveryDashboardFigureOpensTheCasesItCounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		a.loadDemo(t, 300)
		admin := a.asDemo("admin@demo.spotcheck.test", "en")
		d := admin.get("/dashboard").doc(t)

		refs := map[int64]string{}
		var cases []struct {
			ID        int64
			Reference string
			OpenedAt  time.Time
		}
		if err := db.Gorm.Raw("SELECT id, reference, opened_at FROM cases").Scan(&cases).Error; err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			refs[c.ID] = c.Reference
		}
		// Every step of the road with its case and its calendar day.
		type step struct {
			caseID int64
			day    clock.Date
		}
		steps := map[string][]step{}
		add := func(name string, caseID int64, day clock.Date) { steps[name] = append(steps[name], step{caseID, day}) }
		for _, c := range cases {
			add("opened", c.ID, clock.DateOf(c.OpenedAt, dbtest.Zone))
		}
		var events []struct {
			CaseID int64
			Event  string
			At     time.Time
		}
		if err := db.Gorm.Raw("SELECT case_id, event, at FROM case_events WHERE kind = 'transition'").Scan(&events).Error; err != nil {
			t.Fatal(err)
		}
		reasonOf := map[string]string{}
		for _, tr := range casework.Table {
			if tr.To == casework.Closed {
				reasonOf[string(tr.Event)] = string(tr.CloseReason)
			}
		}
		for _, e := range events {
			day := clock.DateOf(e.At, dbtest.Zone)
			switch e.Event {
			case "verdict_counterfeit":
				add("counterfeit", e.CaseID, day)
				add("verdict", e.CaseID, day)
			case "verdict_genuine", "verdict_inconclusive":
				add("verdict", e.CaseID, day)
			case "refer_to_police":
				add("referred", e.CaseID, day)
			}
			if r, ok := reasonOf[e.Event]; ok {
				add("closed:"+r, e.CaseID, day)
			}
		}
		for name, sql := range map[string]string{
			"ordered":   "SELECT case_id, order_date AS day FROM purchases WHERE order_date IS NOT NULL",
			"raided":    "SELECT case_id, raided_on AS day FROM raids",
			"claimed":   "SELECT case_id, filed_on AS day FROM claims",
			"awarded":   "SELECT case_id, outcome_on AS day FROM claims WHERE outcome <> ''",
			"collected": "SELECT case_id, received_on AS day FROM payments",
		} {
			var rows []struct {
				CaseID int64
				Day    time.Time
			}
			if err := db.Gorm.Raw(sql).Scan(&rows).Error; err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				add(name, r.CaseID, clock.DateOf(r.Day, time.UTC))
			}
		}
		var overdue []struct {
			CaseID      int64
			Kind, Party string
		}
		if err := db.Gorm.Raw("SELECT case_id, kind, party FROM deadlines WHERE done_at IS NULL AND due_at < ?", db.Now()).Scan(&overdue).Error; err != nil {
			t.Fatal(err)
		}

		// listed pages through the list at href and returns its references.
		listed := func(href string) []string {
			var out []string
			for page := 0; href != ""; page++ {
				if page > 40 {
					t.Fatalf("%s: more than 40 pages", href)
				}
				res := admin.get(href)
				if res.StatusCode != 200 {
					t.Fatalf("%s: %d", href, res.StatusCode)
				}
				doc := res.doc(t)
				if doc.Find("[role=alert]").Length() > 0 {
					t.Errorf("%s: the list refuses its own filter: %s", href, doc.Find("[role=alert]").Text())
				}
				doc.Find("[data-testid=case-row] td.nowrap a").Each(func(_ int, s *goquery.Selection) { out = append(out, s.Text()) })
				href, _ = doc.Find("[data-testid=next-page]").Attr("href")
			}
			slices.Sort(out)
			return out
		}
		expect := func(name string, from, to clock.Date) []string {
			seen := map[int64]bool{}
			var out []string
			for _, s := range steps[name] {
				if !s.day.Before(from) && !s.day.After(to) && !seen[s.caseID] {
					seen[s.caseID] = true
					out = append(out, refs[s.caseID])
				}
			}
			slices.Sort(out)
			return out
		}

		followed := map[string]int{} // cases seen per step, over every link
		check := func(where string, link *goquery.Selection, counts bool) {
			href, ok := link.Attr("href")
			if !ok {
				t.Fatalf("%s: a figure without a link", where)
			}
			u, err := url.Parse(href)
			if err != nil || u.Path != "/cases" {
				t.Fatalf("%s: links to %q", where, href)
			}
			q := u.Query()
			var want []string
			if q.Get("overdue") != "" {
				seen := map[int64]bool{}
				for _, o := range overdue {
					if o.Kind == q.Get("kind") && o.Party == q.Get("party") && !seen[o.CaseID] {
						seen[o.CaseID] = true
						want = append(want, refs[o.CaseID])
					}
				}
				slices.Sort(want)
				followed["overdue"] += len(want)
			} else {
				from, err1 := clock.ParseDate(q.Get("from"))
				to, err2 := clock.ParseDate(q.Get("to"))
				if err1 != nil || err2 != nil {
					t.Fatalf("%s: %s has no period", where, href)
				}
				name := cmpOr(q.Get("dated"), "opened")
				if name == "closed" {
					name += ":" + q.Get("reason")
				}
				want = expect(name, from, to)
				followed[name] += len(want)
			}
			got := listed(href)
			if !slices.Equal(got, want) {
				t.Errorf("%s: %s lists %d cases %v, the rows %d %v", where, href, len(got), got, len(want), want)
			}
			if counts {
				n, err := strconv.Atoi(strings.TrimSpace(link.Text()))
				if err != nil || n < len(want) {
					t.Errorf("%s: the figure %q counts fewer steps than its %d cases", where, link.Text(), len(want))
				}
			}
		}
		for _, table := range []string{"flow-table", "closed-table", "money-table"} {
			d.Find("[data-testid=" + table + "] td").Each(func(_ int, td *goquery.Selection) {
				id, _ := td.Attr("data-testid")
				link := td.Find("a")
				if link.Length() == 0 {
					if !strings.HasPrefix(id, "dashboard.flags_received-") { // flags, not cases
						t.Errorf("%s: %s has no link", table, id)
					}
					return
				}
				check(table+" "+id, link, table != "money-table")
			})
		}
		for _, id := range []string{"confirmation-counterfeit", "confirmation-verdicts"} {
			check(id, d.Find("[data-testid="+id+"]"), true)
		}
		d.Find("[data-testid=overdue-figure]").Each(func(_ int, s *goquery.Selection) {
			kind, _ := s.Attr("data-kind")
			check("overdue "+kind, s.Find("a"), true)
		})
		for _, name := range []string{"opened", "ordered", "counterfeit", "verdict", "referred", "raided", "closed:dismissed", "overdue"} {
			if followed[name] == 0 {
				t.Errorf("no link of the demo's dashboard opened a case for %s: the test checks nothing there (%v)", name, followed)
			}
		}
		// The list names a bad step, reason or overdue kind beside its field.
		for field, path := range map[string]string{"dated": "/cases?dated=someday", "reason": "/cases?reason=bored",
			"kind": "/cases?overdue=1&kind=nap", "party": "/cases?overdue=1&party=cat"} {
			res := admin.get(path)
			if res.doc(t).Find("[data-testid=filter-error-"+field+"]").Length() != 1 {
				t.Errorf("%s: no message for %s", path, field)
			}
		}
	})
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
