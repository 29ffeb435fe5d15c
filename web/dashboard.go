package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/casework"
	"spotcheck/internal/clock"
	"spotcheck/internal/stats"
	"spotcheck/web/view/page"
)

// dashboardWeeks is how many weeks the flow charts show, and
// dashboardOldest how many of the cases longest in a state it names.
const (
	dashboardWeeks  = 12
	dashboardMonths = 6 // of money
	dashboardOldest = 3
)

// lastMonths are the first days of the dashboardMonths calendar months
// ending with the one holding d, and the first day after them.
func lastMonths(d clock.Date) ([]clock.Date, clock.Date) {
	first := clock.Date{Year: d.Year, Month: d.Month, Day: 1}
	months := make([]clock.Date, dashboardMonths)
	for i := range months {
		months[i] = clock.DateOf(first.Time().AddDate(0, i-(dashboardMonths-1), 0), time.UTC)
	}
	return months, clock.DateOf(first.Time().AddDate(0, 1, 0), time.UTC)
}

// figureSteps are the steps of the road whose cases each dated figure
// counts: its link opens the case list dated by that step over the
// figure's week or month. Flags received count flags, not cases, and the
// personas burned count identities: they have no case list.
var figureSteps = map[stats.Metric]casework.Dated{
	stats.CasesOpened: casework.DatedOpened, stats.PurchasesOrdered: casework.DatedOrdered,
	stats.Verdicts: casework.DatedVerdict, stats.Counterfeit: casework.DatedCounterfeit,
	stats.Referrals: casework.DatedReferred, stats.Raids: casework.DatedRaided,
	stats.Spend: casework.DatedOrdered, stats.Fees: casework.DatedOrdered, stats.Seized: casework.DatedRaided,
	stats.Claimed: casework.DatedClaimed, stats.Awarded: casework.DatedAwarded, stats.Collected: casework.DatedCollected,
}

// periodURL is the case list of the cases whose dated step fell on the
// days from up to (not including) next, closed for reason when given.
func periodURL(brandQ url.Values, dated casework.Dated, reason string, from, next clock.Date) string {
	q := url.Values{"from": {from.String()}, "to": {next.AddDays(-1).String()}, "brand": brandQ["brand"]}
	if dated != casework.DatedOpened {
		q.Set("dated", string(dated))
	}
	if reason != "" {
		q.Set("reason", reason)
	}
	return "/cases?" + q.Encode()
}

// openStates are the states a case can wait in, as strings.
func openStates() []string {
	var out []string
	for _, st := range casework.States {
		if st.Open() {
			out = append(out, string(st))
		}
	}
	return out
}

// dashboard is the staff's view of the operation: the pipeline now, the
// overdue steps now, and the weeks ending at ?to= (default today), of all
// brands or of ?brand=. Every figure is read from a counter kept by the
// transactions (case_counts, daily_counts) or the open-deadline index.
func (s *Server) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	loc := s.Config.Location
	errs := map[string]string{}
	brandID := parseID(c.QueryParam("brand"), "brand", errs)
	now := s.Clock.Now()
	today := clock.DateOf(now, loc)
	end, typed := today, c.QueryParam("to")
	if typed != "" {
		if d, err := clock.ParseDate(typed); err != nil {
			errs["to"] = "error.date"
		} else {
			end = d
		}
	}
	p := page.DashboardPage{BrandID: brandID, To: end.String(), Errors: errs}
	if errs["to"] != "" {
		p.To = typed
	}
	var err error
	if p.Brands, err = s.brandOptions(c, nil); err != nil {
		return err
	}
	brandQ := url.Values{}
	if brandID != 0 {
		brandQ.Set("brand", strconv.FormatInt(brandID, 10))
	}
	counts, err := s.Cases.Counts(ctx, brandID)
	if err != nil {
		return err
	}
	for _, st := range casework.States {
		p.Pipeline = append(p.Pipeline, page.Figure{Key: "state." + string(st), N: counts[st],
			URL: withParam("/cases", brandQ, "state", string(st))})
	}
	overdue, err := s.Deadlines.OverdueCounts(ctx, now, brandID)
	if err != nil {
		return err
	}
	for _, o := range overdue {
		q := url.Values{"overdue": {"1"}, "kind": {string(o.Kind)}, "party": {string(o.Party)}, "brand": brandQ["brand"]}
		p.Overdue = append(p.Overdue, page.OverdueFigure{Kind: string(o.Kind), Party: string(o.Party), N: o.N, URL: "/cases?" + q.Encode()})
	}
	ages, err := s.Stats.Ages(ctx, actorOf(c), brandID, stats.AgeDay(now), openStates()...)
	if err != nil {
		return err
	}
	oldest, err := s.Cases.Oldest(ctx, actorOf(c), brandID, dashboardOldest)
	if err != nil {
		return err
	}
	for _, st := range casework.States {
		if !st.Open() {
			continue
		}
		a := ages[string(st)]
		f := page.AgeFigure{State: string(st), N: a.N, Median: a.Median, P90: a.P90, URL: withParam("/cases", brandQ, "state", string(st))}
		for _, o := range oldest {
			if o.State == st {
				f.Oldest = append(f.Oldest, page.OldCase{Reference: o.Reference, URL: "/cases/" + strconv.FormatInt(o.ID, 10),
					Days: stats.AgeDays(o.StateSince, now)})
			}
		}
		p.Ageing = append(p.Ageing, f)
	}
	// Weeks start on Monday; the last is the one holding end.
	last := end.AddDays(-((int(end.Time().Weekday()) + 6) % 7))
	weeks := make([]clock.Date, dashboardWeeks)
	for i := range weeks {
		weeks[i] = last.AddDays(-7 * (dashboardWeeks - 1 - i))
		p.Weeks = append(p.Weeks, weeks[i].String())
	}
	reasons := casework.ClosingReasons()
	weekly := append([]stats.Metric{stats.Verdicts}, stats.Flow...)
	if brandID == stats.All {
		weekly = append(weekly, stats.PersonasBurned) // the pool's, every brand's
	}
	for _, r := range reasons {
		weekly = append(weekly, stats.ClosedAs(string(r)))
	}
	series, err := s.Stats.Weekly(ctx, actorOf(c), brandID, weeks, last.AddDays(7), weekly...)
	if err != nil {
		return err
	}
	weekURLs := func(dated casework.Dated, reason string) []string {
		var out []string
		for _, w := range weeks {
			out = append(out, periodURL(brandQ, dated, reason, w, w.AddDays(7)))
		}
		return out
	}
	for _, m := range stats.Flow {
		fs := page.FlowSeries{Key: "dashboard." + string(m), Values: series[m]}
		if dated, ok := figureSteps[m]; ok {
			fs.URLs = weekURLs(dated, "")
		}
		p.Flow = append(p.Flow, fs)
	}
	for _, r := range reasons {
		p.Closed = append(p.Closed, page.FlowSeries{Key: "reason." + string(r), Values: series[stats.ClosedAs(string(r))],
			URLs: weekURLs(casework.DatedClosed, string(r))})
	}
	// Money per month: the six months ending with the one holding end.
	months, monthsEnd := lastMonths(end)
	for _, m := range months {
		p.Months = append(p.Months, m.String())
	}
	money, err := s.Stats.Weekly(ctx, actorOf(c), brandID, months, monthsEnd, stats.Money...)
	if err != nil {
		return err
	}
	for _, m := range stats.Money {
		fs := page.FlowSeries{Key: "dashboard." + string(m), Values: money[m], Money: true}
		for i, from := range months {
			next := monthsEnd
			if i+1 < len(months) {
				next = months[i+1]
			}
			fs.URLs = append(fs.URLs, periodURL(brandQ, figureSteps[m], "", from, next))
		}
		p.Money = append(p.Money, fs)
	}
	// The volunteer pool is every brand's.
	if p.Pool, err = s.Purchases.Figures(ctx, actorOf(c)); err != nil {
		return err
	}
	if brandID == stats.All { // read with the weeks
		for _, n := range series[stats.PersonasBurned] {
			p.PersonasBurned += n
		}
	} else {
		burned, err := s.Stats.Weekly(ctx, actorOf(c), stats.All, weeks[:1], last.AddDays(7), stats.PersonasBurned)
		if err != nil {
			return err
		}
		p.PersonasBurned = burned[stats.PersonasBurned][0]
	}
	for i := range weeks {
		p.Counterfeit += series[stats.Counterfeit][i]
		p.Verdicts += series[stats.Verdicts][i]
	}
	p.CounterfeitURL = periodURL(brandQ, casework.DatedCounterfeit, "", weeks[0], last.AddDays(7))
	p.VerdictsURL = periodURL(brandQ, casework.DatedVerdict, "", weeks[0], last.AddDays(7))
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return s.render(c, status, page.Dashboard(p))
}
