package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/casework"
	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/deadline"
	"spotcheck/internal/flag"
	"spotcheck/internal/shop"
	"spotcheck/internal/stats"
)

// DefaultVolume is how many cases `spotcheck demo` adds to the story by
// default: a department's half year.
const DefaultVolume = 3000

// volumeSource marks the volume's flags; its shops are "vol-" ids.
const volumeSource = "demo-volume"

// The volume's days in each state on average, and where a case goes next
// from it: events of casework.Table, with their odds.
var (
	dwell = map[casework.State]float64{casework.Flagged: 6, casework.Purchasing: 9, casework.Authenticating: 7,
		casework.Confirmed: 10, casework.Referred: 25, casework.Litigating: 40}
	next = map[casework.State][]struct {
		ev   casework.Event
		odds float64
	}{
		casework.Flagged:        {{casework.Dismiss, 0.3}, {casework.OrderPurchase, 0.7}},
		casework.Purchasing:     {{casework.CancelPurchase, 0.08}, {casework.SendToBrand, 0.92}},
		casework.Authenticating: {{casework.VerdictCounterfeit, 0.7}, {casework.VerdictGenuine, 0.2}, {casework.VerdictInconclusive, 0.1}},
		casework.Confirmed: {{casework.ReferToPolice, 0.45}, {casework.ClosePlatformAction, 0.3}, {casework.FileClaim, 0.15},
			{casework.CloseEnforced, 0.1}},
		casework.Referred:   {{casework.CloseEnforced, 0.5}, {casework.FileClaim, 0.3}, {casework.ClosePlatformAction, 0.2}},
		casework.Litigating: {{casework.Settle, 0.5}, {casework.RecordJudgment, 0.5}},
	}
	// The step an open case waits on in its state, and who must act.
	waits = map[casework.State]struct {
		kind  deadline.Kind
		party deadline.Party
		days  int
	}{
		casework.Authenticating: {deadline.Verdict, deadline.Brand, 10},
		casework.Referred:       {deadline.PoliceAnswer, deadline.Staff, 14},
		casework.Litigating:     {deadline.Hearing, deadline.Staff, 30},
	}
	shopWords  = []string{"Star", "Moon", "River", "Jade", "Lotus", "Phoenix", "Cloud", "Pearl", "Maple", "Harbor", "Silk", "Golden", "Silver", "Orchid", "Bamboo", "Crane"}
	shopKinds  = []string{"Trading", "Boutique", "Goods", "House", "Outlet", "Store", "Select", "Mall"}
	surnames   = []string{"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo"}
	givenNames = []string{"Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Jun", "Hui", "Tao", "Ling", "Bo", "Xin", "Ping", "Qing", "Hao", "Rui"}
	platforms  = []string{"taobao", "jd", "pinduoduo"}
)

// loadVolume adds n cases over the last six months to the demo, once: a
// fast bulk path that writes what the services would have written — the
// cases and their timelines along casework.Table, a flag for each and some
// still in the inbox, the open steps with their due times (some past) —
// and then the figures the transactions keep (casework.RecountTx, and the
// daily figures of the flags, openings and transitions, on their days in
// the platform's zone). Seeded, so every load makes the same cases
// relative to today; skipped when its shops exist.
func loadVolume(ctx context.Context, d Deps, n int, brandIDs []int64, staffID int64) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	var have int64
	if err := d.DB.Gorm.WithContext(ctx).Raw(`SELECT count(*) FROM flags WHERE source = ?`, volumeSource).Row().Scan(&have); err != nil {
		return 0, err
	}
	if have > 0 {
		return 0, nil
	}
	added := 0
	rng := rand.New(rand.NewPCG(2026, 12)) // #nosec G404 -- demo data, seeded so that every load makes the same
	err := d.DB.InTx(ctx, func(tx *gorm.DB) error {
		now := database.Now(tx)
		loc := d.Location
		shops := make([]shop.Shop, max(n/3, 1))
		for i := range shops {
			created := now.AddDate(0, -8, 0)
			shops[i] = shop.Shop{Platform: platforms[i%len(platforms)], PlatformShopID: fmt.Sprintf("vol-%05d", i+1),
				Name:            shopWords[rng.IntN(len(shopWords))] + " " + shopWords[rng.IntN(len(shopWords))] + " " + shopKinds[rng.IntN(len(shopKinds))],
				RegisteredOwner: surnames[rng.IntN(len(surnames))] + " " + givenNames[rng.IntN(len(givenNames))], CreatedAt: created, UpdatedAt: created}
		}
		if err := tx.CreateInBatches(&shops, 500).Error; err != nil {
			return fmt.Errorf("demo volume shops: %w", err)
		}

		type made struct {
			c      casework.Case
			events []casework.Entry
			flag   time.Time
		}
		cases := make([]made, 0, n)
		open := map[[2]int64]bool{} // one open case per shop and brand
		for range n {
			opened := now.Add(-time.Duration(rng.Float64() * float64(183*24*time.Hour))).Truncate(time.Second)
			sh, br := shops[rng.IntN(len(shops))], brandIDs[rng.IntN(len(brandIDs))]
			m := made{c: casework.Case{ShopID: sh.ID, BrandID: br, State: casework.Flagged, Priority: rng.IntN(4),
				RiskScore: float64(int(5000+rng.IntN(5000))) / 10000, EstimatedValueMinor: int64(rng.IntN(2000)) * 10000,
				SearchText: strings.ToLower(sh.Name), OpenedAt: opened}, flag: opened.Add(-time.Duration(rng.IntN(48)) * time.Hour)}
			m.events = append(m.events, casework.Entry{At: opened, Kind: "transition", Event: "open", ToState: string(casework.Flagged)})
			at := opened
			for steps := 0; m.c.State.Open() && steps < 12; steps++ {
				at = at.Add(time.Duration(rng.ExpFloat64() * dwell[m.c.State] * float64(24*time.Hour))).Truncate(time.Second)
				if at.After(now) {
					break
				}
				ev := pick(rng, m.c.State)
				t, ok := casework.Lookup(m.c.State, ev)
				if !ok {
					return fmt.Errorf("demo volume: no %s from %s in the table", ev, m.c.State)
				}
				m.events = append(m.events, casework.Entry{At: at, Kind: "transition", Event: string(ev), FromState: string(m.c.State), ToState: string(t.To)})
				m.c.State, m.c.CloseReason = t.To, t.CloseReason
			}
			last := m.events[len(m.events)-1].At
			m.c.StateSince, m.c.UpdatedAt, m.c.Version = last, last, len(m.events)
			if !m.c.State.Open() {
				m.c.ClosedAt = &last
			} else if k := [2]int64{sh.ID, br}; open[k] {
				continue // the shop and brand have an open case: this one was never opened
			} else {
				open[k] = true
			}
			if m.c.State != casework.Flagged && rng.IntN(10) < 9 {
				m.c.InvestigatorID = &staffID
			}
			cases = append(cases, m)
		}
		// References in the order the cases were opened, from each year's counter.
		sort.Slice(cases, func(i, j int) bool { return cases[i].c.OpenedAt.Before(cases[j].c.OpenedAt) })
		perYear := map[int][]int{}
		for i, m := range cases {
			perYear[m.c.OpenedAt.Year()] = append(perYear[m.c.OpenedAt.Year()], i)
		}
		for year, idx := range perYear {
			refs, err := casework.ReserveReferencesTx(tx, year, len(idx))
			if err != nil {
				return err
			}
			for k, i := range idx {
				cases[i].c.Reference = refs[k]
				cases[i].c.SearchText = strings.ToLower(refs[k]) + " " + cases[i].c.SearchText
			}
		}
		rows := make([]casework.Case, len(cases))
		for i := range cases {
			rows[i] = cases[i].c
		}
		if err := tx.CreateInBatches(&rows, 500).Error; err != nil {
			return fmt.Errorf("demo volume cases: %w", err)
		}

		var entries []casework.Entry
		var flags []flag.Flag
		var steps []deadline.Deadline
		figures := map[clock.Date][]stats.Delta{}
		count := func(at time.Time, m stats.Metric, brand int64) {
			day := clock.DateOf(at, loc)
			figures[day] = append(figures[day], stats.Delta{Metric: m, BrandID: brand, N: 1})
		}
		for i, c := range rows {
			for _, e := range cases[i].events {
				e.CaseID = c.ID
				if e.Event != "open" {
					e.ActorID = &staffID
				}
				entries = append(entries, e)
				// The volume writes no purchases: the orders counted are the story's.
				switch casework.Event(e.Event) {
				case casework.VerdictCounterfeit:
					count(e.At, stats.Verdicts, c.BrandID)
					count(e.At, stats.Counterfeit, c.BrandID)
				case casework.VerdictGenuine, casework.VerdictInconclusive:
					count(e.At, stats.Verdicts, c.BrandID)
				case casework.ReferToPolice:
					count(e.At, stats.Referrals, c.BrandID)
				}
				if e.ToState == string(casework.Closed) {
					t, _ := casework.Lookup(casework.State(e.FromState), casework.Event(e.Event))
					count(e.At, stats.ClosedAs(string(t.CloseReason)), c.BrandID)
				}
			}
			count(c.OpenedAt, stats.CasesOpened, c.BrandID)
			count(cases[i].flag, stats.FlagsReceived, c.BrandID)
			id := c.ID
			flags = append(flags, volumeFlag(i, c.ShopID, c.BrandID, c.RiskScore, cases[i].flag, &id, "attached"))
			if w, ok := waits[c.State]; ok {
				party := w.party
				partyID := c.BrandID
				if party == deadline.Staff {
					partyID = staffID
				}
				due := c.StateSince.AddDate(0, 0, w.days)
				steps = append(steps, deadline.Deadline{CaseID: c.ID, BrandID: c.BrandID, Kind: w.kind, SubjectID: c.ID, Party: party,
					PartyID: partyID, StartedAt: c.StateSince, DueAt: due, Stage: stageAt(due, now), StagedAt: stagedAt(due, now)})
			}
		}
		// A day's worth of flags still waiting in the inbox.
		for i := range n / 20 {
			sh := shops[rng.IntN(len(shops))]
			at := now.Add(-time.Duration(rng.IntN(72)) * time.Hour)
			brand := brandIDs[rng.IntN(len(brandIDs))]
			flags = append(flags, volumeFlag(len(rows)+i, sh.ID, brand, float64(rng.IntN(10000))/10000, at, nil, "open"))
			count(at, stats.FlagsReceived, brand)
		}
		for _, batch := range []func() error{
			func() error { return tx.CreateInBatches(&entries, 1000).Error },
			func() error { return tx.CreateInBatches(&flags, 500).Error },
			func() error { return tx.CreateInBatches(&steps, 500).Error },
			func() error { return casework.RecountTx(tx) },
		} {
			if err := batch(); err != nil {
				return fmt.Errorf("demo volume: %w", err)
			}
		}
		days := make([]clock.Date, 0, len(figures))
		for day := range figures {
			days = append(days, day)
		}
		sort.Slice(days, func(i, j int) bool { return days[i].Before(days[j]) })
		for _, day := range days {
			if err := stats.AddOnTx(tx, day, figures[day]...); err != nil {
				return err
			}
		}
		added = len(rows)
		return nil
	})
	return added, err
}

// pick draws the event a case in state takes next.
func pick(rng *rand.Rand, state casework.State) casework.Event {
	u, opts := rng.Float64(), next[state]
	for _, o := range opts {
		if u < o.odds {
			return o.ev
		}
		u -= o.odds
	}
	return opts[len(opts)-1].ev
}

// stageAt is how far the sweep would have gone with a step due at due by
// now (two days' reminder, three days' grace before the admins), so that
// the first sweep after loading sends nothing the past already sent.
func stageAt(due, now time.Time) deadline.Stage {
	switch {
	case now.After(due.AddDate(0, 0, 3)):
		return deadline.Admins
	case now.After(due):
		return deadline.Escalated
	case now.After(due.AddDate(0, 0, -2)):
		return deadline.Reminded
	}
	return 0
}

func stagedAt(due, now time.Time) *time.Time {
	if stageAt(due, now) == 0 {
		return nil
	}
	return &now
}

func volumeFlag(i int, shopID, brandID int64, score float64, at time.Time, caseID *int64, status string) flag.Flag {
	ext := fmt.Sprintf("vol-%06d", i+1)
	payload, _ := json.Marshal(map[string]any{"source": volumeSource, "external_id": ext}) // #nosec G104 -- a map of strings always marshals
	return flag.Flag{Source: volumeSource, ExternalID: ext, Rule: "price_anomaly", Score: score, ShopID: shopID, BrandID: brandID,
		DetectedAt: at, Payload: string(payload), CaseID: caseID, Status: status, ReceivedAt: at}
}
