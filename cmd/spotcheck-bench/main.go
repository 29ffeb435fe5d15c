// Command spotcheck-bench measures Spotcheck end to end on PostgreSQL, in
// one run and side by side with floors measured in the same harness:
//
//   - flag ingestion through the real API (NDJSON, requests of 10,000 over
//     loopback), new and resent, next to COPY and to batched INSERT … ON
//     CONFLICT of the same rows into a bare copy of the flags table;
//   - the staff's case list page (signed in through the real form,
//     filtered by state and brand) at several concurrencies, next to a
//     minimal handler that runs the same SQL and renders the same rows
//     with html/template; with the query's plan;
//   - the server's memory (VmHWM, sampled VmRSS) during each phase.
//
// It creates its own database, sets it up with the spotcheck binary
// (migrate, brand add, user add, token create), starts `spotcheck serve`
// as a child process and drops the database at the end unless -keep.
// `make bench` runs it; `-quick` is a smoke run.
package main

import (
	"context"
	"debug/buildinfo"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

type options struct {
	bin        string
	adminURL   string
	flags      int
	shops      int
	cases      int
	batch      int
	duration   time.Duration
	warm       time.Duration
	conns      []int
	sessions   int
	minPool    int
	seed       uint64
	quick      bool
	keep       bool
	twoSenders bool
	skipIngest bool
	skipList   bool
	skipUpload bool
}

func parseOptions(args []string) (options, error) {
	o := options{}
	fs := flag.NewFlagSet("spotcheck-bench", flag.ContinueOnError)
	def := os.Getenv("TEST_DATABASE_URL")
	if def == "" {
		def = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	fs.StringVar(&o.bin, "bin", "bin/spotcheck", "the spotcheck binary to measure")
	fs.StringVar(&o.adminURL, "pg", def, "a PostgreSQL database to run CREATE/DROP DATABASE in ($TEST_DATABASE_URL when set)")
	fs.IntVar(&o.flags, "flags", 1_000_000, "flags to ingest")
	fs.IntVar(&o.shops, "shops", 0, "distinct shops among the flags (default flags/10)")
	fs.IntVar(&o.cases, "cases", 1_000_000, "cases to seed for the list page")
	fs.IntVar(&o.batch, "batch", 10_000, "flags per API request")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "length of each load run of the list page")
	fs.DurationVar(&o.warm, "warmup", 3*time.Second, "warm-up before each load run (not counted)")
	connList := fs.String("conns", "1,8,64", "concurrent connections of the list page's load runs")
	fs.IntVar(&o.sessions, "sessions", 1, "sessions the load generator spreads its connections over (each one a sign-in of the staff user)")
	fs.IntVar(&o.minPool, "minimal-pool", 32, "connection pool of the minimal handler (the app's is 32)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the data generators")
	fs.BoolVar(&o.quick, "quick", false, "smoke run: 100,000 flags and cases, 5 s load runs")
	fs.BoolVar(&o.keep, "keep", false, "keep the database (and print its URL) instead of dropping it")
	fs.BoolVar(&o.twoSenders, "two-senders", true, "also ingest with 2 concurrent senders (a second set of new flags, and a resend)")
	fs.BoolVar(&o.skipIngest, "skip-ingest", false, "skip the ingestion phase")
	fs.BoolVar(&o.skipList, "skip-list", false, "skip the list phase")
	fs.BoolVar(&o.skipUpload, "skip-upload", false, "skip the evidence upload phase")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.quick {
		if !set["flags"] {
			o.flags = 100_000
		}
		if !set["cases"] {
			o.cases = 100_000
		}
		if !set["duration"] {
			o.duration = 5 * time.Second
		}
		if !set["warmup"] {
			o.warm = time.Second
		}
	}
	if o.shops == 0 {
		o.shops = max(o.flags/10, 1)
	}
	if o.batch < 1 || o.batch > 10_000 {
		return o, errors.New("-batch must be 1 … 10000 (the API's limit)")
	}
	if o.minPool < 1 {
		return o, errors.New("-minimal-pool must be at least 1")
	}
	if o.sessions < 1 {
		return o, errors.New("-sessions must be at least 1")
	}
	for _, s := range strings.Split(*connList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-conns: %q is not a positive number", s)
		}
		o.conns = append(o.conns, n)
	}
	return o, nil
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == minimalCommand {
		if err := runMinimalServer(); err != nil {
			fmt.Fprintln(os.Stderr, "spotcheck-bench minimal-serve:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := parseOptions(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err == nil {
		err = run(ctx, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "spotcheck-bench:", err)
		os.Exit(1)
	}
}

// bench is one run: its database, its server and what it measured.
type bench struct {
	o        options
	dbName   string
	dbURL    string
	env      []string
	dataDir  string
	pool     *pgxpool.Pool
	secret   string
	brandIDs []int64
	users    []int64 // admin, staff: the investigators of seeded cases
	addr     string
	server   *exec.Cmd
	// serverExited has the server's exit once it is gone.
	serverExited chan error
	watch        *procWatch
	verdicts     []verdict
	summary      []string // one line per figure, repeated at the end
	// ingestPeak is the server's memory peak over the ingestion runs.
	ingestPeak memFigures
	t0         time.Time
}

type verdict struct {
	what   string
	detail string
	met    bool
}

func (b *bench) judge(what string, met bool, format string, args ...any) {
	b.verdicts = append(b.verdicts, verdict{what: what, detail: fmt.Sprintf(format, args...), met: met})
}

func (b *bench) note(format string, args ...any) {
	b.summary = append(b.summary, fmt.Sprintf(format, args...))
}

func metText(met bool) string {
	if met {
		return "MET"
	}
	return "NOT MET"
}

const (
	staffEmail = "staff@bench.spotcheck.test"
	adminEmail = "admin@bench.spotcheck.test"
	password   = "bench password 2026"
)

func run(ctx context.Context, o options) (err error) {
	b := &bench{o: o, t0: time.Now()}
	if _, err := os.Stat(o.bin); err != nil {
		return fmt.Errorf("the spotcheck binary: %w (make bench builds it)", err)
	}
	if b.dataDir, err = os.MkdirTemp("", "spotcheck-bench-"); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(b.dataDir)) }()

	pgVersion, err := b.createDatabase(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if o.keep {
			fmt.Printf("\nkept the database: %s\n", b.dbURL)
			return
		}
		if derr := b.dropDatabase(); derr != nil && err == nil {
			err = derr
		}
	}()

	fmt.Printf("Spotcheck benchmark, %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Printf("  machine   %d CPUs, %s %s/%s, PostgreSQL %s\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, pgVersion)
	fmt.Printf("  database  %s (fresh; %s at the end)\n", b.dbName, map[bool]string{true: "kept", false: "dropped"}[o.keep])
	fmt.Printf("  binary    %s (%s)\n", o.bin, buildOf(o.bin))
	fmt.Printf("  options   -flags %d -shops %d -cases %d -batch %d -duration %s -warmup %s -conns %s -sessions %d -minimal-pool %d -seed %d\n",
		o.flags, o.shops, o.cases, o.batch, o.duration, o.warm, joinInts(o.conns), o.sessions, o.minPool, o.seed)
	fmt.Printf("  load      average %s at the start (other work on the machine skews every figure below)\n", loadAvg())
	fmt.Println("  note      the harness (generator, load generator, minimal handler), the server and PostgreSQL share the machine's CPUs")

	if err := b.setup(ctx); err != nil {
		return err
	}
	defer b.pool.Close()
	if err := b.startServer(ctx); err != nil {
		return err
	}
	defer b.stopServer()
	b.watch = watchProc(b.server.Process.Pid, 100*time.Millisecond)
	defer b.watch.close()

	if !o.skipIngest {
		if err := b.ingestPhase(ctx); err != nil {
			return fmt.Errorf("ingestion phase: %w", err)
		}
	}
	if !o.skipList {
		if err := b.listPhase(ctx); err != nil {
			return fmt.Errorf("list phase: %w", err)
		}
	}
	if !o.skipUpload {
		if err := b.uploadPhase(ctx); err != nil {
			return fmt.Errorf("upload phase: %w", err)
		}
	}

	fmt.Printf("\n== Summary ==\n")
	for _, l := range b.summary {
		fmt.Printf("  %s\n", l)
	}
	fmt.Printf("\n== Targets ==\n")
	for _, v := range b.verdicts {
		fmt.Printf("  %-8s %-58s %s\n", metText(v.met), v.what, v.detail)
	}
	fmt.Printf("\ntotal run time %s\n", time.Since(b.t0).Round(time.Second))
	return nil
}

// buildOf names the commit a binary was built from, and whether the work
// tree had changes.
func buildOf(path string) string {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return "no build information"
	}
	rev, modified := "unknown revision", ""
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			rev = "commit " + s.Value[:12]
		case s.Key == "vcs.modified" && s.Value == "true":
			modified = " with uncommitted changes"
		}
	}
	if rev == "unknown revision" { // built with -buildvcs=false: say what the work tree is
		if out, err := exec.Command("git", "describe", "--always", "--dirty", "--abbrev=12").Output(); err == nil {
			rev = "work tree at " + strings.TrimSpace(string(out))
		}
	}
	return bi.GoVersion + ", " + rev + modified
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// createDatabase makes spotcheck_bench_<timestamp> on the server of the
// admin URL and returns the server's version.
func (b *bench) createDatabase(ctx context.Context) (_ string, err error) {
	conn, err := pgx.Connect(ctx, b.o.adminURL)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", redact(b.o.adminURL), err)
	}
	defer func() { err = errors.Join(err, conn.Close(ctx)) }()
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		return "", err
	}
	b.dbName = "spotcheck_bench_" + time.Now().UTC().Format("20060102_150405")
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{b.dbName}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(b.o.adminURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + b.dbName
	b.dbURL = u.String()
	return strings.Fields(version)[0], nil
}

func (b *bench) dropDatabase() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, b.o.adminURL)
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{b.dbName}.Sanitize()+" WITH (FORCE)")
	return errors.Join(err, conn.Close(ctx))
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// spotcheck runs a subcommand of the binary against the bench database.
func (b *bench) spotcheck(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, b.o.bin, args...) // #nosec G204 -- b.o.bin is the spotcheck binary the operator named with -bin
	cmd.Env = b.env
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("spotcheck %s: %w\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out), nil
}

// setup migrates the database and makes the brands, an admin, a staff
// user and an API token, all with the binary's own subcommands.
func (b *bench) setup(ctx context.Context) error {
	t := time.Now()
	b.env = []string{"DATABASE_URL=" + b.dbURL, "SPOTCHECK_DATA=" + b.dataDir, "SPOTCHECK_LOG_FORMAT=json",
		"SPOTCHECK_LOG_LEVEL=warn", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	if _, err := b.spotcheck(ctx, "", "migrate"); err != nil {
		return err
	}
	for i, name := range brandNames {
		if _, err := b.spotcheck(ctx, "", "brand", "add", "--name", name, "--rights-holder", brandHolders[i]); err != nil {
			return err
		}
	}
	if _, err := b.spotcheck(ctx, password+"\n", "user", "add", "--email", adminEmail, "--name", "Bench Admin", "--role", "admin"); err != nil {
		return err
	}
	if _, err := b.spotcheck(ctx, password+"\n", "user", "add", "--email", staffEmail, "--name", "Bench Staff", "--role", "staff"); err != nil {
		return err
	}
	out, err := b.spotcheck(ctx, "", "token", "create", "--name", "bench-risk-model")
	if err != nil {
		return err
	}
	b.secret = strings.TrimSpace(out)
	if !strings.HasPrefix(b.secret, "sc_") {
		return fmt.Errorf("token create printed %q, not a token", out)
	}

	cfg, err := pgxpool.ParseConfig(b.dbURL)
	if err != nil {
		return err
	}
	cfg.MaxConns = 6
	if b.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return err
	}
	for _, name := range brandNames {
		var id int64
		if err := b.pool.QueryRow(ctx, "SELECT id FROM brands WHERE name = $1", name).Scan(&id); err != nil {
			return fmt.Errorf("brand %s: %w", name, err)
		}
		b.brandIDs = append(b.brandIDs, id)
	}
	for _, email := range []string{adminEmail, staffEmail} {
		var id int64
		if err := b.pool.QueryRow(ctx, "SELECT id FROM users WHERE email = $1", email).Scan(&id); err != nil {
			return fmt.Errorf("user %s: %w", email, err)
		}
		b.users = append(b.users, id)
	}
	fmt.Printf("\n== Setup ==\n  spotcheck migrate; brand add ×%d; user add (admin, staff; password on stdin); token create: %s\n",
		len(brandNames), time.Since(t).Round(time.Millisecond))
	return nil
}

// startServer runs `spotcheck serve` on a free loopback port and waits
// for /readyz.
func (b *bench) startServer(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	b.addr = ln.Addr().String()
	if err := ln.Close(); err != nil {
		return err
	}
	logPath := filepath.Join(b.dataDir, "server.log")
	logFile, err := os.Create(logPath) // #nosec G304 -- logPath is a fixed name in the bench's own temporary data folder
	if err != nil {
		return err
	}
	cmd := exec.Command(b.o.bin, "serve") // #nosec G204 -- b.o.bin is the spotcheck binary the operator named with -bin
	cmd.Env = append(append([]string{}, b.env...), "SPOTCHECK_ADDR="+b.addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return errors.Join(err, logFile.Close())
	}
	b.server = cmd
	exited := make(chan error, 1)
	go func() { err := cmd.Wait(); exited <- errors.Join(err, logFile.Close()) }()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := client.Get("http://" + b.addr + "/readyz")
		if err == nil {
			if cerr := res.Body.Close(); cerr == nil && res.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			b.server = nil
			return fmt.Errorf("spotcheck serve exited: %v\n%s", err, tail(logPath, 20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("spotcheck serve not ready after 60 s\n%s", tail(logPath, 20))
		}
	}
	b.serverExited = exited
	fmt.Printf("  spotcheck serve: pid %d on %s (SPOTCHECK_LOG_LEVEL=warn; log %s)\n", cmd.Process.Pid, b.addr, "kept in a temporary folder")
	return nil
}

func (b *bench) stopServer() {
	if b.server == nil {
		return
	}
	_ = b.server.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-b.serverExited:
		if err != nil {
			fmt.Printf("\nspotcheck serve exited after SIGTERM with: %v\n", err)
		}
	case <-time.After(40 * time.Second):
		_ = b.server.Process.Kill()
		fmt.Printf("\nspotcheck serve did not stop in 40 s after SIGTERM and was killed (%v)\n", <-b.serverExited)
	}
	if errs := grepLines(filepath.Join(b.dataDir, "server.log"), `"level":"ERROR"`, 5); len(errs) > 0 {
		fmt.Printf("\nthe server logged errors; the first ones:\n  %s\n", strings.Join(errs, "\n  "))
	}
	b.server = nil
}

// grepLines returns the first n lines of a file that contain substr.
func grepLines(path, substr string, n int) []string {
	var out []string
	for _, l := range logLines(path) {
		if len(out) == n {
			break
		}
		if strings.Contains(l, substr) {
			if len(l) > 400 {
				l = l[:400] + "…"
			}
			out = append(out, l)
		}
	}
	return out
}

func tail(path string, n int) string {
	lines := logLines(path)
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// logLines reads the server's log as lines; a log that cannot be read
// gives none: these lines only decorate a report.
func logLines(path string) []string {
	b, err := os.ReadFile(path) // #nosec G304 -- path is the bench's own server log
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}
