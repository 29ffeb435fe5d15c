package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/riverqueue/river"

	"spotcheck/internal/bundle"
	"spotcheck/internal/config"
	"spotcheck/internal/deadline"
	"spotcheck/internal/evidence"
	flagging "spotcheck/internal/flag"
	"spotcheck/internal/job"
	"spotcheck/internal/notify"
	"spotcheck/internal/stats"
	"spotcheck/web"
)

// serve runs until SIGINT or SIGTERM, then stops taking connections, lets
// requests in flight finish (bounded), stops the workers and returns.
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) (err error) {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	a, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, a.close()) }()

	mailer, err := notify.NewMailer(cfg.SMTPURL, cfg.MailFrom, baseURL(cfg))
	if err != nil {
		return err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &job.PurgeWorker{Purger: a.users, Replays: a.flags, Logger: logger})
	river.AddWorker(workers, &flagging.ImportWorker{Flags: a.flags, Location: cfg.Location})
	notifier := &notify.Worker{DB: a.db, Mailer: mailer, Logger: logger}
	river.AddWorker(workers, notifier)
	river.AddWorker(workers, &notify.MailWorker{DB: a.db, Mailer: mailer, Logger: logger})
	river.AddWorker(workers, &bundle.Worker{DB: a.db, Store: a.evidence, Logger: logger})
	river.AddWorker(workers, &evidence.IntegrityWorker{Checker: &evidence.Checker{DB: a.db, Store: a.evidence, Logger: logger}})
	sweeper := &deadline.Sweeper{DB: a.db, Logger: logger}
	river.AddWorker(workers, &deadline.SweepWorker{Sweeper: sweeper})
	river.AddWorker(workers, &stats.RollWorker{Roller: &stats.Roller{DB: a.db}})
	queue, err := job.New(a.db, job.Config{Workers: workers, Logger: logger, Work: true,
		Periodic: []*river.PeriodicJob{job.PurgeEvery(10 * time.Minute), evidence.IntegrityEvery(24 * time.Hour),
			deadline.SweepEvery(5 * time.Minute), stats.RollEvery(time.Minute)}})
	if err != nil {
		return err
	}
	notifier.Queue, sweeper.Queue = queue, queue
	if err := queue.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}

	e := web.New(web.Deps{Config: cfg, SessionStore: a.db.Sessions(), Ready: a.db.Ping, Clock: a.db, Users: a.users, Brands: a.brands, Cases: a.cases, Flags: a.flags,
		Shops: a.shops, Tokens: a.tokens, Jobs: queue, Logger: logger,
		Purchases: a.purchases, Evidence: a.evidence, Notifications: a.notifications, Verdicts: a.verdicts,
		Enforcement: a.enforcement, Sharing: a.sharing, Bundles: a.bundles, Deadlines: a.deadlines, Stats: a.stats, Network: a.network})
	srv := web.HTTPServer(cfg.Addr, e)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	logger.Info("serving", "addr", ln.Addr().String(), "database", string(a.db.Dialect))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	serr := srv.Shutdown(sctx)
	qerr := queue.Stop(sctx)
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if serr != nil || qerr != nil {
		return errors.Join(serr, qerr)
	}
	logger.Info("stopped")
	return nil
}

// baseURL is where links in e-mails point.
func baseURL(cfg config.Config) string {
	if cfg.BaseURL == nil {
		return "http://localhost" + cfg.Addr
	}
	return strings.TrimSuffix(cfg.BaseURL.String(), "/")
}
