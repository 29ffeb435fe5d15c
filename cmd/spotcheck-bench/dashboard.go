package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/deadline"
	"spotcheck/internal/stats"
)

// dashboardConns are the connection counts the dashboard is measured at,
// next to the list page's runs at the same counts.
var dashboardConns = []int{1, 8}

// seedDashboard fills what the dashboard reads beside the cases: a year
// of daily figures up to now for every metric, per brand and summed for
// all brands (rolled, as the roller leaves them), and an open step for
// every open case past flagged (the one a case in its state waits on),
// one in twenty past due. The cases' ageing histogram is RecountSQL's.
func seedDashboard(ctx context.Context, pool *pgxpool.Pool, brandIDs []int64, now time.Time) (days, steps, overdue int64, err error) {
	metrics := []string{string(stats.Verdicts), string(stats.PersonasBurned)}
	for _, m := range append(append([]stats.Metric{}, stats.Flow...), stats.Money...) {
		metrics = append(metrics, string(m))
	}
	for _, r := range casework.CloseReasons {
		metrics = append(metrics, string(stats.ClosedAs(string(r))))
	}
	day := now.UTC().Truncate(24 * time.Hour)
	tag, err := pool.Exec(ctx, `INSERT INTO daily_counts (metric, brand_id, day, n, rolled)
		SELECT m, b, d::date, abs(hashtext(m || b || d::text)) % 200, true
		FROM unnest($1::text[]) AS m, unnest($2::bigint[]) AS b, generate_series($3::timestamp - interval '364 days', $3::timestamp, interval '1 day') AS d`,
		metrics, brandIDs, day)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("daily figures: %w", err)
	}
	days = tag.RowsAffected()
	if _, err := pool.Exec(ctx, `INSERT INTO daily_counts (metric, brand_id, day, n, rolled)
		SELECT metric, 0, day, sum(n), true FROM daily_counts WHERE brand_id <> 0 AND metric = ANY($1) GROUP BY metric, day`, metrics); err != nil {
		return 0, 0, 0, fmt.Errorf("daily figures of all brands: %w", err)
	}
	// What an open case waits on in each state, and who must act.
	tag, err = pool.Exec(ctx, `INSERT INTO deadlines (case_id, brand_id, kind, subject_id, party, party_id, started_at, due_at)
		SELECT c.id, c.brand_id, w.kind, c.id, w.party, CASE WHEN w.party = 'brand' THEN c.brand_id ELSE COALESCE(c.investigator_id, 0) END,
		       $1::timestamptz - interval '3 days',
		       CASE WHEN c.id % 20 = 0 THEN $1::timestamptz - (1 + c.id % 7) * interval '1 day'
		            ELSE $1::timestamptz + (1 + c.id % 10) * interval '1 day' END
		FROM cases c JOIN (VALUES ('purchasing', 'delivery', 'volunteer'), ('authenticating', 'verdict', 'brand'),
		                          ('confirmed', 'referral_quiet', 'staff'), ('referred', 'police_answer', 'staff'),
		                          ('litigating', 'hearing', 'staff')) AS w(state, kind, party) ON w.state = c.state`, now)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("open steps: %w", err)
	}
	steps = tag.RowsAffected()
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM deadlines WHERE done_at IS NULL AND due_at < $1`, now).Scan(&overdue); err != nil {
		return 0, 0, 0, err
	}
	_, err = pool.Exec(ctx, `VACUUM (ANALYZE) daily_counts, deadlines`)
	return days, steps, overdue, err
}

// dashboardRuns loads GET /dashboard (all brands) and /dashboard?brand=
// at dashboardConns, and judges each against the list page's run at the
// same connections (list, from the list phase's load runs).
func (b *bench) dashboardRuns(ctx context.Context, clients func(conns int) []*http.Client, list map[int]loadResult) error {
	o := b.o
	t := time.Now()
	days, steps, overdue, err := seedDashboard(ctx, b.pool, b.brandIDs, time.Now())
	if err != nil {
		return fmt.Errorf("seed the dashboard: %w", err)
	}
	fmt.Printf("\n== Dashboard: GET /dashboard and /dashboard?brand=<%s> as the staff user, next to the case list ==\n", brandNames[0])
	fmt.Printf("  seeded in %.1f s: %s daily figures (a year, %d brands, and their sums for all brands), %s open steps of which %s past due;\n",
		time.Since(t).Seconds(), commas(days), len(b.brandIDs), commas(steps), commas(overdue))
	fmt.Printf("  the pipeline from case_counts, ageing from the in_<state> histogram (casework.RecountSQL) and the state_since indexes\n")
	okPage := func(status int, body []byte) error {
		if status != http.StatusOK || !bytes.Contains(body, []byte(`data-testid="ageing"`)) || !bytes.Contains(body, []byte(`data-testid="overdue-figure"`)) {
			return fmt.Errorf("status %d, %d bytes, no ageing or overdue figures", status, len(body))
		}
		return nil
	}
	pages := []struct{ name, path string }{
		{"all brands", "/dashboard"},
		{"one brand", fmt.Sprintf("/dashboard?brand=%d", b.brandIDs[0])},
	}
	_, body, err := get(ctx, clients(1)[0], "http://"+b.addr+pages[0].path, nil)
	if err != nil {
		return err
	}
	if err := okPage(http.StatusOK, body); err != nil {
		return fmt.Errorf("GET /dashboard: %w", err)
	}
	fmt.Printf("  page size: %s bytes\n", commas(int64(len(body))))
	fmt.Printf("  %5s  %-10s %10s %10s %10s %10s %7s  %s\n", "conns", "page", "req/s", "p50", "p99", "max", "errors", "")
	type row struct {
		page string
		r    loadResult
	}
	var rows []row
	for _, c := range dashboardConns {
		if !slices.Contains(o.conns, c) {
			continue
		}
		for _, p := range pages {
			endRun := b.watch.phase()
			r := runLoad(ctx, clients(c), "http://"+b.addr+p.path, c, o.warm, o.duration, okPage)
			mem := endRun()
			b.printLoad(p.name, r)
			fmt.Printf("  %5s  %-10s server CPU %.2f ms/req\n", "", "", perReq(mem.CPU, r))
			rows = append(rows, row{p.name, r})
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	fmt.Printf("\n  %5s  %-10s %16s %16s   %s\n", "conns", "page", "req/s dash/list", "p99 dash/list", "targets: req/s ≥ 0.5×, p99 ≤ 2×")
	for _, rw := range rows {
		l := list[rw.r.Conns]
		rr, pr := rw.r.RPS()/l.RPS(), float64(rw.r.P99())/float64(l.P99())
		okR, okP := rr >= 0.5 && rw.r.Errors == 0, pr <= 2 && rw.r.Errors == 0
		fmt.Printf("  %5d  %-10s %16.4f %16.4f   req/s %s, p99 %s\n", rw.r.Conns, rw.page, rr, pr, metText(okR), metText(okP))
		b.note("dashboard, %s, %2d conns %.1f req/s p50 %s p99 %s; list %.1f req/s p99 %s", rw.page, rw.r.Conns,
			rw.r.RPS(), ms(rw.r.P50()), ms(rw.r.P99()), l.RPS(), ms(l.P99()))
		b.judge(fmt.Sprintf("dashboard (%s), %d conns: req/s ≥ 0.5 × list page", rw.page, rw.r.Conns), okR, "%.1f vs %.1f req/s: %.4f×",
			rw.r.RPS(), l.RPS(), rr)
		b.judge(fmt.Sprintf("dashboard (%s), %d conns: p99 ≤ 2 × list page", rw.page, rw.r.Conns), okP, "%s vs %s: %.4f×",
			ms(rw.r.P99()), ms(l.P99()), pr)
	}
	return b.explainOverdue(ctx)
}

// explainOverdue prints the plans of the overdue-step counts the dashboard
// sends (deadline.Service.OverdueSQL), of all brands and of one.
func (b *bench) explainOverdue(ctx context.Context) (err error) {
	db, err := database.OpenPostgres(ctx, b.dbURL, database.Limits{})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	svc := deadline.NewService(db)
	for _, brand := range []int64{0, b.brandIDs[0]} {
		sql := svc.OverdueSQL(ctx, time.Now(), brand)
		var lines []string
		for range 2 { // the second run is shown: the first warms this connection's caches
			lines = lines[:0]
			rows, err := b.pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql)
			if err != nil {
				return fmt.Errorf("explain %s: %w", sql, err)
			}
			for rows.Next() {
				var l string
				if err := rows.Scan(&l); err != nil {
					rows.Close()
					return err
				}
				lines = append(lines, l)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		fmt.Printf("\n  EXPLAIN (ANALYZE, BUFFERS) of the overdue-step counts (deadline.Service.OverdueSQL), brand %d (0: all):\n    %s\n",
			brand, strings.Join(strings.Fields(sql), " "))
		for _, l := range lines {
			fmt.Printf("    %s\n", l)
		}
	}
	return nil
}
