package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/casework"
	"spotcheck/internal/deadline"
	"spotcheck/internal/flag"
	"spotcheck/web/view/page"
)

// The list screens keep their filters in the URL, so a filtered view can
// be bookmarked and shared. These parse them, collecting field errors
// rather than failing: a bad filter is shown, the rest still applies.

func parseScore(v, field string, errs map[string]string) *float64 {
	if v == "" {
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		errs[field] = "error.score_filter"
		return nil
	}
	return &f
}

func parseDay(v, field string, loc *time.Location, next bool, errs map[string]string) *time.Time {
	if v == "" {
		return nil
	}
	d, err := time.ParseInLocation("2006-01-02", v, loc)
	if err != nil {
		errs[field] = "error.date_filter"
		return nil
	}
	if next { // "to" includes the whole day
		d = d.AddDate(0, 0, 1)
	}
	return &d
}

func parseID(v, field string, errs map[string]string) int64 {
	if v == "" {
		return 0
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		errs[field] = "error.id_filter"
		return 0
	}
	return id
}

// unassigned is the investigator filter's value for the cases nobody works.
const unassigned = "none"

// waitingOnMe is the waiting filter's one value: steps past due that the
// signed-in staff member must move.
const waitingOnMe = "me"

func (s *Server) caseFilter(c echo.Context, q url.Values) (casework.Filter, page.CaseFilter, map[string]string) {
	form := page.CaseFilter{State: q.Get("state"), Brand: q.Get("brand"), Shop: q.Get("shop"), Investigator: q.Get("investigator"),
		MinScore: q.Get("min"), MaxScore: q.Get("max"), From: q.Get("from"), To: q.Get("to"), Q: q.Get("q"), Sort: q.Get("sort"),
		Open: q.Get("open"), Overdue: q.Get("overdue"), Waiting: q.Get("waiting"), Dated: q.Get("dated"), Reason: q.Get("reason"),
		Kind: q.Get("kind"), Party: q.Get("party")}
	errs := map[string]string{}
	f := casework.Filter{BrandID: parseID(form.Brand, "brand", errs), ShopID: parseID(form.Shop, "shop", errs),
		Unassigned: form.Investigator == unassigned, Open: form.Open != "", Overdue: form.Overdue != "", Q: form.Q, After: q.Get("after"),
		MinScore: parseScore(form.MinScore, "min", errs), MaxScore: parseScore(form.MaxScore, "max", errs),
		From: parseDay(form.From, "from", s.Config.Location, false, errs), To: parseDay(form.To, "to", s.Config.Location, true, errs)}
	if !f.Unassigned {
		f.InvestigatorID = parseID(form.Investigator, "investigator", errs)
	}
	switch form.Waiting {
	case "":
	case waitingOnMe:
		f.WaitingOn = actorOf(c).UserID
	default:
		errs["waiting"] = "error.waiting_filter"
	}
	if form.State != "" {
		st, err := casework.ParseState(form.State)
		if err != nil {
			errs["state"] = "error.state_filter"
		} else {
			f.States = []casework.State{st}
		}
	}
	dated, err := casework.ParseDated(form.Dated)
	if err != nil {
		errs["dated"] = "error.dated_filter"
	}
	f.Dated = dated
	if form.Reason != "" {
		if r := casework.CloseReason(form.Reason); slices.Contains(casework.ClosingReasons(), r) {
			f.Reason = r
		} else {
			errs["reason"] = "error.reason_filter"
		}
	}
	if form.Kind != "" {
		if k := deadline.Kind(form.Kind); slices.Contains(deadline.Kinds, k) {
			f.OverdueKind = form.Kind
		} else {
			errs["kind"] = "error.kind_filter"
		}
	}
	if form.Party != "" {
		if p := deadline.Party(form.Party); slices.Contains(deadline.Parties, p) {
			f.OverdueParty = form.Party
		} else {
			errs["party"] = "error.party_filter"
		}
	}
	switch form.Sort {
	case "", casework.SortUpdated, casework.SortOpened, casework.SortScore:
		f.Sort = form.Sort
	default:
		errs["sort"] = "error.sort_filter"
	}
	if len(f.Q) > 200 {
		f.Q = f.Q[:200]
	}
	return f, form, errs
}

func (s *Server) inboxFilter(c echo.Context) (flag.InboxFilter, page.InboxFilter, map[string]string) {
	q := c.QueryParams()
	form := page.InboxFilter{Brand: q.Get("brand"), Source: q.Get("source"), MinScore: q.Get("min"), MaxScore: q.Get("max"),
		From: q.Get("from"), To: q.Get("to")}
	errs := map[string]string{}
	f := flag.InboxFilter{BrandID: parseID(form.Brand, "brand", errs), Source: form.Source, After: q.Get("after"),
		MinScore: parseScore(form.MinScore, "min", errs), MaxScore: parseScore(form.MaxScore, "max", errs),
		From: parseDay(form.From, "from", s.Config.Location, false, errs), To: parseDay(form.To, "to", s.Config.Location, true, errs)}
	return f, form, errs
}

// withParam returns path?query with key set to value (dropped when empty).
func withParam(path string, query url.Values, key, value string) string {
	q := url.Values{}
	for k, vs := range query {
		if k != key && k != "after" && len(vs) > 0 && vs[0] != "" {
			q.Set(k, vs[0])
		}
	}
	if value != "" {
		q.Set(key, value)
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func splitIDs(vs []string) []int64 {
	var out []int64
	for _, v := range vs {
		for _, part := range strings.Split(v, ",") {
			if id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64); err == nil {
				out = append(out, id)
			}
		}
	}
	return out
}
