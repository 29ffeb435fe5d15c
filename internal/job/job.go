// Package job runs Spotcheck's background work on River, in the same
// database as everything else, so every replica shares one queue and a job
// caused by a write is committed or rolled back with that write.
package job

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"gorm.io/gorm"

	"spotcheck/internal/database"
)

// Queue is the River client shared by the web tier and the workers.
type Queue struct {
	client *river.Client[*sql.Tx]
}

// Config says which workers and periodic jobs this process runs.
type Config struct {
	Workers  *river.Workers
	Periodic []*river.PeriodicJob
	Logger   *slog.Logger
	// Work is false for processes that only insert jobs (the command line).
	Work bool
	// PollInterval is how often idle workers look for jobs (default 1 s;
	// SQLite has no LISTEN/NOTIFY, so polling is how they learn of new ones).
	PollInterval time.Duration
}

// New builds a queue on db. With Work set, Start runs the workers.
func New(db *database.DB, c Config) (*Queue, error) {
	var driver riverdriver.Driver[*sql.Tx]
	if db.Dialect == database.Postgres {
		driver = riverdatabasesql.New(db.SQL)
	} else {
		driver = riversqlite.New(db.SQL)
	}
	rc := &river.Config{Logger: c.Logger, Workers: c.Workers, PeriodicJobs: c.Periodic}
	if c.Work {
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}}
		rc.FetchPollInterval = time.Second
		if c.PollInterval > 0 {
			rc.FetchPollInterval = c.PollInterval
			rc.FetchCooldown = min(c.PollInterval, 100*time.Millisecond)
		}
	}
	if rc.Logger == nil {
		rc.Logger = slog.New(slog.DiscardHandler)
	}
	client, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{client: client}, nil
}

// Start runs the workers until Stop.
func (q *Queue) Start(ctx context.Context) error { return q.client.Start(ctx) }

// Stop lets running jobs finish (bounded by ctx) and stops the workers.
// The jobs still running when ctx ends are cancelled and given a few
// seconds to return: a cancelled job is recorded as failed for now and
// retried by the next process, where one left running when the process
// exits would wait for River's rescuer (an hour) before anyone retried it.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if err == nil || ctx.Err() == nil {
		return err
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelGrace)
	defer cancel()
	if cerr := q.client.StopAndCancel(cctx); cerr != nil {
		return errors.Join(err, cerr)
	}
	return nil
}

// cancelGrace is how long cancelled jobs have to return (and River to
// record them) at shutdown.
const cancelGrace = 5 * time.Second

// InsertTx enqueues a job inside the GORM transaction tx: it exists only if
// tx commits.
func (q *Queue) InsertTx(ctx context.Context, tx *gorm.DB, args river.JobArgs) error {
	sqlTx, err := database.SQLTx(tx)
	if err != nil {
		return err
	}
	_, err = q.client.InsertTx(ctx, sqlTx, args, nil)
	return err
}

// Client exposes River for tests and subscriptions.
func (q *Queue) Client() *river.Client[*sql.Tx] { return q.client }
