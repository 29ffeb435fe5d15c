package job

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// PurgeArgs asks for expired sessions and old sign-in failures to be
// deleted. It runs every ten minutes on one replica.
type PurgeArgs struct{}

func (PurgeArgs) Kind() string { return "maintenance.purge" }

// Purger is what the purge job calls; the user service provides it.
type Purger interface {
	PurgeExpired(ctx context.Context) (failures, sessions int64, err error)
}

// PurgeWorker runs PurgeArgs.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	Purger Purger
	Logger *slog.Logger
}

func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	f, s, err := w.Purger.PurgeExpired(ctx)
	if err != nil {
		return err
	}
	if w.Logger != nil {
		w.Logger.InfoContext(ctx, "purged expired records", "login_failures", f, "sessions", s)
	}
	return nil
}

// PurgeEvery schedules PurgeArgs.
func PurgeEvery(d time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(d),
		func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
