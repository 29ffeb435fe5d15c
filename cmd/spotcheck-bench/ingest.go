package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// apiResult is the flag API's answer.
type apiResult struct {
	Received     int               `json:"received"`
	Created      int               `json:"created"`
	Duplicates   int               `json:"duplicates"`
	Rejected     []json.RawMessage `json:"rejected"`
	CasesOpened  int               `json:"cases_opened"`
	CasesUpdated int               `json:"cases_updated"`
}

// ingestRun is one pass of flags through the API.
type ingestRun struct {
	Name      string
	Senders   int
	Flags     int
	Elapsed   time.Duration
	Sum       apiResult
	Rejected  int
	Retries   int
	FirstFail string
	lat       []time.Duration // per request, sorted
	Mem       memFigures
}

func (r ingestRun) Rate() float64 { return float64(r.Flags) / r.Elapsed.Seconds() }

// sendFlags posts flags 0 … n-1 of g as NDJSON in requests of batch flags,
// from senders concurrent senders. A request answered 5xx (a deadlock, say)
// is sent again, up to 5 times: a failed request stored nothing.
func sendFlags(ctx context.Context, client *http.Client, endpoint, secret string, g *flagGen, n, batch, senders int) (ingestRun, error) {
	run := ingestRun{Senders: senders, Flags: n}
	type job struct {
		start int
		body  []byte
	}
	jobs := make(chan job, senders+1)
	genCtx, stopGen := context.WithCancel(ctx)
	defer stopGen()
	go func() { // bodies are made ahead of the senders, a few at a time
		defer close(jobs)
		for start := 0; start < n; start += batch {
			select {
			case jobs <- job{start, g.ndjson(start, min(batch, n-start))}:
			case <-genCtx.Done():
				return
			}
		}
	}()
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	t0 := time.Now()
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				var res apiResult
				var took time.Duration
				var err error
				tries := 0
				for {
					tries++
					t := time.Now()
					code, msg, perr := postBatch(ctx, client, endpoint, secret, j.body, &res)
					took, err = time.Since(t), perr
					if err == nil && code == http.StatusOK {
						break
					}
					if err == nil {
						err = fmt.Errorf("flags %d…: HTTP %d: %s", j.start, code, msg)
					}
					mu.Lock()
					if run.FirstFail == "" {
						run.FirstFail = err.Error()
					}
					mu.Unlock()
					if (code != 0 && code < 500) || tries == 5 || ctx.Err() != nil {
						break
					}
					mu.Lock()
					run.Retries++
					mu.Unlock()
					time.Sleep(100 * time.Millisecond)
				}
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
						stopGen()
					}
				} else {
					run.lat = append(run.lat, took)
					run.Sum.Received += res.Received
					run.Sum.Created += res.Created
					run.Sum.Duplicates += res.Duplicates
					run.Rejected += len(res.Rejected)
					run.Sum.CasesOpened += res.CasesOpened
					run.Sum.CasesUpdated += res.CasesUpdated
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	run.Elapsed = time.Since(t0)
	slices.Sort(run.lat)
	if firstErr != nil {
		return run, firstErr
	}
	if run.Sum.Received != n {
		return run, fmt.Errorf("the server received %d flags of %d", run.Sum.Received, n)
	}
	return run, nil
}

func postBatch(ctx context.Context, client *http.Client, endpoint, secret string, body []byte, out *apiResult) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, "", err
	}
	if res.StatusCode != http.StatusOK {
		return res.StatusCode, strings.TrimSpace(string(b[:min(len(b), 300)])), nil
	}
	*out = apiResult{}
	return res.StatusCode, "", json.Unmarshal(b, out)
}

// The floors: the same rows, written by the harness straight into a bare
// copy of the flags table (same columns, CHECKs, unique and lookup
// indexes; no foreign keys, no shops, listings, cases or audit).

var floorColumns = []string{"source", "external_id", "rule", "score", "shop_id", "listing_id", "brand_id",
	"detected_at", "payload", "status", "received_at"}

// makeFloorTable (re)creates table as a bare copy of flags.
func makeFloorTable(ctx context.Context, pool *pgxpool.Pool, table string) error {
	_, err := pool.Exec(ctx, `DROP TABLE IF EXISTS `+table+`; CREATE TABLE `+table+` (LIKE flags INCLUDING ALL)`)
	return err
}

// floorRow is flag f as the row the API would have stored (payload: the
// record as sent; shop and listing ids derived from their numbers).
func (g *flagGen) floorRow(f *genFlag, buf []byte, now time.Time) ([]any, []byte) {
	buf = g.appendJSON(buf[:0], f)
	return []any{g.source, g.externalID(f), f.rule, f.score, int64(f.shop + 1), int64(f.shop*20 + f.listing + 1),
		g.brandIDs[f.brand], f.detected, string(buf), "open", now}, buf
}

// copyFloor writes flags 0 … n-1 into table with COPY: in one stream
// (batch 0) or in one COPY and transaction per batch.
func copyFloor(ctx context.Context, pool *pgxpool.Pool, g *flagGen, table string, n, batch int) (time.Duration, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	now := time.Now().UTC()
	t0 := time.Now()
	step := batch
	if step == 0 {
		step = 10000 // generated a batch at a time, sent as one stream
	}
	if batch == 0 {
		start, i := 0, 0
		var cur []genFlag
		var buf []byte
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(cur) {
				if start >= n {
					return nil, nil
				}
				cur, i = g.batch(start, min(step, n-start)), 0
				start += len(cur)
			}
			var row []any
			row, buf = g.floorRow(&cur[i], buf, now)
			i++
			return row, nil
		})
		got, err := conn.CopyFrom(ctx, pgx.Identifier{table}, floorColumns, src)
		if err == nil && int(got) != n {
			err = fmt.Errorf("COPY wrote %d rows of %d", got, n)
		}
		return time.Since(t0), err
	}
	for start := 0; start < n; start += step {
		cur := g.batch(start, min(step, n-start))
		rows := make([][]any, len(cur))
		for i := range cur {
			rows[i], _ = g.floorRow(&cur[i], nil, now) // a new buffer for each row
		}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{table}, floorColumns, pgx.CopyFromRows(rows)); err != nil {
			return time.Since(t0), err
		}
	}
	return time.Since(t0), nil
}

// insertFloor writes flags 0 … n-1 into table with multi-row INSERT … ON
// CONFLICT DO NOTHING of rowsPer rows, one transaction per batch (as the
// API does per request). It returns how many rows were inserted.
func insertFloor(ctx context.Context, pool *pgxpool.Pool, g *flagGen, table string, n, batch, rowsPer int) (time.Duration, int64, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Release()
	stmt := func(rows int) string {
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + table + " (" + strings.Join(floorColumns, ", ") + ") VALUES ")
		p := 1
		for r := range rows {
			if r > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for c := range floorColumns {
				if c > 0 {
					sb.WriteString(", ")
				}
				fmt.Fprintf(&sb, "$%d", p)
				p++
			}
			sb.WriteByte(')')
		}
		sb.WriteString(" ON CONFLICT (source, external_id) DO NOTHING")
		return sb.String()
	}
	full := stmt(rowsPer)
	now := time.Now().UTC()
	var inserted int64
	t0 := time.Now()
	for start := 0; start < n; start += batch {
		cur := g.batch(start, min(batch, n-start))
		tx, err := conn.Begin(ctx)
		if err != nil {
			return time.Since(t0), inserted, err
		}
		for off := 0; off < len(cur); off += rowsPer {
			part := cur[off:min(off+rowsPer, len(cur))]
			args := make([]any, 0, len(part)*len(floorColumns))
			for i := range part {
				row, _ := g.floorRow(&part[i], nil, now) // a new buffer for each row
				args = append(args, row...)
			}
			q := full
			if len(part) != rowsPer {
				q = stmt(len(part))
			}
			tag, err := tx.Exec(ctx, q, args...)
			if err != nil {
				_ = tx.Rollback(ctx)
				return time.Since(t0), inserted, err
			}
			inserted += tag.RowsAffected()
		}
		if err := tx.Commit(ctx); err != nil {
			return time.Since(t0), inserted, err
		}
	}
	return time.Since(t0), inserted, nil
}

// makeListingsFloorTable (re)creates table as a bare copy of listings.
func makeListingsFloorTable(ctx context.Context, pool *pgxpool.Pool, table string) error {
	_, err := pool.Exec(ctx, `DROP TABLE IF EXISTS `+table+`; CREATE TABLE `+table+` (LIKE listings INCLUDING ALL)`)
	return err
}

var listingFloorColumns = []string{"id", "shop_id", "platform_listing_id", "url", "title", "price_minor", "currency",
	"brand_id", "created_at", "updated_at"}

// copyFloorWithListings is the least any ingestion must write: per batch,
// in one transaction, a COPY of the listings the batch names for the first
// time and a COPY of its flags, into bare copies of both tables (no shops,
// cases, timeline or audit; no parsing of JSON).
func copyFloorWithListings(ctx context.Context, pool *pgxpool.Pool, g *flagGen, flagTable, listingTable string, n, batch int) (time.Duration, int, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Release()
	now := time.Now().UTC()
	seen := map[int64]bool{}
	listings := 0
	t0 := time.Now()
	for start := 0; start < n; start += batch {
		cur := g.batch(start, min(batch, n-start))
		rows := make([][]any, len(cur))
		var lrows [][]any
		for i := range cur {
			f := &cur[i]
			rows[i], _ = g.floorRow(f, nil, now) // a new buffer for each row
			id := int64(f.shop*20 + f.listing + 1)
			if seen[id] {
				continue
			}
			seen[id] = true
			price, _ := strconv.ParseFloat(listingPrice(f.shop, f.listing), 64)
			lid := "item-" + pad(f.shop, 7) + "-" + pad(f.listing, 2)
			lrows = append(lrows, []any{id, int64(f.shop + 1), lid, "https://" + shopPlatform(f.shop) + ".example/item/" + lid,
				listingTitle(f.shop, f.listing), int64(price*100 + 0.5), "CNY", g.brandIDs[f.brand], now, now})
		}
		listings += len(lrows)
		tx, err := conn.Begin(ctx)
		if err != nil {
			return time.Since(t0), listings, err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{listingTable}, listingFloorColumns, pgx.CopyFromRows(lrows)); err != nil {
			_ = tx.Rollback(ctx)
			return time.Since(t0), listings, err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{flagTable}, floorColumns, pgx.CopyFromRows(rows)); err != nil {
			_ = tx.Rollback(ctx)
			return time.Since(t0), listings, err
		}
		if err := tx.Commit(ctx); err != nil {
			return time.Since(t0), listings, err
		}
	}
	return time.Since(t0), listings, nil
}
