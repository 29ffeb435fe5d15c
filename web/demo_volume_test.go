package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
)

// TestTheDemoIsTheSizeOfADepartment loads the demo with its volume: some
// thousands of cases over six months in every state and every close
// reason the road has, each case's timeline ending in its state, steps
// past due and flags in the inbox; the dashboard shows them; a second load
// adds nothing.
func TestTheDemoIsTheSizeOfADepartment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		if res := a.loadDemo(t, 3000); res.Volume < 2500 {
			t.Fatalf("the volume added %d cases", res.Volume)
		}
		scalar := func(q string, args ...any) int64 { return scalarOf(t, db, q, args...) }
		total := scalar(`SELECT count(*) FROM cases`)
		for _, st := range casework.States {
			if n := scalar(`SELECT count(*) FROM cases WHERE state = ?`, st); n == 0 {
				t.Errorf("no demo case is %s", st)
			}
		}
		for _, r := range casework.ClosingReasons() {
			if n := scalar(`SELECT count(*) FROM cases WHERE close_reason = ?`, r); n == 0 {
				t.Errorf("no demo case closed as %s", r)
			}
		}
		// Every case's last transition led to its state, and it entered
		// that state then.
		if n := scalar(`SELECT count(*) FROM cases c WHERE c.state <> (SELECT e.to_state FROM case_events e
			WHERE e.case_id = c.id AND e.kind = 'transition' ORDER BY e.at DESC, e.id DESC LIMIT 1)`); n != 0 {
			t.Errorf("%d cases are not in the state their timeline ends in", n)
		}
		if n := scalar(`SELECT count(*) FROM deadlines WHERE done_at IS NULL AND due_at < ?`, db.Now()); n == 0 {
			t.Error("no demo step is past due")
		}
		if n := scalar(`SELECT count(*) FROM flags WHERE status = 'open'`); n < 10 {
			t.Errorf("%d flags wait in the inbox", n)
		}

		d := a.asDemo("admin@demo.spotcheck.test", "en").get("/dashboard").doc(t)
		var shown int64
		d.Find("[data-testid^='pipeline-state.']").Each(func(_ int, s *goquery.Selection) {
			n, _ := strconv.ParseInt(strings.TrimSpace(s.Text()), 10, 64)
			shown += n
		})
		if shown != total {
			t.Errorf("the pipeline shows %d cases, the rows %d", shown, total)
		}
		d.Find("[data-testid=age-figure]").Each(func(_ int, s *goquery.Selection) {
			if st, _ := s.Attr("data-state"); s.Find("[data-testid=age-oldest]").Length() == 0 {
				t.Errorf("no case waits in %s", st)
			}
		})
		if d.Find("[data-testid=overdue-figure]").Length() == 0 {
			t.Error("the dashboard shows no overdue step")
		}
		opened := 0
		for i := range 12 {
			n, _ := strconv.Atoi(strings.TrimSpace(d.Find("[data-testid='dashboard.cases_opened-" + strconv.Itoa(i) + "']").Text()))
			opened += n
		}
		if opened < 1000 {
			t.Errorf("the 12 weeks show %d cases opened", opened)
		}

		if res := a.loadDemo(t, 3000); res.Volume != 0 || scalar(`SELECT count(*) FROM cases`) != total {
			t.Errorf("a second load added %d cases", res.Volume)
		}
	})
}
