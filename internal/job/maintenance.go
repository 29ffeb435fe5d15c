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

// ReplayPurger deletes stored API answers older than a retention.
type ReplayPurger interface {
	PurgeReplays(ctx context.Context, olderThan time.Duration) (int64, error)
}

// ReplayRetention is how long an Idempotency-Key's answer is kept: long
// enough for any client's retries.
const ReplayRetention = 24 * time.Hour

// PurgeWorker runs PurgeArgs.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	Purger  Purger
	Replays ReplayPurger // may be nil
	Logger  *slog.Logger
}

// Work is safe to rerun as it stands: it deletes what has expired, and a
// second run finds nothing more to delete.
func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	f, s, err := w.Purger.PurgeExpired(ctx)
	if err != nil {
		return err
	}
	var r int64
	if w.Replays != nil {
		if r, err = w.Replays.PurgeReplays(ctx, ReplayRetention); err != nil {
			return err
		}
	}
	if w.Logger != nil {
		w.Logger.InfoContext(ctx, "purged expired records", "login_failures", f, "sessions", s, "idempotency_keys", r)
	}
	return nil
}

// PurgeEvery schedules PurgeArgs.
func PurgeEvery(d time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(d),
		func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
