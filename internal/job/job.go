// Package job runs Spotcheck's background work on River, in the same
// database as everything else, so every replica shares one queue and a job
// caused by a write is committed or rolled back with that write.
package job

import (
	"context"
	"database/sql"
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
func (q *Queue) Stop(ctx context.Context) error { return q.client.Stop(ctx) }

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
