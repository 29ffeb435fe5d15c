package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/riverqueue/river"

	"spotcheck/internal/config"
	flagging "spotcheck/internal/flag"
	"spotcheck/internal/job"
	"spotcheck/web"
)

// serve runs until SIGINT or SIGTERM, then stops taking connections, lets
// requests in flight finish (bounded), stops the workers and returns.
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	a, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.db.Close()

	workers := river.NewWorkers()
	river.AddWorker(workers, &job.PurgeWorker{Purger: a.users, Replays: a.flags, Logger: logger})
	river.AddWorker(workers, &flagging.ImportWorker{Flags: a.flags})
	queue, err := job.New(a.db, job.Config{Workers: workers, Periodic: []*river.PeriodicJob{job.PurgeEvery(10 * time.Minute)},
		Logger: logger, Work: true})
	if err != nil {
		return err
	}
	if err := queue.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}

	e := web.New(web.Deps{Config: cfg, DB: a.db, Users: a.users, Brands: a.brands, Cases: a.cases, Flags: a.flags,
		Shops: a.shops, Tokens: a.tokens, Jobs: queue, Logger: logger})
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
