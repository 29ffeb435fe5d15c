package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// pgSampler is a sampling profiler of the benchmark database: 20 times a
// second it reads pg_stat_activity and counts, for each backend running a
// statement, what it waits on (CPU: nothing, which includes waiting for
// a CPU) and which statement it runs.
type pgSampler struct {
	counts  map[[2]string]int // wait, statement → samples
	samples int
	stop    chan struct{}
	done    chan struct{}
}

func samplePG(ctx context.Context, pool *pgxpool.Pool, dbName string) *pgSampler {
	w := &pgSampler{counts: map[[2]string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			rows, err := pool.Query(ctx, `SELECT COALESCE(wait_event_type || ':' || wait_event, 'CPU'),
					left(regexp_replace(query, '\s+', ' ', 'g'), 100), count(*)
				FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid() GROUP BY 1, 2`, dbName)
			if err != nil {
				continue
			}
			for rows.Next() {
				var wait, stmt string
				var n int
				if rows.Scan(&wait, &stmt, &n) == nil {
					w.counts[[2]string{wait, stmt}] += n
				}
			}
			rows.Close()
			w.samples++
		}
	}()
	return w
}

type tally struct {
	key string
	n   int
}

func top(m map[string]int) []tally {
	var out []tally
	for k, v := range m {
		out = append(out, tally{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n > out[j].n || (out[i].n == out[j].n && out[i].key < out[j].key) })
	return out
}

// end stops sampling. waits is the mean number of active backends and
// the mean in each wait; statements lists the n statements with the most
// samples, each with its share of the active samples and its main waits.
func (w *pgSampler) end(n int) (waits string, statements []string) {
	close(w.stop)
	<-w.done
	if w.samples == 0 {
		return "no samples", nil
	}
	byWait, byStmt := map[string]int{}, map[string]int{}
	stmtWaits := map[string]map[string]int{}
	total := 0
	for k, v := range w.counts {
		byWait[k[0]] += v
		byStmt[k[1]] += v
		if stmtWaits[k[1]] == nil {
			stmtWaits[k[1]] = map[string]int{}
		}
		stmtWaits[k[1]][k[0]] += v
		total += v
	}
	parts := []string{fmt.Sprintf("%.2f active backends", float64(total)/float64(w.samples))}
	for i, e := range top(byWait) {
		if i == 5 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.2f", e.key, float64(e.n)/float64(w.samples)))
	}
	for i, e := range top(byStmt) {
		if i == n {
			break
		}
		var ws []string
		for j, x := range top(stmtWaits[e.key]) {
			if j == 3 {
				break
			}
			ws = append(ws, fmt.Sprintf("%s %.0f%%", x.key, 100*float64(x.n)/float64(e.n)))
		}
		statements = append(statements, fmt.Sprintf("%3.0f%%  %s  [%s]", 100*float64(e.n)/float64(total), e.key, strings.Join(ws, ", ")))
	}
	return strings.Join(parts, ", "), statements
}
