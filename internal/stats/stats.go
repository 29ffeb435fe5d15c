// Package stats keeps the dashboard's figures current in the transactions
// that change them: what happened each calendar day, per brand and for all
// brands, and the cases per brand and state (see casework). A request reads
// about one row per day and figure; it never counts cases or events.
package stats

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"spotcheck/internal/authz"
	"spotcheck/internal/clock"
	"spotcheck/internal/database"
)

// Metric is one thing counted per day.
type Metric string

const (
	FlagsReceived    Metric = "flags_received"    // flags stored (a resend is not counted)
	CasesOpened      Metric = "cases_opened"      // cases opened, by a flag or a follow-up
	PurchasesOrdered Metric = "purchases_ordered" // orders a volunteer placed
	Verdicts         Metric = "verdicts"          // verdicts signed (a superseding one too)
	Counterfeit      Metric = "counterfeit"       // of which counterfeit: confirmed fakes
	Referrals        Metric = "referrals"         // cases referred to the police
	Raids            Metric = "raids"             // raids recorded
	PersonasBurned   Metric = "personas_burned"   // buyer identities a seller spotted (all brands only)
	// Money, in minor units, with the recoveries ledger's rules and days
	// (enforcement.Ledger): spend and fees net of refunds, on the order's
	// day; seized on the raid's; claimed, awarded and collected on the
	// filing's, the outcome's and the payment's.
	Spend     Metric = "spend"     // what volunteers paid for test purchases
	Fees      Metric = "fees"      // the fees of test purchases (postage, notary)
	Seized    Metric = "seized"    // the value of what raids seized
	Claimed   Metric = "claimed"   // the damages claims asked for when filed
	Awarded   Metric = "awarded"   // what judgments and settlements awarded
	Collected Metric = "collected" // what was received from sellers
)

// Flow and Money are the dashboard's weekly figures, in road order.
var (
	Flow  = []Metric{FlagsReceived, CasesOpened, PurchasesOrdered, Counterfeit, Referrals, Raids}
	Money = []Metric{Spend, Fees, Seized, Claimed, Awarded, Collected}
)

// Currency is the currency the money figures are shown in, as the
// recoveries report shows the ledger.
const Currency = "CNY"

// ClosedAs is the metric of cases closed for a reason.
func ClosedAs(reason string) Metric { return Metric("closed_" + reason) }

// InState is the ageing histogram's metric of a state: the open cases in
// it, counted on the day (AgeDay) they entered it; InStateMonth counts the
// same cases on the first day of that day's month, so that a percentile
// is found in two short reads (the month, then its days) rather than one
// over every day. casework keeps both through AgeTx.
func InState(state string) Metric { return Metric("in_" + state) }

// InStateMonth: see InState.
func InStateMonth(state string) Metric { return Metric("inm_" + state) }

// AgeMove is n of a brand's cases entering (n < 0: leaving) a state they
// entered at since.
type AgeMove struct {
	State   string
	BrandID int64
	Since   time.Time
	N       int64
}

// AgeTx writes the moves into the ageing histograms (InState and
// InStateMonth, per brand and for all brands) in one statement, inside the
// caller's transaction.
func AgeTx(tx *gorm.DB, moves ...AgeMove) error {
	var rs []dayRow
	for _, m := range moves {
		d := AgeDay(m.Since)
		rs = appendRows(rs, d, Delta{Metric: InState(m.State), BrandID: m.BrandID, N: m.N})
		rs = appendRows(rs, clock.Date{Year: d.Year, Month: d.Month, Day: 1}, Delta{Metric: InStateMonth(m.State), BrandID: m.BrandID, N: m.N})
	}
	return insertRows(tx, rs)
}

// AgeDay is the histogram's day of an instant: its UTC day, so that the
// migration that filled the histogram in SQL and the transactions that
// move cases agree. An age is a number of days, not a date anyone reads.
func AgeDay(t time.Time) clock.Date { return clock.DateOf(t, time.UTC) }

// AgeDays is how many whole days a case that entered its state at since
// has waited in it at now, as the histogram counts them.
func AgeDays(since, now time.Time) int { return daysBetween(AgeDay(since), AgeDay(now)) }

// daysBetween counts the days from one day to a later one; a day "after"
// today (a clock set back) is zero days ago.
func daysBetween(from, to clock.Date) int {
	return max(int(to.Time().Sub(from.Time())/(24*time.Hour)), 0)
}

// All is the brand id of the rows that count every brand.
const All = 0

// Delta is one addition: n more of metric on brand's day.
type Delta struct {
	Metric  Metric
	BrandID int64
	N       int64
}

// AddTx adds the deltas to the day of at, in the platform's zone, inside
// the caller's transaction: each appends a row for its brand and one for
// all brands (zero deltas are left out). It never updates a row, so
// concurrent transactions do not wait on each other here.
func AddTx(tx *gorm.DB, at time.Time, ds ...Delta) error {
	return AddOnTx(tx, clock.DateOf(at, database.Zone(tx)), ds...)
}

// AddOnTx adds the deltas to a calendar day the step itself carries (the
// day of a raid, of a payment's receipt).
func AddOnTx(tx *gorm.DB, on clock.Date, ds ...Delta) error {
	return insertRows(tx, appendRows(nil, on, ds...))
}

// dayRow is one appended row of daily_counts.
type dayRow struct {
	Metric  Metric
	BrandID int64
	Day     time.Time
	N       int64
}

// appendRows adds the deltas on a day to rs: each for its brand and for
// all brands.
func appendRows(rs []dayRow, on clock.Date, ds ...Delta) []dayRow {
	for _, d := range ds {
		rs = append(rs, dayRow{Metric: d.Metric, BrandID: d.BrandID, Day: on.Time(), N: d.N})
		if d.BrandID != All {
			rs = append(rs, dayRow{Metric: d.Metric, BrandID: All, Day: on.Time(), N: d.N})
		}
	}
	return rs
}

// insertRows appends the rows, those of one key summed and zero sums left
// out, in key order (concurrent writers take no locks on them anyway).
func insertRows(tx *gorm.DB, rs []dayRow) error {
	type key struct {
		m Metric
		b int64
		d time.Time
	}
	sum := map[key]int64{}
	for _, r := range rs {
		sum[key{r.Metric, r.BrandID, r.Day}] += r.N
	}
	rows := make([]dayRow, 0, len(sum))
	for k, n := range sum {
		if n != 0 {
			rows = append(rows, dayRow{Metric: k.m, BrandID: k.b, Day: k.d, N: n})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Metric != b.Metric {
			return a.Metric < b.Metric
		}
		if a.BrandID != b.BrandID {
			return a.BrandID < b.BrandID
		}
		return a.Day.Before(b.Day)
	})
	return tx.Table("daily_counts").Create(&rows).Error
}

// Roller rolls the rows appended since its last run into one row per
// metric, brand and day. Safe in any number of processes at once: the
// delete that takes the rows returns exactly the rows it removed, and a
// row appended meanwhile is left for the next run.
type Roller struct {
	DB    *database.DB
	Batch int // keys per transaction (default 500)
}

// Roll runs until no new rows are left and returns how many keys it rolled.
func (r *Roller) Roll(ctx context.Context) (int, error) {
	size := r.Batch
	if size <= 0 {
		size = 500
	}
	total := 0
	for {
		n, err := r.batch(ctx, size)
		total += n
		if err != nil || n < size {
			return total, err
		}
	}
}

type key struct {
	Metric  string
	BrandID int64
	Day     time.Time
}

func (r *Roller) batch(ctx context.Context, size int) (int, error) {
	var n int
	err := r.DB.InTx(ctx, func(tx *gorm.DB) error {
		var keys []key
		if err := tx.Raw(`SELECT DISTINCT metric, brand_id, day FROM daily_counts WHERE NOT rolled LIMIT ?`, size).
			Scan(&keys).Error; err != nil {
			return err
		}
		n = len(keys)
		if n == 0 {
			return nil
		}
		tuples := make([][]any, len(keys))
		for i, k := range keys {
			tuples[i] = []any{k.Metric, k.BrandID, k.Day}
		}
		var gone []struct {
			Metric  string
			BrandID int64
			Day     time.Time
			N       int64
		}
		if err := tx.Raw(`DELETE FROM daily_counts WHERE (metric, brand_id, day) IN ? RETURNING metric, brand_id, day, n`, tuples).
			Scan(&gone).Error; err != nil {
			return err
		}
		sums := map[key]int64{}
		for _, g := range gone {
			sums[key{g.Metric, g.BrandID, g.Day.UTC()}] += g.N
		}
		rows := make([]map[string]any, 0, len(sums))
		for k, s := range sums {
			if s == 0 { // a histogram's case that came and went
				continue
			}
			rows = append(rows, map[string]any{"metric": k.Metric, "brand_id": k.BrandID, "day": k.Day, "n": s, "rolled": true})
		}
		if len(rows) == 0 {
			return nil
		}
		return tx.Table("daily_counts").Create(rows).Error
	})
	return n, err
}

// Series are a metric's figures, one per bucket (a week, a month).
type Series map[Metric][]int64

// Sum reads the metrics per bucket: buckets[i] is the first day of bucket
// i, and a bucket runs to the next one's first day (the last to end,
// exclusive). brandID All is every brand.
func Sum(ctx context.Context, db *gorm.DB, brandID int64, buckets []clock.Date, end clock.Date, ms ...Metric) (Series, error) {
	out := Series{}
	for _, m := range ms {
		out[m] = make([]int64, len(buckets))
	}
	if len(buckets) == 0 {
		return out, nil
	}
	// Each day is put in its bucket in SQL, so a request gets one row per
	// metric and bucket back, not one per day.
	bucket := "CASE"
	args := []any{}
	for i := 1; i < len(buckets); i++ {
		bucket += " WHEN day < ? THEN " + strconv.Itoa(i-1)
		args = append(args, buckets[i].Time())
	}
	bucket += " ELSE " + strconv.Itoa(len(buckets)-1) + " END"
	if len(buckets) == 1 {
		bucket = "0"
	}
	var rows []struct {
		Metric Metric
		Bucket int
		N      int64
	}
	if err := db.WithContext(ctx).Raw(`SELECT metric, `+bucket+` AS bucket, sum(n) AS n FROM daily_counts
		WHERE brand_id = ? AND day >= ? AND day < ? AND metric IN ? GROUP BY 1, 2`,
		append(args, brandID, buckets[0].Time(), end.Time(), ms)...).Scan(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.Bucket < 0 || r.Bucket >= len(buckets) || out[r.Metric] == nil {
			return nil, fmt.Errorf("stats: %s in bucket %d of %d", r.Metric, r.Bucket, len(buckets))
		}
		out[r.Metric][r.Bucket] += r.N
	}
	return out, nil
}

// Age is how long the open cases of a state have waited in it, in whole
// days: how many, the median and the 90th percentile (nearest rank).
type Age struct {
	N           int64
	Median, P90 int
}

// Ages reads the histograms of the given states of a brand, or of all
// (All), as ages on day today: the median and 90th percentile by nearest
// rank, the entry day of the ceil(p·N)-th youngest case. Two reads through
// the (brand_id, metric, day) index, never the cases: the months
// (InStateMonth) find the month that holds each rank, then the days
// (InState) of those months only.
func Ages(ctx context.Context, db *gorm.DB, brandID int64, today clock.Date, states ...string) (map[string]Age, error) {
	db = db.WithContext(ctx)
	monthly := make([]Metric, len(states))
	for i, st := range states {
		monthly[i] = InStateMonth(st)
	}
	months, err := histogram(db, `brand_id = ? AND metric IN ?`, brandID, monthly)
	if err != nil {
		return nil, err
	}
	// Each state's ranks, and the month holding each, youngest first.
	type find struct {
		state string
		rank  int64 // within its month, from the month's latest day
		month clock.Date
		to    *int
	}
	out := make(map[string]Age, len(states))
	ages := make(map[string]*Age, len(states))
	var finds []find
	for _, st := range states {
		h := months[InStateMonth(st)]
		a := &Age{}
		ages[st] = a
		for _, b := range h {
			a.N += b.n
		}
		if a.N == 0 {
			continue
		}
		for _, r := range []struct {
			rank int64
			to   *int
		}{{(a.N + 1) / 2, &a.Median}, {(9*a.N + 9) / 10, &a.P90}} {
			var seen int64
			for _, b := range h {
				if seen+b.n >= r.rank {
					finds = append(finds, find{state: st, rank: r.rank - seen, month: b.day, to: r.to})
					break
				}
				seen += b.n
			}
		}
	}
	if len(finds) > 0 {
		where := make([]string, 0, len(finds))
		args := []any{brandID}
		seen := map[[2]any]bool{}
		for _, f := range finds {
			k := [2]any{f.state, f.month}
			if seen[k] {
				continue
			}
			seen[k] = true
			next := f.month.Time().AddDate(0, 1, 0)
			where = append(where, "(metric = ? AND day >= ? AND day < ?)")
			args = append(args, InState(f.state), f.month.Time(), next)
		}
		days, err := histogram(db, "brand_id = ? AND ("+strings.Join(where, " OR ")+")", args...)
		if err != nil {
			return nil, err
		}
		for _, f := range finds {
			var seen int64
			found := false
			for _, b := range days[InState(f.state)] {
				if b.day.Before(f.month) || !b.day.Before(clock.DateOf(f.month.Time().AddDate(0, 1, 0), time.UTC)) {
					continue
				}
				if seen += b.n; seen >= f.rank {
					*f.to, found = daysBetween(b.day, today), true
					break
				}
			}
			if !found { // the days do not add up to their month: a histogram out of step
				return nil, fmt.Errorf("stats: the days of %s in %s hold fewer than %d cases", f.state, f.month, f.rank)
			}
		}
	}
	for st, a := range ages {
		out[st] = *a
	}
	return out, nil
}

// bucket is a histogram's count on a day.
type bucket struct {
	day clock.Date
	n   int64
}

// histogram sums the rows the condition picks per metric and day, the
// latest day first, leaving out days that sum to zero.
func histogram(db *gorm.DB, where string, args ...any) (map[Metric][]bucket, error) {
	var rows []struct {
		Metric Metric
		Day    time.Time
		N      int64
	}
	if err := db.Raw(`SELECT metric, day, sum(n) AS n FROM daily_counts WHERE `+where+` GROUP BY metric, day`, args...).
		Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := map[Metric][]bucket{}
	for _, r := range rows {
		if r.N != 0 {
			out[r.Metric] = append(out[r.Metric], bucket{day: clock.DateOf(r.Day.UTC(), time.UTC), n: r.N})
		}
	}
	for _, bs := range out {
		sort.Slice(bs, func(i, j int) bool { return bs[i].day.After(bs[j].day) })
	}
	return out, nil
}

// RollArgs runs the roller; River schedules it on the leader only.
type RollArgs struct{}

func (RollArgs) Kind() string { return "stats.roll" }

// RollWorker runs RollArgs.
type RollWorker struct {
	river.WorkerDefaults[RollArgs]
	Roller *Roller
}

func (w *RollWorker) Work(ctx context.Context, _ *river.Job[RollArgs]) error {
	_, err := w.Roller.Roll(ctx)
	return err
}

// RollEvery schedules the roller.
func RollEvery(d time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(d),
		func() (river.JobArgs, *river.InsertOpts) { return RollArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})
}

// Reader reads the figures for the dashboard.
type Reader struct{ db *database.DB }

func NewReader(db *database.DB) *Reader { return &Reader{db: db} }

// Ages reads the ageing of the given states (see Ages) for staff.
func (r *Reader) Ages(ctx context.Context, actor authz.Actor, brandID int64, today clock.Date, states ...string) (map[string]Age, error) {
	if !authz.Can(actor, authz.ViewCases, authz.Subject{}) {
		return nil, database.ErrNotFound
	}
	return Ages(ctx, r.db.Gorm, brandID, today, states...)
}

// BrandMetrics are the figures a brand's users see of their own brands:
// what they judged and what enforcement got back, not what the platform
// spent.
var BrandMetrics = []Metric{Verdicts, Counterfeit, Seized, Collected}

// Brand sums BrandMetrics per bucket over the brands the brand user acts
// for (a user of several brands sees them together).
func (r *Reader) Brand(ctx context.Context, actor authz.Actor, buckets []clock.Date, end clock.Date) (Series, error) {
	if !authz.Can(actor, authz.ViewAuthQueue, authz.Subject{}) {
		return nil, database.ErrNotFound
	}
	out := Series{}
	for _, m := range BrandMetrics {
		out[m] = make([]int64, len(buckets))
	}
	for _, b := range actor.BrandIDs {
		one, err := Sum(ctx, r.db.Gorm, b, buckets, end, BrandMetrics...)
		if err != nil {
			return nil, err
		}
		for m, vs := range one {
			for i, v := range vs {
				out[m][i] += v
			}
		}
	}
	return out, nil
}

// Weekly sums the metrics per bucket (see Sum) for staff: the dashboard.
func (r *Reader) Weekly(ctx context.Context, actor authz.Actor, brandID int64, buckets []clock.Date, end clock.Date, ms ...Metric) (Series, error) {
	if !authz.Can(actor, authz.ViewCases, authz.Subject{}) {
		return nil, database.ErrNotFound
	}
	return Sum(ctx, r.db.Gorm, brandID, buckets, end, ms...)
}
