package flag

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// ImportArgs asks for an uploaded CSV to be imported.
type ImportArgs struct {
	ImportID int64 `json:"import_id"`
}

func (ImportArgs) Kind() string { return "flags.import" }

// InsertOpts keep one import from running twice at once.
func (ImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ImportWorker runs ImportArgs.
type ImportWorker struct {
	river.WorkerDefaults[ImportArgs]
	Flags    *Service
	Location *time.Location // the platform's zone, for times written without one
}

// Timeout: a 100,000-row file takes well under a minute; allow for big ones.
func (w *ImportWorker) Timeout(*river.Job[ImportArgs]) time.Duration { return 30 * time.Minute }

// Work is safe to rerun: the job is unique by its import, a done or failed
// import is left as it is, a rerun resumes after the last recorded batch,
// and a flag is keyed by (source, external_id), so a row sent again is a
// duplicate, not a second flag.
// On the last attempt a failure is recorded on the import, so that staff
// see it failed, and why, instead of an import "running" for ever.
func (w *ImportWorker) Work(ctx context.Context, j *river.Job[ImportArgs]) error {
	err := w.Flags.RunImport(ctx, j.Args.ImportID, w.Location)
	if err == nil || j.Attempt < j.MaxAttempts {
		return err
	}
	why := fmt.Sprintf("the import failed %d times; the last error: %v", j.Attempt, err)
	if ferr := w.Flags.failImport(context.WithoutCancel(ctx), j.Args.ImportID, why); ferr != nil {
		return errors.Join(err, ferr)
	}
	return err
}
