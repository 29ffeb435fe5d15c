package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"spotcheck/internal/casework"
)

// The list phase's data: cases over shops and the four brands, seeded
// with COPY after the ingestion's data is truncated (same database, same
// running server). The states spread as in a working installation: most
// cases closed, a sixth still flagged.

var (
	seedStates   = []string{"flagged", "purchasing", "authenticating", "confirmed", "referred", "litigating", "closed"}
	stateShare   = []float64{0.15, 0.20, 0.24, 0.27, 0.29, 0.30, 1.00} // cumulative
	closeReasons = []string{"dismissed", "genuine", "platform_action_only", "enforced", "recovered", "insufficient_evidence", "duplicate"}
)

// seedTimes is how long each step of the bulk seed took.
type seedTimes struct {
	Truncate, Shops, Cases, Indexes, Vacuum, Total time.Duration
	ShopRows, CaseRows                             int
	States                                         map[string]int64
}

// seedCases empties the case data and fills it with n cases over n/4
// shops. Secondary indexes are dropped for the COPY and built again
// afterwards (with their exact definitions from the catalogue); foreign
// keys stay and are checked.
func seedCases(ctx context.Context, pool *pgxpool.Pool, seed uint64, n int, brandIDs []int64, investigators []int64, base time.Time) (seedTimes, error) {
	var st seedTimes
	t0 := time.Now()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return st, err
	}
	defer conn.Release()
	exec := func(sql string, args ...any) error {
		_, err := conn.Exec(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", firstLine(sql), err)
		}
		return nil
	}
	// CASCADE: the purchases, evidence, verdicts and enforcement records
	// that hang off cases and shops go too (a bench database only).
	if err := exec(`TRUNCATE flags, case_events, cases, listings, shop_links, shops RESTART IDENTITY CASCADE`); err != nil {
		return st, err
	}
	if err := exec(`DROP TABLE IF EXISTS flags_floor_copy, flags_floor_batched, flags_floor_insert, flags_floor_least, listings_floor_least`); err != nil {
		return st, err
	}
	st.Truncate = time.Since(t0)

	// The secondary indexes of shops and cases, as the migrations made them.
	rows, err := conn.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
		FROM pg_index i WHERE i.indrelid IN ('shops'::regclass, 'cases'::regclass) AND NOT i.indisprimary ORDER BY 1`)
	if err != nil {
		return st, err
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return st, err
		}
		names, defs = append(names, name), append(defs, def)
	}
	if err := rows.Err(); err != nil {
		return st, err
	}
	if err := exec(`DROP INDEX ` + strings.Join(names, ", ")); err != nil {
		return st, err
	}

	shops := max(n/4, 1)
	t := time.Now()
	created := base.Add(-3 * 365 * 24 * time.Hour)
	i := 0
	got, err := conn.CopyFrom(ctx, pgx.Identifier{"shops"},
		[]string{"id", "platform", "platform_shop_id", "name", "registered_owner", "created_at", "updated_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == shops {
				return nil, nil
			}
			i++
			return []any{int64(i), shopPlatform(i - 1), shopExtID(i - 1), shopName(i - 1), shopOwner(i - 1), created, created}, nil
		}))
	if err != nil {
		return st, fmt.Errorf("COPY shops: %w", err)
	}
	st.Shops, st.ShopRows = time.Since(t), int(got)

	// Cases in the order they were opened, over the last two years. At
	// most one open case per shop and brand (the unique index): an open
	// case that would be a second one picks another shop.
	t = time.Now()
	r := rand.New(rand.NewPCG(seed, 0xca5e)) // #nosec G404 -- a seeded generator makes repeatable bench data, not secrets
	span := 2 * 365 * 24 * time.Hour
	from := base.Add(-span)
	openPairs := make(map[[2]int32]struct{}, n/3)
	st.States = map[string]int64{}
	perYear := map[int]int64{}
	i = 0
	got, err = conn.CopyFrom(ctx, pgx.Identifier{"cases"},
		[]string{"id", "reference", "shop_id", "brand_id", "state", "close_reason", "priority", "risk_score", "investigator_id",
			"estimated_value_minor", "search_text", "version", "opened_at", "updated_at", "closed_at", "state_since"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			i++
			u := r.Float64()
			state := 0
			for state < len(stateShare)-1 && u >= stateShare[state] {
				state++
			}
			open := seedStates[state] != "closed"
			brand := pickBrand(r)
			shop := r.IntN(shops)
			if open {
				for tries := 0; ; tries++ {
					k := [2]int32{int32(shop), int32(brand)} // #nosec G115 -- shop and brand are indexes below the seeded counts (thousands)
					if _, dup := openPairs[k]; !dup {
						openPairs[k] = struct{}{}
						break
					}
					if tries == 20 { // crowded: close it instead
						open, state = false, len(seedStates)-1
						break
					}
					shop = r.IntN(shops)
				}
			}
			opened := from.Add(time.Duration(float64(span) * float64(i) / float64(n))).Add(time.Duration(r.Int64N(int64(time.Hour)))).
				Truncate(time.Microsecond)
			updated := opened.Add(time.Duration(r.ExpFloat64() * float64(10*24*time.Hour))).Truncate(time.Microsecond)
			if updated.After(base) {
				updated = base
			}
			year := opened.Year()
			perYear[year]++
			ref := fmt.Sprintf("SC-%d-%07d", year, perYear[year])
			var reason string
			var closedAt *time.Time
			if !open {
				reason = closeReasons[r.IntN(len(closeReasons))]
				c := updated
				closedAt = &c
			}
			var inv *int64
			if len(investigators) > 0 && state > 0 && r.IntN(10) < 8 { // worked cases mostly have an investigator
				id := investigators[r.IntN(len(investigators))]
				inv = &id
			}
			score := 0.8 + 0.2*r.Float64()
			if r.IntN(4) == 0 { // opened by hand from the inbox
				score = r.Float64()
			}
			k := r.IntN(20)
			search := strings.ToLower(ref + " " + shopName(shop) + " " + listingTitle(shop, k))
			st.States[seedStates[state]]++
			return []any{int64(i), ref, int64(shop + 1), brandIDs[brand], seedStates[state], reason, int32(r.IntN(4)), // #nosec G115 -- IntN(4) is below 4
				float64(int(score*10000)) / 10000, inv, int64(r.IntN(500000)) * 100, search, int32(1 + r.IntN(6)), // #nosec G115 -- 1+IntN(6) is at most 6
				opened, updated, closedAt, updated}, nil
		}))
	if err != nil {
		return st, fmt.Errorf("COPY cases: %w", err)
	}
	st.Cases, st.CaseRows = time.Since(t), int(got)

	t = time.Now()
	if err := exec(`SET maintenance_work_mem = '1GB'`); err != nil {
		return st, err
	}
	for _, def := range defs {
		if err := exec(def); err != nil {
			return st, err
		}
	}
	if err := exec(`RESET maintenance_work_mem`); err != nil {
		return st, err
	}
	st.Indexes = time.Since(t)

	// The identities continue after the seeded ids; the per-state counts
	// and the reference counters match the rows.
	for _, tbl := range []string{"shops", "cases"} {
		if err := exec(`SELECT setval(pg_get_serial_sequence('` + tbl + `', 'id'), (SELECT max(id) FROM ` + tbl + `))`); err != nil {
			return st, err
		}
	}
	for _, q := range casework.RecountSQL(true) {
		if err := exec(q); err != nil {
			return st, err
		}
	}
	for year, k := range perYear {
		if err := exec(`INSERT INTO counters (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
			fmt.Sprintf("case_ref:%d", year), k); err != nil {
			return st, err
		}
	}
	t = time.Now()
	if err := exec(`VACUUM (ANALYZE) shops, cases, case_counts, counters, daily_counts`); err != nil {
		return st, err
	}
	st.Vacuum = time.Since(t)
	st.Total = time.Since(t0)
	return st, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
