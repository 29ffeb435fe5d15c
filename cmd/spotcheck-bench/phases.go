package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// dataBase is the latest time in the generated data: fixed, so the data
// are the same on every run, and in the past, as the API wants.
var dataBase = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

// commas formats a whole number with thousands separators.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func (b *bench) ingestPhase(ctx context.Context) error {
	o := b.o
	g := &flagGen{seed: o.seed, source: "risk-model-7", shops: o.shops, base: dataBase, brandIDs: b.brandIDs}
	requests := (o.flags + o.batch - 1) / o.batch
	fmt.Printf("\n== Ingestion: %s flags, %d requests of %s, NDJSON, POST /api/v1/flags over loopback ==\n",
		commas(int64(o.flags)), requests, commas(int64(o.batch)))
	fmt.Printf("  data: seed %d, %s shops on %d platforms, %d brands (40/30/20/10%%), 20 listings a shop, score u² (%.1f%% ≥ 0.8 auto-open)\n",
		o.seed, commas(int64(o.shops)), len(platforms), len(brandNames), 100*(1-0.894427191))
	fmt.Printf("  each request is one transaction in the app; bodies are generated ahead of the sender; a 5xx answer is retried\n\n")
	fmt.Printf("  %-52s %12s %9s %10s %10s  %s\n", "run", "flags/s", "elapsed", "p50 req", "p99 req", "answers")
	client := newClient(2, nil)
	endpoint := "http://" + b.addr + "/api/v1/flags"

	var peak memFigures
	api := func(name string, g *flagGen, senders int, fresh bool) (ingestRun, error) {
		end, load := b.watch.phase(), machineLoad()
		pg := samplePG(ctx, b.pool, b.dbName)
		r, err := sendFlags(ctx, client, endpoint, b.secret, g, o.flags, o.batch, senders)
		r.Name, r.Mem = name, end()
		machine := load()
		waits, stmts := pg.end(6)
		if r.Mem.HWM > peak.HWM {
			peak.HWM, peak.HWMReset = r.Mem.HWM, r.Mem.HWMReset
		}
		peak.MaxRSS = max(peak.MaxRSS, r.Mem.MaxRSS)
		if err != nil {
			return r, fmt.Errorf("%s: %w", name, err)
		}
		pct := func(p float64) time.Duration { return loadResult{lat: r.lat}.pct(p) }
		fmt.Printf("  %-52s %12s %8.1fs %10s %10s  created %s, duplicates %s, rejected %d, cases opened %s, grown %s",
			name, commas(int64(r.Rate())), r.Elapsed.Seconds(), ms(pct(0.5)), ms(pct(0.99)),
			commas(int64(r.Sum.Created)), commas(int64(r.Sum.Duplicates)), r.Rejected, commas(int64(r.Sum.CasesOpened)), commas(int64(r.Sum.CasesUpdated)))
		if r.Retries > 0 {
			fmt.Printf(", %d retried (first: %s)", r.Retries, r.FirstFail)
		}
		fmt.Println()
		fmt.Printf("  %-52s server: %s; %s\n", "", r.Mem, machine)
		fmt.Printf("  %-52s PostgreSQL: %s; by statement:\n", "", waits)
		for _, st := range stmts {
			fmt.Printf("  %-52s   %s\n", "", st)
		}
		want := r.Sum.Duplicates
		if fresh {
			want = r.Sum.Created
		}
		if want != o.flags || r.Rejected != 0 {
			return r, fmt.Errorf("%s: expected all %d flags %s, got created %d, duplicates %d, rejected %d", name, o.flags,
				map[bool]string{true: "created", false: "duplicates"}[fresh], r.Sum.Created, r.Sum.Duplicates, r.Rejected)
		}
		return r, nil
	}
	newRun, err := api("API, new flags, 1 sender", g, 1, true)
	if err != nil {
		return err
	}
	resendRun, err := api("API, resend of the same (all duplicates), 1 sender", g, 1, false)
	if err != nil {
		return err
	}
	var new2, resend2 ingestRun
	if o.twoSenders {
		// A second set of new flags (another source, other shops), so that
		// the two-sender run stores as much as the first did.
		g2 := *g
		g2.source, g2.shopBase = "risk-model-8", o.shops
		if new2, err = api("API, new flags (2nd set), 2 senders", &g2, 2, true); err != nil {
			return err
		}
		if resend2, err = api("API, resend of the first set, 2 senders", g, 2, false); err != nil {
			return err
		}
	}

	// New flags whose shops carry identifiers (other shops, another
	// source): hashed, stored, matched, links suggested, in the same
	// transaction.
	gi := *g
	gi.source, gi.shopBase, gi.identifiers = "risk-network", 2*o.shops, true
	withIDs, err := api("API, new flags with 2 identifiers a shop, 1 sender", &gi, 1, true)
	if err != nil {
		return err
	}
	var suggested, stored int64
	if err := b.pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM link_suggestions), (SELECT count(*) FROM shop_identifiers)").Scan(&suggested, &stored); err != nil {
		return err
	}
	fmt.Printf("  %-52s %s identifiers stored, %s links suggested\n", "", commas(stored), commas(suggested))

	// The floors, on the same rows, in the same harness, one connection.
	load := machineLoad()
	floor := func(name string, d time.Duration, n int, err error) (float64, error) {
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		fmt.Printf("  %-52s %12s %8.1fs %10s %10s  %s rows written; %s\n", name, commas(int64(rate(o.flags, d))), d.Seconds(), "", "",
			commas(int64(n)), load())
		load = machineLoad()
		return rate(o.flags, d), nil
	}
	for _, t := range []string{"flags_floor_copy", "flags_floor_batched", "flags_floor_insert", "flags_floor_least"} {
		if err := makeFloorTable(ctx, b.pool, t); err != nil {
			return err
		}
	}
	if err := makeListingsFloorTable(ctx, b.pool, "listings_floor_least"); err != nil {
		return err
	}
	d, err := copyFloor(ctx, b.pool, g, "flags_floor_copy", o.flags, 0)
	copyRate, err := floor("floor: COPY, one stream", d, o.flags, err)
	if err != nil {
		return err
	}
	d, err = copyFloor(ctx, b.pool, g, "flags_floor_batched", o.flags, o.batch)
	if _, err := floor(fmt.Sprintf("floor: COPY, %d × %s, one tx each", requests, commas(int64(o.batch))), d, o.flags, err); err != nil {
		return err
	}
	d, nl, err := copyFloorWithListings(ctx, b.pool, g, "flags_floor_least", "listings_floor_least", o.flags, o.batch)
	leastRate, err := floor("least writes: COPY new listings + flags, tx each", d, o.flags, err)
	if err != nil {
		return err
	}
	fmt.Printf("  %-52s (%s listings; no parsing, shops, cases, timeline or audit)\n", "", commas(int64(nl)))
	d, n, err := insertFloor(ctx, b.pool, g, "flags_floor_insert", o.flags, o.batch, 1000)
	insRate, err := floor("floor: INSERT … ON CONFLICT DO NOTHING, 1,000 rows", d, int(n), err)
	if err != nil {
		return err
	}
	d, n, err = insertFloor(ctx, b.pool, g, "flags_floor_insert", o.flags, o.batch, 1000)
	insResendRate, err := floor("floor: the same INSERT again (all conflicts)", d, int(n), err)
	if err != nil {
		return err
	}

	var sizes []string
	for _, t := range []string{"flags", "flags_floor_copy", "shops", "listings", "cases", "case_events"} {
		var size string
		if err := b.pool.QueryRow(ctx, "SELECT pg_size_pretty(pg_total_relation_size($1::regclass))", t).Scan(&size); err == nil {
			sizes = append(sizes, t+" "+size)
		}
	}
	fmt.Printf("\n  table sizes (with indexes): %s\n", strings.Join(sizes, ", "))

	fmt.Printf("\n  ratios                                   API/COPY   API/INSERT   target\n")
	line := func(name string, api, ins float64, target bool) {
		r := api / copyRate
		t := ""
		if target {
			t = fmt.Sprintf("API ≥ 0.5 × COPY: %s", metText(r >= 0.5))
		}
		fmt.Printf("  %-40s %8.4f %12.4f   %s\n", name, r, api/ins, t)
	}
	fmt.Printf("  %-40s %8.4f   (the ceiling of API/COPY for any ingestion that stores a flag's listing with it)\n",
		"least writes (flags + listings COPY)", leastRate/copyRate)
	line("new flags, 1 sender", newRun.Rate(), insRate, true)
	line("resend (all duplicates), 1 sender", resendRun.Rate(), insResendRate, true)
	if o.twoSenders {
		line("new flags, 2 senders", new2.Rate(), insRate, false)
		line("resend, 2 senders", resend2.Rate(), insResendRate, false)
	}
	fmt.Printf("  (API/INSERT: new flags against the INSERT of new rows, resends against the INSERT that meets only conflicts)\n")
	idRatio := withIDs.Rate() / newRun.Rate()
	fmt.Printf("  %-40s %8.4f   (with identifiers / without; target ≥ 0.8: %s)\n", "new flags with identifiers", idRatio, metText(idRatio >= 0.8))
	fmt.Printf("\n  server peak memory during ingestion: VmHWM %s%s, highest sampled VmRSS %s\n", mib(peak.HWM),
		map[bool]string{true: "", false: " (since start)"}[peak.HWMReset], mib(peak.MaxRSS))

	two := func(r ingestRun) string {
		if !o.twoSenders {
			return ""
		}
		return " (2 senders: " + commas(int64(r.Rate())) + ")"
	}
	b.note("ingestion      API new %s flags/s%s, resend %s%s; floors: COPY %s rows/s, INSERT %s, INSERT of conflicts %s",
		commas(int64(newRun.Rate())), two(new2), commas(int64(resendRun.Rate())), two(resend2),
		commas(int64(copyRate)), commas(int64(insRate)), commas(int64(insResendRate)))
	b.note("server memory  ingestion: VmHWM %s, highest sampled VmRSS %s", mib(peak.HWM), mib(peak.MaxRSS))
	b.judge("ingestion, new flags ≥ 0.5 × COPY", newRun.Rate() >= 0.5*copyRate, "%s vs COPY %s flags/s: %.4f×",
		commas(int64(newRun.Rate())), commas(int64(copyRate)), newRun.Rate()/copyRate)
	b.judge("ingestion, resend (all duplicates) ≥ 0.5 × COPY", resendRun.Rate() >= 0.5*copyRate, "%s vs COPY %s flags/s: %.4f×",
		commas(int64(resendRun.Rate())), commas(int64(copyRate)), resendRun.Rate()/copyRate)
	b.judge("ingestion, new flags with identifiers ≥ 0.8 × without", idRatio >= 0.8, "%s vs %s flags/s: %.4f×",
		commas(int64(withIDs.Rate())), commas(int64(newRun.Rate())), idRatio)
	b.ingestPeak = peak
	return nil
}

func (b *bench) listPhase(ctx context.Context) (err error) {
	o := b.o
	fmt.Printf("\n== Case list: %s cases, GET /cases?state=flagged&brand=<%s> as the staff user ==\n", commas(int64(o.cases)), brandNames[0])
	fmt.Printf("  seeding: the ingestion's data truncated (same database, same server), then shops and cases by COPY (pgx),\n")
	fmt.Printf("  secondary indexes of shops and cases dropped for the COPY and rebuilt from their catalogue definitions,\n")
	fmt.Printf("  foreign keys checked, case_counts and the reference counters set from the rows, VACUUM ANALYZE\n")
	st, err := seedCases(ctx, b.pool, o.seed, o.cases, b.brandIDs, b.users, dataBase)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Printf("  seeded %s shops and %s cases in %.1f s (truncate %.1f s, COPY shops %.1f s, COPY cases %.1f s = %s cases/s, indexes %.1f s, vacuum analyze %.1f s)\n",
		commas(int64(st.ShopRows)), commas(int64(st.CaseRows)), st.Total.Seconds(), st.Truncate.Seconds(), st.Shops.Seconds(),
		st.Cases.Seconds(), commas(int64(rate(st.CaseRows, st.Cases))), st.Indexes.Seconds(), st.Vacuum.Seconds())
	var counts []string
	for _, s := range seedStates {
		counts = append(counts, fmt.Sprintf("%s %s", s, commas(st.States[s])))
	}
	fmt.Printf("  states: %s\n", strings.Join(counts, ", "))
	b.note("seed           %s cases and %s shops by COPY in %.1f s", commas(int64(st.CaseRows)), commas(int64(st.ShopRows)), st.Total.Seconds())
	var stored int64
	if err := b.pool.QueryRow(ctx, "SELECT sum(n) FROM case_counts").Scan(&stored); err != nil || stored != int64(st.CaseRows) {
		return fmt.Errorf("case_counts sum to %d, not %d (%v)", stored, st.CaseRows, err)
	}

	state, brand := "flagged", b.brandIDs[0]
	literal, param, err := listSQL(ctx, b.dbURL, state, brand)
	if err != nil {
		return err
	}
	var matching int64
	if err := b.pool.QueryRow(ctx, "SELECT count(*) FROM cases WHERE state = $1 AND brand_id = $2", state, brand).Scan(&matching); err != nil {
		return err
	}
	fmt.Printf("  %s cases match the filter; the list query (casework.Service.ListSQL; the app sends it with $1, $2):\n    %s\n",
		commas(matching), strings.Join(strings.Fields(literal), " "))

	// Sign in through the form: one session per -sessions.
	var segments []memFigures
	endSignIn := b.watch.phase()
	jars := make([]http.CookieJar, o.sessions)
	for i := range jars {
		jars[i], _ = cookiejar.New(nil)
		if err := signIn(ctx, newClient(1, jars[i]), b.addr, staffEmail, password); err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
	}
	segments = append(segments, endSignIn())
	fmt.Printf("  signed in as %s through GET+POST /login (CSRF cookie and _csrf field): %d session(s)\n", staffEmail, o.sessions)

	mini, err := startMinimal(b.dbURL, param, o.minPool)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, mini.stop()) }()
	minWatch := watchProc(mini.pid, 100*time.Millisecond)
	defer minWatch.close()
	maddr := mini.addr
	fmt.Printf("  minimal handler: pid %d on %s (spotcheck-bench %s: database/sql + pgx, pool %d, html/template)\n",
		mini.pid, maddr, minimalCommand, o.minPool)
	q := fmt.Sprintf("/cases?state=%s&brand=%d", state, brand)
	appURL, minURL := "http://"+b.addr+q, "http://"+maddr+q

	// Both pages list the same 50 cases.
	appClients := func(conns int) []*http.Client {
		cs := make([]*http.Client, len(jars))
		for i := range cs {
			cs[i] = newClient((conns+len(jars)-1)/len(jars), jars[i])
		}
		return cs
	}
	_, appBody, err := get(ctx, appClients(1)[0], appURL, nil)
	if err != nil {
		return err
	}
	_, minBody, err := get(ctx, newClient(1, nil), minURL, nil)
	if err != nil {
		return err
	}
	appRefs, minRefs := references(appBody), references(minBody)
	if len(appRefs) != 50 || !slices.Equal(appRefs, minRefs) {
		return fmt.Errorf("the app lists %d cases, the minimal handler %d, not the same 50:\napp: %v\nminimal: %v",
			len(appRefs), len(minRefs), appRefs, minRefs)
	}
	fmt.Printf("  both list the same 50 cases (%s … %s); page sizes: app %s bytes, minimal %s bytes\n",
		appRefs[0], appRefs[49], commas(int64(len(appBody))), commas(int64(len(minBody))))

	appOK := func(status int, body []byte) error {
		if status != http.StatusOK || !bytes.Contains(body, []byte(`data-testid="case-table"`)) {
			return fmt.Errorf("status %d, %d bytes, no case table", status, len(body))
		}
		return nil
	}
	minOK := func(status int, body []byte) error {
		if status != http.StatusOK || !bytes.Contains(body, []byte(`data-testid="case-row"`)) {
			return fmt.Errorf("status %d: %.200s", status, body)
		}
		return nil
	}

	fmt.Printf("\n  %d load runs of %s each after %s warm-up; each connection sends one request at a time (keep-alive)\n",
		2*len(o.conns), o.duration, o.warm)
	fmt.Printf("  %5s  %-10s %10s %10s %10s %10s %7s  %s\n", "conns", "handler", "req/s", "p50", "p99", "max", "errors", "")
	type pair struct{ app, min loadResult }
	var pairs []pair
	for _, c := range o.conns {
		// The app.
		endRun, load := b.watch.phase(), machineLoad()
		ru0 := rusage()
		pg := samplePG(ctx, b.pool, b.dbName)
		app := runLoad(ctx, appClients(c), appURL, c, o.warm, o.duration, appOK)
		w, stmts := pg.end(3)
		w += "; " + load()
		mem := endRun()
		segments = append(segments, mem)
		harness := rusage() - ru0
		b.printLoad("spotcheck", app)
		fmt.Printf("  %5s  %-10s server CPU %.2f ms/req, harness CPU %.2f ms/req; server %s\n", "", "",
			perReq(mem.CPU, app), perReq(harness, app), mem)
		fmt.Printf("  %5s  %-10s PostgreSQL: %s\n", "", "", w)
		for _, st := range stmts {
			fmt.Printf("  %5s  %-10s   %s\n", "", "", st)
		}

		// The minimal handler (its own process; the app idles).
		endRun, load = minWatch.phase(), machineLoad()
		ru0 = rusage()
		pg = samplePG(ctx, b.pool, b.dbName)
		mr := runLoad(ctx, []*http.Client{newClient(c, nil)}, minURL, c, o.warm, o.duration, minOK)
		w, _ = pg.end(0)
		w += "; " + load()
		mmem := endRun()
		harness = rusage() - ru0
		b.printLoad("minimal", mr)
		fmt.Printf("  %5s  %-10s minimal CPU %.2f ms/req, harness CPU %.2f ms/req; minimal %s\n", "", "",
			perReq(mmem.CPU, mr), perReq(harness, mr), mmem)
		fmt.Printf("  %5s  %-10s PostgreSQL: %s\n", "", "", w)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		pairs = append(pairs, pair{app, mr})
	}

	fmt.Printf("\n  %5s  %16s %16s   %s\n", "conns", "req/s app/min", "p99 app/min", "targets: req/s ≥ 0.5×, p99 ≤ 2×")
	for _, p := range pairs {
		b.note("list, %2d conns app %.1f req/s p50 %s p99 %s; minimal %.1f req/s p50 %s p99 %s", p.app.Conns,
			p.app.RPS(), ms(p.app.P50()), ms(p.app.P99()), p.min.RPS(), ms(p.min.P50()), ms(p.min.P99()))
		rr := p.app.RPS() / p.min.RPS()
		pr := float64(p.app.P99()) / float64(p.min.P99())
		okR, okP := rr >= 0.5 && p.app.Errors == 0, pr <= 2 && p.app.Errors == 0
		fmt.Printf("  %5d  %16.4f %16.4f   req/s %s, p99 %s\n", p.app.Conns, rr, pr, metText(okR), metText(okP))
		b.judge(fmt.Sprintf("list page, %d conns: req/s ≥ 0.5 × minimal", p.app.Conns), okR, "%.1f vs %.1f req/s: %.4f×",
			p.app.RPS(), p.min.RPS(), rr)
		b.judge(fmt.Sprintf("list page, %d conns: p99 ≤ 2 × minimal", p.app.Conns), okP, "%s vs %s: %.4f×",
			ms(p.app.P99()), ms(p.min.P99()), pr)
	}
	var peak memFigures
	for _, s := range segments {
		peak.HWM, peak.MaxRSS = max(peak.HWM, s.HWM), max(peak.MaxRSS, s.MaxRSS)
	}
	fmt.Printf("\n  server peak memory during the list phase (sign-in and load runs): VmHWM %s, highest sampled VmRSS %s\n",
		mib(peak.HWM), mib(peak.MaxRSS))
	b.note("server memory  list phase: VmHWM %s, highest sampled VmRSS %s", mib(peak.HWM), mib(peak.MaxRSS))
	if b.ingestPeak.HWM > 0 {
		fmt.Printf("  server peak memory during ingestion (above):                     VmHWM %s, highest sampled VmRSS %s\n",
			mib(b.ingestPeak.HWM), mib(b.ingestPeak.MaxRSS))
	}

	custom, generic, err := explain(ctx, b.pool, literal, param, state, brand)
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	fmt.Printf("\n  EXPLAIN (ANALYZE, BUFFERS) of the list query, with its values (the plan PostgreSQL makes for them):\n")
	for _, l := range custom {
		fmt.Printf("    %s\n", l)
	}
	fmt.Printf("\n  the same as a prepared statement's generic plan (plan_cache_mode = force_generic_plan), which a cached\n")
	fmt.Printf("  statement may switch to after five executions:\n")
	for _, l := range generic {
		fmt.Printf("    %s\n", l)
	}
	list := map[int]loadResult{}
	for _, p := range pairs {
		list[p.app.Conns] = p.app
	}
	return b.dashboardRuns(ctx, appClients, list)
}

func (b *bench) printLoad(name string, r loadResult) {
	errs := strconv.Itoa(r.Errors)
	if r.Errors > 0 {
		errs += " (first: " + r.FirstErr + ")"
	}
	fmt.Printf("  %5d  %-10s %10.1f %10s %10s %10s %7s\n", r.Conns, name, r.RPS(), ms(r.P50()), ms(r.P99()), ms(r.Max()), errs)
}

func perReq(d time.Duration, r loadResult) float64 {
	if r.All == 0 {
		return 0
	}
	return float64(d.Microseconds()) / 1000 / float64(r.All)
}

// rusage is the CPU time this process has used.
func rusage() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}
