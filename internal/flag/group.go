package flag

import (
	"cmp"
	"slices"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
)

// grouping is where a set of flags ended up.
type grouping struct {
	cases  []casework.Case    // the case of each (shop, brand) pair that got one, new or not
	caseOf map[[2]int64]int64 // the id of that case, by (shop, brand)
	opened int                // cases opened
	grown  int                // open cases that received flags
	repeat int                // flags of repeat offenders among them
}

// attachments pairs each flag that got a case (flag id, case id).
func (g grouping) attachments(flags []flagRow) [][2]int64 {
	var out [][2]int64
	for _, f := range flags {
		if id, ok := g.caseOf[[2]int64{f.shopID, f.brandID}]; ok {
			out = append(out, [2]int64{f.id, id})
		}
	}
	return out
}

// groupIntoCases is the one grouping rule: flags join the open case of
// their shop and brand; a pair without one gets a new case when shouldOpen
// says so for its best score (always, from the inbox; at the threshold,
// from the risk systems), and otherwise its flags stay in the inbox.
// It writes the cases only: the caller puts the flags into them (new
// flags are inserted with their case, inbox flags are attached).
func groupIntoCases(tx *gorm.DB, actor authz.Actor, flags []flagRow, now time.Time,
	shouldOpen func(best float64) bool, note func(n int, best float64) string) (grouping, error) {
	g := grouping{caseOf: map[[2]int64]int64{}}
	if len(flags) == 0 {
		return g, nil
	}
	byPair := map[[2]int64][]flagRow{}
	var pairs [][2]int64
	for _, f := range flags {
		p := [2]int64{f.shopID, f.brandID}
		if _, ok := byPair[p]; !ok {
			pairs = append(pairs, p)
		}
		byPair[p] = append(byPair[p], f)
	}
	// Cases are opened and grown in (shop, brand) order: one lock order for
	// every writer.
	slices.SortFunc(pairs, func(a, b [2]int64) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	open, err := casework.OpenFor(tx, pairs)
	if err != nil {
		return g, err
	}
	var news []casework.NewCase
	var newPairs [][2]int64
	for _, p := range pairs {
		if _, ok := open[p]; ok {
			continue
		}
		fs := byPair[p]
		if best := bestScore(fs, 0); shouldOpen(best) || slices.ContainsFunc(fs, func(f flagRow) bool { return f.repeat }) { // a repeat offender's always
			news = append(news, casework.NewCase{ShopID: p[0], BrandID: p[1], RiskScore: best,
				SearchText: searchText("", fs), Note: note(len(fs), best)})
			newPairs = append(newPairs, p)
		}
	}
	created, err := casework.OpenTx(tx, actor, news)
	if err != nil {
		return g, err
	}
	isNew := map[int64]bool{}
	for i, c := range created {
		open[newPairs[i]] = c
		isNew[c.ID] = true
	}
	var grown []casework.Growth
	for _, p := range pairs {
		c, ok := open[p]
		if !ok {
			continue
		}
		fs := byPair[p]
		g.caseOf[p] = c.ID
		if !isNew[c.ID] {
			grown = append(grown, casework.Growth{CaseID: c.ID, Flags: len(fs), RiskScore: bestScore(fs, c.RiskScore),
				SearchText: searchText(c.SearchText, fs)})
		}
		g.cases = append(g.cases, c)
	}
	if err := casework.GrowTx(tx, actor, grown, now); err != nil {
		return g, err
	}
	g.opened, g.grown = len(created), len(grown)
	return g, nil
}

func bestScore(fs []flagRow, floor float64) float64 {
	best := floor
	for _, f := range fs {
		best = max(best, f.score)
	}
	return best
}
