package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"errors"
)

// The fault tests run the real binary on a cluster of their own and break
// the database under it. They measure what users would see (every answer
// and how long it took) and print the figures; they assert what must hold
// whatever the machine's speed: no answer but the page or 503, none later
// than its deadline allows, service back once the database is.

const faultPassword = "fault drill password"

// server is a running `spotcheck serve`.
type server struct {
	base string
	cmd  *exec.Cmd
	logs chan string
}

// startServer migrates, loads the demo and serves on e, with extra settings.
func startServer(t *testing.T, e env, extra ...string) *server {
	t.Helper()
	e = append(e, "SPOTCHECK_DEMO_PASSWORD="+faultPassword)
	e.mustRun(t, "", "demo")
	port := freePort(t)
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(append(e, "SPOTCHECK_ADDR=127.0.0.1:"+port), extra...)
	logs, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{base: "http://127.0.0.1:" + port, cmd: cmd, logs: make(chan string, 10000)}
	go func() {
		sc := bufio.NewScanner(logs)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			select {
			case s.logs <- sc.Text():
			default:
			}
		}
		close(s.logs)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	waitFor(t, func() bool {
		r, err := http.Get(s.base + "/readyz")
		return err == nil && r.Body.Close() == nil && r.StatusCode == 200
	})
	return s
}

// staffClient signs in as the demo's staff member.
func (s *server) staffClient(t *testing.T, timeout time.Duration) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"email": {"staff@demo.spotcheck.test"}, "password": {faultPassword}}
	req, _ := http.NewRequest(http.MethodPost, s.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Body.Close(); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") == "/login" {
		t.Fatalf("sign-in: %s to %q", res.Status, res.Header.Get("Location"))
	}
	return c
}

// answer is one request's outcome.
type answer struct {
	at         time.Time
	status     int // 0: no answer (an error of the client, such as its timeout)
	retryAfter string
	took       time.Duration
	err        error
}

// load asks for path from n clients in a loop until stop is closed.
func load(c *http.Client, base, path string, n int, stop <-chan struct{}) <-chan []answer {
	out := make(chan []answer, 1)
	var mu sync.Mutex
	var all []answer
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				a := answer{at: start}
				res, err := c.Get(base + path)
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					err = errors.Join(err, res.Body.Close())
					a.status, a.retryAfter = res.StatusCode, res.Header.Get("Retry-After")
				}
				a.took, a.err = time.Since(start), err
				mu.Lock()
				all = append(all, a)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	go func() { <-stop; wg.Wait(); out <- all }()
	return out
}

// check asserts what must hold of every answer: the page (200) or 503 with
// Retry-After, and no answer slower than limit. It returns the 503s and
// the slowest answer.
func check(t *testing.T, answers []answer, limit time.Duration) (unavailable int, slowest time.Duration) {
	t.Helper()
	for _, a := range answers {
		slowest = max(slowest, a.took)
		switch {
		case a.err != nil:
			t.Errorf("a request at %s got no answer after %s: %v", a.at.Format("15:04:05.000"), a.took, a.err)
		case a.status == http.StatusServiceUnavailable:
			unavailable++
			if a.retryAfter == "" {
				t.Errorf("503 at %s without Retry-After", a.at.Format("15:04:05.000"))
			}
		case a.status != http.StatusOK:
			t.Errorf("a request at %s was answered %d", a.at.Format("15:04:05.000"), a.status)
		}
		if a.took > limit {
			t.Errorf("a request at %s took %s, past its deadline (%s allowed)", a.at.Format("15:04:05.000"), a.took, limit)
		}
	}
	return unavailable, slowest
}

// backAfter is how long after since the first 200 answer came.
func backAfter(answers []answer, since time.Time) (time.Duration, bool) {
	sort.Slice(answers, func(i, j int) bool { return answers[i].at.Before(answers[j].at) })
	for _, a := range answers {
		if a.at.After(since) && a.status == http.StatusOK {
			return a.at.Add(a.took).Sub(since), true
		}
	}
	return 0, false
}

func get(t *testing.T, c *http.Client, u string) int {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if err := res.Body.Close(); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return res.StatusCode
}

// auditIntact runs `spotcheck audit verify` on e.
func auditIntact(t *testing.T, e env) {
	t.Helper()
	if out := e.mustRun(t, "", "audit", "verify"); !strings.Contains(out, "intact") {
		t.Fatalf("audit verify: %s", out)
	}
}

func TestSurvivesAPostgresRestartUnderLoad(t *testing.T) {
	pg := newCluster(t)
	e := newEnv(t, pg.URL())
	s := startServer(t, e, "SPOTCHECK_REQUEST_TIMEOUT=3s")
	c := s.staffClient(t, 15*time.Second)
	probe := &http.Client{Timeout: 5 * time.Second}

	stop := make(chan struct{})
	results := load(c, s.base, "/cases", 4, stop)
	time.Sleep(500 * time.Millisecond)
	down := time.Now()
	pg.Stop(t)
	waitFor(t, func() bool { return get(t, probe, s.base+"/readyz") == http.StatusServiceUnavailable })
	if got := get(t, probe, s.base+"/healthz"); got != http.StatusOK {
		t.Errorf("/healthz while the database is down: %d, want 200 (the process is alive)", got)
	}
	time.Sleep(2 * time.Second)
	up := time.Now()
	pg.Start(t)
	waitFor(t, func() bool { return get(t, probe, s.base+"/readyz") == http.StatusOK })
	time.Sleep(time.Second)
	close(stop)
	answers := <-results

	unavailable, slowest := check(t, answers, 3*time.Second+time.Second)
	if unavailable == 0 {
		t.Error("no request was answered 503 while the database was down")
	}
	back, ok := backAfter(answers, up)
	if !ok {
		t.Fatal("no page was served after the database came back")
	}
	t.Logf("PostgreSQL down %s: %d requests, %d answered 503, slowest %s; pages again %s after it was back",
		up.Sub(down).Round(time.Millisecond), len(answers), unavailable, slowest.Round(time.Millisecond), back.Round(time.Millisecond))
	auditIntact(t, e)
}

func TestSurvivesItsBackendsBeingTerminated(t *testing.T) {
	pg := newCluster(t)
	e := newEnv(t, pg.URL())
	s := startServer(t, e, "SPOTCHECK_REQUEST_TIMEOUT=3s")
	c := s.staffClient(t, 15*time.Second)
	admin := pg.SQL(t)

	stop := make(chan struct{})
	results := load(c, s.base, "/cases", 4, stop)
	time.Sleep(500 * time.Millisecond)
	first := time.Now()
	killed := 0
	for range 3 {
		var n int
		err := admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'spotcheck'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		killed += n
		time.Sleep(300 * time.Millisecond)
	}
	if killed == 0 {
		t.Fatal("no backend of the app was found to terminate (application_name 'spotcheck')")
	}
	time.Sleep(time.Second)
	close(stop)
	answers := <-results
	unavailable, slowest := check(t, answers, 4*time.Second)
	back, ok := backAfter(answers, first)
	if !ok {
		t.Fatal("no page was served after the backends were terminated")
	}
	t.Logf("%d backends terminated in three rounds: %d requests, %d answered 503, slowest %s; a page %s after the first round",
		killed, len(answers), unavailable, slowest.Round(time.Millisecond), back.Round(time.Millisecond))
	auditIntact(t, e)
}

// TestABusyDatabaseFailsWithinTheDeadline holds a lock every page needs
// (as a long migration or a stuck transaction would): the requests queue
// on it and then for the pool's connections, and every one must be
// answered 503 at its deadline, not hang.
func TestABusyDatabaseFailsWithinTheDeadline(t *testing.T) {
	pg := newCluster(t)
	e := newEnv(t, pg.URL())
	s := startServer(t, e, "SPOTCHECK_REQUEST_TIMEOUT=2s", "SPOTCHECK_DB_LOCK_TIMEOUT=1m", "SPOTCHECK_DB_STATEMENT_TIMEOUT=1m")
	c := s.staffClient(t, 15*time.Second)
	admin := pg.SQL(t)

	ctx := context.Background()
	tx, err := admin.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	const n = 48 // more than the pool's 32 connections
	answers, bodies := make([]answer, n), make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			a := answer{at: start}
			res, err := c.Get(s.base + "/cases")
			if err == nil {
				var b []byte
				b, err = io.ReadAll(res.Body)
				err = errors.Join(err, res.Body.Close())
				a.status, a.retryAfter, bodies[i] = res.StatusCode, res.Header.Get("Retry-After"), string(b)
			}
			a.took, a.err = time.Since(start), err
			answers[i] = a
		}()
	}
	wg.Wait()
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	unavailable, slowest := check(t, answers, 2*time.Second+time.Second)
	if unavailable != n {
		t.Errorf("%d of %d requests answered 503 while the lock was held", unavailable, n)
	}
	for i, b := range bodies {
		if answers[i].status == http.StatusServiceUnavailable && !strings.Contains(b, "Briefly unavailable") {
			t.Errorf("a 503 without the page that says why: %.200q", b)
			break
		}
	}
	t.Logf("users locked: %d requests, %d answered 503, slowest %s (deadline 2s)", n, unavailable, slowest.Round(time.Millisecond))
	if got := get(t, c, s.base+"/cases"); got != http.StatusOK {
		t.Errorf("after the lock was released: %d", got)
	}
}

// TestASlowDatabaseKeepsRequestsWithinTheirDeadline puts a latency proxy
// (toxiproxy, in process) between the app and its database: every answer
// of the database comes 25±10 ms late. Pages are slower, but the 99th
// percentile stays within the request deadline, and once the load stops
// the app's goroutines fall back to where they were (no request leaves
// one behind); the test's own (the proxy's, the clients') end too.
func TestASlowDatabaseKeepsRequestsWithinTheirDeadline(t *testing.T) {
	// Registered first, so it runs last, after the server is stopped.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		http.DefaultClient.CloseIdleConnections()
		goleak.VerifyNone(t, ignore)
	})
	pg := newCluster(t)
	e := newEnv(t, pg.URL())
	e.mustRun(t, "", "migrate")

	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	proxy := toxiproxy.NewProxy(srv, "postgres", "127.0.0.1:0", "127.0.0.1:"+pg.port)
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	defer proxy.Stop()
	slow := env(append([]string{}, e...))
	for i, v := range slow {
		if strings.HasPrefix(v, "DATABASE_URL=") {
			slow[i] = "DATABASE_URL=postgres://postgres@" + proxy.Listen + "/postgres?sslmode=disable"
		}
	}
	const token = "fault-drill-metrics-token"
	s := startServer(t, slow, "SPOTCHECK_REQUEST_TIMEOUT=5s", "SPOTCHECK_METRICS_TOKEN="+token)
	c := s.staffClient(t, 15*time.Second)
	// The baseline is taken after the same load on the fast database, so
	// that the pool's connections are open in both counts; the clients'
	// idle connections (each held by a goroutine of the server) are closed
	// before each count.
	warm := make(chan struct{})
	warmed := load(c, s.base, "/cases", 4, warm)
	time.Sleep(time.Second)
	close(warm)
	<-warmed
	c.CloseIdleConnections()
	time.Sleep(200 * time.Millisecond)
	admin := pg.SQL(t)
	backends := func() int {
		var n int
		if err := admin.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'spotcheck'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// River's maintenance (the job cleaner, the rescuer, the periodic
	// jobs) starts some seconds after the process, once it is elected
	// leader: the baseline is the count once it holds still.
	before := steadyGoroutines(t, s, token)
	connsBefore := backends()

	if _, err := proxy.Toxics.AddToxicJson(strings.NewReader(
		`{"name":"slow","type":"latency","stream":"downstream","toxicity":1,"attributes":{"latency":25,"jitter":10}}`)); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	results := load(c, s.base, "/cases", 4, stop)
	time.Sleep(5 * time.Second)
	close(stop)
	answers := <-results
	if err := proxy.Toxics.RemoveToxic(context.Background(), "slow"); err != nil {
		t.Fatal(err)
	}
	unavailable, slowest := check(t, answers, 5*time.Second+time.Second)
	took := make([]time.Duration, len(answers))
	for i, a := range answers {
		took[i] = a.took
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	p := func(q float64) time.Duration { return took[int(q*float64(len(took)-1))].Round(time.Millisecond) }
	if p(0.99) > 5*time.Second {
		t.Errorf("p99 %s past the 5s deadline", p(0.99))
	}
	c.CloseIdleConnections()
	var after int
	settled := false
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		// One goroutine per open database connection is pgx's own (its
		// background reader); the pool may hold more after a slow spell.
		if after = goroutines(t, s, token); after <= before+2+max(0, backends()-connsBefore) {
			settled = true
			break
		}
	}
	if !settled {
		t.Errorf("the app's goroutines: %d before the load, still %d after it", before, after)
	}
	t.Logf("database 25±10 ms slower: %d requests, %d answered 503, p50 %s p99 %s slowest %s; goroutines %d before, %d after; database connections %d before, %d after",
		len(answers), unavailable, p(0.5), p(0.99), slowest.Round(time.Millisecond), before, after, connsBefore, backends())
	c.CloseIdleConnections()
}

// steadyGoroutines is the app's goroutine count once it has not changed
// for two seconds (at most 30 s).
func steadyGoroutines(t *testing.T, s *server, token string) int {
	t.Helper()
	n, same := goroutines(t, s, token), 0
	for deadline := time.Now().Add(30 * time.Second); same < 8 && time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if m := goroutines(t, s, token); m == n {
			same++
		} else {
			n, same = m, 0
		}
	}
	return n
}

// goroutines reads the app's go_goroutines off its /metrics.
func goroutines(t *testing.T, s *server, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go_goroutines (\d+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no go_goroutines in /metrics (%s)", res.Status)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}
