// Command spotcheck is Spotcheck's one binary: the web server and workers,
// migrations, demo data and administration from the shell.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	_ "time/tzdata" // time zones work on machines without a zoneinfo database

	"golang.org/x/term"

	"spotcheck/internal/audit"
	"spotcheck/internal/brand"
	"spotcheck/internal/bundle"
	"spotcheck/internal/casework"
	"spotcheck/internal/clock"
	"spotcheck/internal/config"
	"spotcheck/internal/database"
	"spotcheck/internal/deadline"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/evidence"
	flagging "spotcheck/internal/flag"
	"spotcheck/internal/job"
	"spotcheck/internal/network"
	"spotcheck/internal/notify"
	"spotcheck/internal/password"
	"spotcheck/internal/purchase"
	"spotcheck/internal/sharing"
	"spotcheck/internal/shop"
	"spotcheck/internal/stats"
	"spotcheck/internal/token"
	"spotcheck/internal/user"
	"spotcheck/internal/verdict"
)

const usage = `spotcheck — case work against counterfeit goods

Usage:
  spotcheck serve                      run the web server and background workers
  spotcheck migrate [status]           apply pending migrations, or list them
  spotcheck demo                       load the demo data set (idempotent) and print its accounts
  spotcheck user add --email E --name N --role R [--brand B]...
  spotcheck user disable --email E
  spotcheck user passwd --email E      (reads the new password from the terminal or stdin)
  spotcheck brand add --name N [--rights-holder H] [--contact C]
  spotcheck token create --name N      make an API token for a risk system (shown once)
  spotcheck token list | revoke --id I
  spotcheck audit verify               check the audit chain
  spotcheck bundle write --case SC-… --out FILE.zip [--lang zh] [--unredacted --reason "court order …"]
  spotcheck bundle verify FILE.zip     check an evidence bundle against its manifest

Configuration comes from the environment; see README.md.
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "spotcheck:", err)
		os.Exit(1)
	}
}

// say writes a command's output; a write that fails (a closed pipe, a full
// disk) fails the command, so a script never takes lost output for success.
func say(w io.Writer, format string, args ...any) error {
	_, err := fmt.Fprintf(w, format, args...)
	return err
}

// errUsage means the command line was wrong; the usage text was printed.
var errUsage = errors.New("see usage above")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		return say(stdout, "%s", usage)
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	logger := newLogger(cfg, stderr)
	ctx = audit.WithOrigin(ctx, audit.Origin{ActorRole: "cli", ClientIP: "local"})
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, logger)
	case "migrate":
		return migrate(ctx, cfg, args[1:], stdout)
	case "demo":
		return withApp(ctx, cfg, func(a *app) error { return loadDemo(ctx, cfg, a, args[1:], stdout, stderr) })
	case "user":
		return withApp(ctx, cfg, func(a *app) error { return userCmd(ctx, a, args[1:], stdin, stdout, stderr) })
	case "brand":
		return withApp(ctx, cfg, func(a *app) error { return brandCmd(ctx, a, args[1:], stdout, stderr) })
	case "audit":
		return withApp(ctx, cfg, func(a *app) error { return auditCmd(ctx, a, args[1:], stdout, stderr) })
	case "token":
		return withApp(ctx, cfg, func(a *app) error { return tokenCmd(ctx, a, args[1:], stdout, stderr) })
	case "bundle":
		return bundleCmd(ctx, cfg, args[1:], stdout, stderr)
	}
	return errors.Join(fmt.Errorf("unknown command %q", args[0]), say(stderr, "%s", usage))
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// app is the wiring shared by every subcommand that touches the database.
type app struct {
	db     *database.DB
	users  *user.Service
	brands *brand.Service
	cases  *casework.Service
	flags  *flagging.Service
	shops  *shop.Service
	tokens *token.Service

	jobs          *job.Queue // inserts only; `serve` runs the workers
	evidence      *evidence.Store
	purchases     *purchase.Service
	notifications *notify.Service
	verdicts      *verdict.Service
	enforcement   *enforcement.Service
	sharing       *sharing.Service
	bundles       *bundle.Service
	deadlines     *deadline.Service
	stats         *stats.Reader
	network       *network.Service
}

func (a *app) close() error {
	var err error
	if a.evidence != nil {
		err = a.evidence.Bucket.Close()
	}
	return errors.Join(err, a.db.Close())
}

// dbLimits are the configured limits of the app's PostgreSQL sessions.
func dbLimits(cfg config.Config) database.Limits {
	return database.Limits{Statement: cfg.DBStatementTimeout, Lock: cfg.DBLockTimeout, IdleInTransaction: cfg.DBIdleInTxTimeout}
}

func openApp(ctx context.Context, cfg config.Config) (*app, error) {
	db, err := database.Open(ctx, cfg.DatabaseURL, cfg.SQLitePath(), dbLimits(cfg))
	if err != nil {
		return nil, err
	}
	// The program's one clock: services, the functions handed a
	// transaction and GORM's stamps all read it through db.
	db.UseClock(clock.Real)
	db.UseZone(cfg.Location)
	if err := db.Migrate(ctx); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	hasher := password.NewHasher(password.Default, cfg.MaxHashes)
	jobs, err := job.New(db, job.Config{})
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	bucket, err := evidence.OpenBucket(ctx, cfg.EvidenceURL())
	if err != nil {
		return nil, errors.Join(fmt.Errorf("evidence storage: %w", err), db.Close())
	}
	store := &evidence.Store{Bucket: bucket, MaxSize: cfg.MaxUpload}
	purchases := purchase.NewService(db, jobs, cfg.RotationWindow, cfg.Location)
	key, err := network.LoadKey(cfg.IdentifierKey, cfg.DataDir)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("identifier key: %w", err), db.Close())
	}
	flags := flagging.NewService(db, cfg.AutoOpenScore)
	flags.UseIdentifiers(key, network.Matching{MaxImageDistance: cfg.ImageHashDistance}, jobs)
	return &app{
		jobs:          jobs,
		evidence:      store,
		purchases:     purchases,
		sharing:       sharing.NewService(db, store, purchases),
		bundles:       bundle.NewService(db, store, jobs),
		deadlines:     deadline.NewService(db),
		stats:         stats.NewReader(db),
		notifications: notify.NewService(db),
		verdicts:      verdict.NewService(db, jobs),
		enforcement:   enforcement.NewService(db, jobs, thresholds(cfg), cfg.Location),
		db:            db,
		users:         user.NewService(db, hasher, user.Limits{MaxFailures: cfg.LoginMaxFails, Window: cfg.LoginWindow}),
		brands:        brand.NewService(db),
		cases:         casework.NewService(db),
		flags:         flags,
		network:       network.NewService(db),
		shops:         shop.NewService(db),
		tokens:        token.NewService(db),
	}, nil
}

// thresholds are the configured prosecution thresholds, in fen.
func thresholds(cfg config.Config) enforcement.Thresholds {
	return enforcement.Thresholds{Sold: int64(cfg.ThresholdSold) * 100, Unsold: int64(cfg.ThresholdUnsold) * 100,
		Combined: int64(cfg.ThresholdCombined) * 100}
}

func withApp(ctx context.Context, cfg config.Config, fn func(*app) error) (err error) {
	a, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, a.close()) }()
	return fn(a)
}

func migrate(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) (err error) {
	db, err := database.Open(ctx, cfg.DatabaseURL, cfg.SQLitePath(), database.Limits{})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	if len(args) > 0 && args[0] == "status" {
		return db.MigrationStatus(ctx, stdout)
	}
	if len(args) > 0 {
		return fmt.Errorf("migrate: unknown argument %q (want nothing or status)", args[0])
	}
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := say(stdout, "migrations applied\n"); err != nil {
		return err
	}
	return db.MigrationStatus(ctx, stdout)
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
