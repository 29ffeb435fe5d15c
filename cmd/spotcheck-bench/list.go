package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, as the app uses

	"spotcheck/internal/casework"
	"spotcheck/internal/database"
)

// listSQL is the app's own case list query for state and brand, from
// casework.Service.ListSQL: as printed by GORM (values inline) and with
// the two values turned back into parameters $1 (state) and $2 (brand),
// the form in which the app sends it.
func listSQL(ctx context.Context, dbURL, state string, brandID int64) (literal, param string, err error) {
	db, err := database.OpenPostgres(ctx, dbURL, database.Limits{})
	if err != nil {
		return "", "", err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	st, err := casework.ParseState(state)
	if err != nil {
		return "", "", err
	}
	literal, err = casework.NewService(db).ListSQL(ctx, casework.Filter{States: []casework.State{st}, BrandID: brandID, Limit: 50})
	if err != nil {
		return "", "", err
	}
	param = literal
	for _, r := range []struct{ from, to string }{
		{"c.state = '" + state + "'", "c.state = $1"},
		{"c.brand_id = " + strconv.FormatInt(brandID, 10) + " ", "c.brand_id = $2 "},
	} {
		if strings.Count(param, r.from) != 1 {
			return "", "", fmt.Errorf("the list SQL changed shape (no single %q):\n%s", r.from, literal)
		}
		param = strings.Replace(param, r.from, r.to, 1)
	}
	return literal, param, nil
}

// signIn signs in through the real form: GET /login for the CSRF cookie,
// POST /login with the cookie's value as _csrf. The session cookie lands
// in client's jar.
func signIn(ctx context.Context, client *http.Client, addr, email, password string) error {
	base := &url.URL{Scheme: "http", Host: addr, Path: "/"}
	status, _, err := get(ctx, client, base.String()+"login", nil)
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("GET /login: %d %v", status, err)
	}
	csrf := ""
	for _, c := range client.Jar.Cookies(base) {
		if c.Name == "spotcheck_csrf" {
			csrf = c.Value
		}
	}
	if csrf == "" {
		return errors.New("GET /login set no spotcheck_csrf cookie")
	}
	form := url.Values{"email": {email}, "password": {password}, "_csrf": {csrf}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base.String()+"login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	if err := res.Body.Close(); err != nil {
		return err
	}
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/dashboard" {
		return fmt.Errorf("POST /login: %d → %q (want 303 → /dashboard)", res.StatusCode, res.Header.Get("Location"))
	}
	for _, c := range client.Jar.Cookies(base) {
		if c.Name == "spotcheck_session" {
			return nil
		}
	}
	return errors.New("POST /login set no spotcheck_session cookie")
}

// minimal is the floor of the list page: an http.Server of the harness
// that runs the same SQL through the same driver (pgx's database/sql
// driver, statement cache, a pool of the app's size) and renders the same
// columns of the same rows with html/template. No sessions, no sign-in,
// no counters, no filter form, no layout. It runs as a child process of
// the harness binary (spotcheck-bench minimal-serve), so that it is
// measured as the app is: its own process (CPU, memory, Go scheduler)
// behind loopback, not sharing the load generator's runtime.
type minimal struct {
	db  *sql.DB
	q   string
	tpl *template.Template
	loc *time.Location
}

type minimalRow struct {
	ID             int64
	Reference      string
	State          string
	CloseReason    string
	RiskScore      float64
	Priority       int
	BrandID        int64
	BrandName      string
	ShopID         int64
	ShopName       string
	Platform       string
	InvestigatorID *int64
	Investigator   string
	OpenedAt       time.Time
	UpdatedAt      time.Time
}

var minimalPage = template.Must(template.New("cases").Funcs(template.FuncMap{
	"pct": func(f float64) string { return strconv.Itoa(int(f*100+0.5)) + "%" },
	"dash": func(s string) string {
		if s == "" {
			return "—"
		}
		return s
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cases</title></head>
<body><main><h1>Cases</h1>
<table><thead><tr><th>Reference</th><th>State</th><th>Shop</th><th>Brand</th><th>Score</th><th>Investigator</th><th>Updated</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr data-testid="case-row"><td><a href="/cases/{{.Reference}}">{{.Reference}}</a></td><td><span class="badge state-{{.State}}">{{.State}}{{if .CloseReason}} · {{.CloseReason}}{{end}}</span></td><td><a href="/shops/{{.ShopID}}">{{.ShopName}}</a> <small>{{.Platform}}</small></td><td>{{.BrandName}}</td><td>{{pct .RiskScore}}</td><td>{{dash .Investigator}}</td><td>{{.Updated}}</td></tr>
{{- end}}
</tbody></table>
{{if .Next}}<a href="{{.Next}}">Next page</a>{{end}}
</main></body></html>
`))

func newMinimal(dbURL, param string, loc *time.Location, pool int) (*minimal, error) {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return nil, err
	}
	// By default the app's pool (internal/database.OpenPostgres: 32 open,
	// 16 idle).
	db.SetMaxOpenConns(pool)
	db.SetMaxIdleConns(max(pool/2, 1))
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &minimal{db: db, q: param, tpl: minimalPage, loc: loc}, nil
}

func (m *minimal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	brand, err := strconv.ParseInt(q.Get("brand"), 10, 64)
	if err != nil {
		http.Error(w, "bad brand", http.StatusBadRequest)
		return
	}
	rows, err := m.db.QueryContext(r.Context(), m.q, q.Get("state"), brand)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer rows.Close()
	type view struct {
		minimalRow
		Updated string
	}
	out := make([]view, 0, 51)
	for rows.Next() {
		var v view
		x := &v.minimalRow
		if err := rows.Scan(&x.ID, &x.Reference, &x.State, &x.CloseReason, &x.RiskScore, &x.Priority, &x.BrandID, &x.BrandName,
			&x.ShopID, &x.ShopName, &x.Platform, &x.InvestigatorID, &x.Investigator, &x.OpenedAt, &x.UpdatedAt); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		v.Updated = x.UpdatedAt.In(m.loc).Format("2006-01-02 15:04")
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	next := ""
	if len(out) > 50 {
		out = out[:50]
		last := out[49]
		next = "/cases?" + url.Values{"state": {q.Get("state")}, "brand": {q.Get("brand")},
			"after": {last.UpdatedAt.UTC().Format(time.RFC3339Nano) + "|" + strconv.FormatInt(last.ID, 10)}}.Encode()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var buf bytes.Buffer
	if err := m.tpl.Execute(&buf, map[string]any{"Rows": out, "Next": next}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(buf.Bytes())
}

// minimalCommand is the hidden subcommand that runs the minimal server.
const minimalCommand = "minimal-serve"

// runMinimalServer is the child process: it takes the database URL, the
// SQL and the pool size from its environment, prints its address on
// stdout and serves until its stdin closes (the harness ends or dies).
func runMinimalServer() error {
	pool, err := strconv.Atoi(os.Getenv("SPOTCHECK_BENCH_POOL"))
	if err != nil || pool < 1 {
		return errors.New("SPOTCHECK_BENCH_POOL: want a pool size")
	}
	m, err := newMinimal(os.Getenv("SPOTCHECK_BENCH_DB"), os.Getenv("SPOTCHECK_BENCH_SQL"), mustLocation("Asia/Shanghai"), pool)
	if err != nil {
		return err
	}
	addr, stop, err := serveMinimal(m)
	if err != nil {
		return err
	}
	fmt.Println(addr)
	_, _ = io.Copy(io.Discard, os.Stdin)
	stop()
	return nil
}

// minimalServer is the running child process.
type minimalServer struct {
	addr  string
	pid   int
	stdin io.Closer
	done  chan error
}

// startMinimal starts the minimal server as a child process of this
// binary and waits for its address.
func startMinimal(dbURL, param string, pool int) (*minimalServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, minimalCommand) // #nosec G204 -- exe is this bench binary itself (os.Executable), re-run as the minimal server
	cmd.Env = append(os.Environ(), "SPOTCHECK_BENCH_DB="+dbURL, "SPOTCHECK_BENCH_SQL="+param, "SPOTCHECK_BENCH_POOL="+strconv.Itoa(pool))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	m := &minimalServer{pid: cmd.Process.Pid, stdin: stdin, done: make(chan error, 1)}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	go func() { m.done <- cmd.Wait() }()
	if err != nil {
		cerr := stdin.Close() // ends the child, so that done is sent
		return nil, errors.Join(fmt.Errorf("the minimal server did not start: %v", <-m.done), cerr)
	}
	m.addr = strings.TrimSpace(line)
	return m, nil
}

// stop closes the child's stdin, which ends it; a child that fails on the
// way out, or has to be killed, is reported.
func (m *minimalServer) stop() error {
	err := m.stdin.Close()
	select {
	case werr := <-m.done:
		return errors.Join(err, werr)
	case <-time.After(10 * time.Second):
		if p, ferr := os.FindProcess(m.pid); ferr == nil {
			_ = p.Kill()
		}
		return errors.Join(err, fmt.Errorf("the minimal server did not stop in 10 s and was killed (%v)", <-m.done))
	}
}

// serveMinimal starts the minimal handler on a loopback port.
func serveMinimal(m *minimal) (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), func() { _ = srv.Close(); _ = m.db.Close() }, nil
}

var referenceRE = regexp.MustCompile(`href="/cases/(SC-[0-9]+-[0-9]+)"`)

// references lists the case references a list page links to, in order.
func references(body []byte) []string {
	var out []string
	for _, m := range referenceRE.FindAllSubmatch(body, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// explain returns EXPLAIN (ANALYZE, BUFFERS) of the list query: the plan
// for these values, and the generic plan a cached prepared statement may
// switch to.
func explain(ctx context.Context, pool *pgxpool.Pool, literal, param, state string, brandID int64) (custom, generic []string, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Release()
	lines := func(sql string, args ...any) ([]string, error) {
		rows, err := conn.Query(ctx, sql, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				return nil, err
			}
			out = append(out, l)
		}
		return out, rows.Err()
	}
	// Each is run twice and the second shown: the first pays for this
	// connection's cold catalogue caches.
	for range 2 {
		if custom, err = lines("EXPLAIN (ANALYZE, BUFFERS) " + literal); err != nil {
			return nil, nil, err
		}
	}
	if _, err = conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		return nil, nil, err
	}
	defer func() { err = errors.Join(err, execOnly(ctx, conn, "RESET plan_cache_mode")) }()
	if _, err = conn.Exec(ctx, "PREPARE bench_list(text, bigint) AS "+param); err != nil {
		return nil, nil, err
	}
	defer func() { err = errors.Join(err, execOnly(ctx, conn, "DEALLOCATE bench_list")) }()
	for range 2 {
		if generic, err = lines(fmt.Sprintf("EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_list('%s', %d)", state, brandID)); err != nil {
			return nil, nil, err
		}
	}
	return custom, generic, nil
}

// execOnly runs a statement whose result is not wanted, only its error.
func execOnly(ctx context.Context, conn *pgxpool.Conn, sql string) error {
	_, err := conn.Exec(ctx, sql)
	return err
}
